"""The Memory API as the session uses it, on a real SQLite file in a temp dir."""

import sqlite3

import pytest

from jambox.controls.state import ControlState
from jambox.errors import StateError
from jambox.memory import Memory
from jambox.memory.fingerprint import riff_fingerprint
from tests.memory.test_fingerprint import RIFF, notes

SR = 48000


def controls(**kw) -> dict:
    base = {"energy": 0.6, "dissonance": 0.2, "surprise": 0.3, "level": 0.8, "drums_level": 0.8,
            "keys_level": 0.7, "meter": [4, 4], "tempo_bpm": 100.0}
    return {**base, **kw}


def act(m: Memory, kind: str, t: float, riff=None, **settings) -> int:
    return m.record_action(kind, source="test", stream_time=int(t * SR), control=None, value=None,
                           effect=f"{kind} applied", settings=controls(**settings), riff=riff)


@pytest.fixture
def path(tmp_path):
    return tmp_path / "state.db"


def test_actions_are_numbered_committed_and_kept_across_opens(path):
    with Memory.open(path) as m:
        ids = [act(m, "softer", 1.0), act(m, "more_dissonance", 2.0, riff="r"),
               m.record_action("set", source="knob", stream_time=3 * SR, control="energy", value=0.3,
                               effect="energy 0.3", settings=controls(energy=0.3), riff=None)]
        assert ids == [1, 2, 3]
        # committed: another connection sees it before close
        other = sqlite3.connect(path)
        assert other.execute("SELECT COUNT(*) FROM actions").fetchone()[0] == 3
        other.close()
    with Memory.open(path) as m:
        exported = m.export()
    a = exported["actions"]
    assert [x["kind"] for x in a] == ["softer", "more_dissonance", "set"]
    assert a[2]["control"] == "energy" and a[2]["value"] == 0.3 and a[2]["stream_time"] == 3 * SR
    assert a[1]["riff"] == "r" and a[0]["settings"]["energy"] == 0.6 and a[0]["wall_time"] > 1e9
    [session] = exported["sessions"]
    assert session["ended_at"] is not None and session["folded"] == 1 and session["last_stream_time"] == 3 * SR


def test_sessions_start_explicitly_or_implicitly(path):
    with Memory.open(path) as m:
        sid = m.start_session({"source": "accompany", "sample_rate": SR})
        act(m, "keep", 1.0)
        m.end_session()
        act(m, "softer", 1.0)  # a new session, implicitly
        exported = m.export()
    assert [s["id"] for s in exported["sessions"]] == [sid, sid + 1]
    assert exported["sessions"][0]["info"] == {"source": "accompany", "sample_rate": SR}
    assert [x["session_id"] for x in exported["actions"]] == [sid, sid + 1]


def test_a_control_state_object_is_accepted_as_settings(path):
    with Memory.open(path) as m:
        m.record_action("softer", source="gpio", stream_time=10, control=None, value=None, effect="",
                        settings=ControlState(energy=0.4, voice_levels=(("kick", 0.5),)), riff=None)
        s = m.export()["actions"][0]["settings"]
    assert s["energy"] == 0.4 and s["voice_levels"] == [["kick", 0.5]]


def riff(transpose=0, bpm=100.0, variant=False):
    r = [(s + 1, p) if (variant and s == 10) else (s, p) for s, p in RIFF]
    ns, beat = notes(r, transpose=transpose, bpm=bpm)
    return riff_fingerprint(ns, beat, 2, (4, 4))


def test_recall_returns_the_latest_kept_pattern_per_part(path):
    r = riff()
    with Memory.open(path) as m:
        assert m.recall(r) is None
        m.save_kept(r, "drums", {"steps": [1, 0, 0, 0]}, controls(energy=0.5))
        m.save_kept(r, "drums", {"steps": [1, 0, 1, 0]}, controls(energy=0.4))
        m.save_kept(r, "keys", {"voicing": "m7"}, controls())
        m.save_kept(riff(variant=True) + "x", "drums", {"steps": [0]}, {})  # not a fingerprint: exact only
    with Memory.open(path) as m:  # a month later
        got = m.recall(riff(transpose=3, bpm=120.0))  # the same riff, in another key and tempo
    assert got["match"] == "exact" and got["similarity"] == 1.0 and got["riff"] == r
    assert got["parts"]["drums"]["pattern"] == {"steps": [1, 0, 1, 0]}
    assert got["parts"]["drums"]["settings"]["energy"] == 0.4
    assert got["parts"]["keys"]["pattern"] == {"voicing": "m7"}
    assert got["times_heard"] == 1


def test_recall_finds_a_riff_played_slightly_differently(path):
    with Memory.open(path) as m:
        m.save_kept(riff(), "keys", {"voicing": "sus"}, controls())
        got = m.recall(riff(variant=True))
        assert got is not None and got["match"] == "similar" and 0.75 <= got["similarity"] < 1.0
        assert got["riff"] == riff() and got["parts"]["keys"]["pattern"] == {"voicing": "sus"}
        other = notes([(0, 45), (4, 45), (8, 48), (12, 50), (16, 45), (20, 45), (24, 52), (28, 50)])
        assert m.recall(riff_fingerprint(other[0], other[1], 2, (4, 4))) is None
        assert m.recall("not-a-fingerprint") is None


def test_a_kept_part_let_go_is_no_longer_recalled(path):
    r = riff()
    with Memory.open(path) as m:
        m.save_kept(r, "drums", {"a": 1}, {})
        m.save_kept(r, "keys", {"b": 2}, {})
        assert m.let_go_kept(r, "drums") == 1
        assert set(m.recall(r)["parts"]) == {"keys"}
        assert m.let_go_kept(r) == 1
        assert m.recall(r) is None


def test_suggestions_adopted_and_let_go_are_counted(path):
    with Memory.open(path) as m:
        m.record_suggestion("r", "fill", True, controls())
        m.record_suggestion("r", "fill", False, controls())
        m.record_suggestion("r", "halftime", False, controls())
        rates = m.suggestion_rates()
    assert rates == {"fill": {"offered": 2, "adopted": 1, "rate": 0.5},
                     "halftime": {"offered": 1, "adopted": 0, "rate": 0.0}}


def test_session_state_round_trips_and_survives_a_restart(path):
    with Memory.open(path) as m:
        assert m.load_session_state() is None
        m.save_session_state({"controls": {"energy": 0.3}, "kept": ["drums"]})
        m.save_session_state({"controls": {"energy": 0.2}, "kept": ["drums"]})
    with Memory.open(path) as m:
        assert m.load_session_state() == {"controls": {"energy": 0.2}, "kept": ["drums"]}


def test_control_changes_are_buffered_then_written_with_the_next_commit(path):
    with Memory.open(path) as m:
        peek = sqlite3.connect(path)
        points = lambda: peek.execute("SELECT COUNT(*) FROM control_points").fetchone()[0]  # noqa: E731
        m.note_controls(controls(energy=0.5), 100)  # nothing written lately: at once
        assert points() == 1
        m.note_controls(controls(energy=0.5), 150)  # unchanged: not a new point
        m.note_controls(controls(energy=0.4), 200)
        m.note_controls(controls(energy=0.3), 250)
        assert points() == 1  # buffered
        act(m, "keep", 1.0)
        assert points() == 3  # rode along with the acknowledged write
        m.note_controls(controls(energy=0.2), SR * 2)
    assert points() == 4  # flushed at close
    peek.close()


def test_taste_moves_across_two_sessions_and_grows_confident(path):
    with Memory.open(path) as m:
        assert m.taste((4, 4), 100.0) == {"confidence": 0.0}
        m.note_controls(controls(), 0)
        for i in range(4):
            act(m, "softer_all", 10 + 2 * i, energy=0.6 - 0.1 * (i + 1), level=0.8 - 0.1 * (i + 1))
            act(m, "more_dissonance", 10.1 + 2 * i, energy=0.6 - 0.1 * (i + 1), level=0.8 - 0.1 * (i + 1),
                dissonance=0.2 + 0.15 * (i + 1))
        m.end_session(30 * SR)
        first = m.taste((4, 4), 100.0)
        assert first["energy"] < 0.45 and first["level"] < 0.65 and first["dissonance"] > 0.45
        assert first["surprise"] == pytest.approx(0.3)  # untouched controls are learned where they stayed
        assert 0.3 < first["confidence"] < 0.95
    with Memory.open(path) as m:
        m.note_controls(controls(energy=0.1, level=0.4, dissonance=0.9), 0)
        act(m, "softer", 20.0, energy=0.1, level=0.4, dissonance=0.9)
    with Memory.open(path) as m:
        second = m.taste((4, 4), 100.0)
        assert second["energy"] < first["energy"] and second["dissonance"] > first["dissonance"]
        assert second["confidence"] > first["confidence"]
        # another meter and tempo learns from the general profile, with less confidence
        elsewhere = m.taste((6, 8), 150.0)
        assert elsewhere["confidence"] < second["confidence"] and elsewhere["energy"] < 0.6


def test_a_session_left_open_by_a_dead_process_is_folded_on_the_next_open(path):
    m = Memory.open(path)
    act(m, "softer_all", 5.0, energy=0.2)
    m._conn.execute("UPDATE sessions SET owner = 'another-boot:1'")
    m._conn.close()  # the plug is pulled: no end_session, no close
    m._closed = True
    with Memory.open(path) as again:
        [session] = again.export()["sessions"]
        assert session["folded"] == 1 and session["ended_at"] is not None
        assert again.taste((4, 4), 100.0)["energy"] < 0.5


def test_a_session_a_live_memory_is_recording_is_not_folded_by_a_second_open(path):
    with Memory.open(path) as live:
        act(live, "keep", 1.0)
        with Memory.open(path) as reader:
            assert reader.export()["sessions"][0]["folded"] == 0
        act(live, "keep", 2.0)
    with Memory.open(path) as m:
        assert m.export()["sessions"][0]["folded"] == 1


def test_a_write_that_cannot_commit_raises_and_is_not_acknowledged(path):
    with Memory.open(path) as m:
        act(m, "keep", 1.0)
        m._conn.execute("PRAGMA query_only = ON")  # the disk refuses writes from here on
        with pytest.raises(StateError, match=str(path)):
            act(m, "softer", 2.0)
        assert m.problem and str(path) in m.problem
        m._conn.execute("PRAGMA query_only = OFF")
        assert len(m.export()["actions"]) == 1
        assert act(m, "softer", 3.0) == 2  # and it recovers when the disk does


def test_a_closed_memory_says_so(path):
    m = Memory.open(path)
    m.close()
    m.close()  # twice is fine
    with pytest.raises(StateError, match="closed"):
        act(m, "keep", 1.0)


def test_session_state_changes_are_coalesced_to_one_commit_per_interval(path):
    with Memory.open(path) as m:
        peek = sqlite3.connect(path)
        saved = lambda: peek.execute("SELECT state FROM session_state").fetchone()  # noqa: E731
        m.save_session_state({"bar": 1})  # nothing written lately: at once
        assert saved() == ('{"bar":1}',)
        m.save_session_state({"bar": 2})  # within the interval: waits
        m.save_session_state({"bar": 2})  # unchanged: nothing to do
        assert saved() == ('{"bar":1}',) and m.load_session_state() == {"bar": 2}
        m.flush()  # not due yet
        assert saved() == ('{"bar":1}',)
        act(m, "keep", 1.0)  # rides along with the next acknowledged write
        assert saved() == ('{"bar":2}',)
        m.save_session_state({"bar": 3})
        m.flush(force=True)
        assert saved() == ('{"bar":3}',)
        peek.close()


def test_recall_counts_a_riff_as_heard_again_in_a_later_session(path):
    r = riff()
    with Memory.open(path) as m:
        m.save_kept(r, "drums", {"a": 1}, {})
    with Memory.open(path) as m:
        m.start_session()
        assert m.recall(r)["times_heard"] == 1
    with Memory.open(path) as m:
        assert m.export()["riffs"][0]["times_heard"] == 2


def test_the_meter_and_tempo_taste_was_asked_for_decide_what_the_session_teaches(path):
    with Memory.open(path) as m:
        m.taste((3, 4), 70.0)  # the session asks, once the listener knows
        for i in range(4):
            m.record_action("softer", source="test", stream_time=i * SR, control=None, value=None, effect="",
                            settings={"energy": 0.2}, riff=None)  # settings that do not say meter or tempo
    with Memory.open(path) as m:
        assert m.export()["sessions"][0]["info"] == {"heard_meter": [3, 4], "heard_tempo_bpm": 70.0}
        waltz, other = m.taste((3, 4), 70.0), m.taste((4, 4), 120.0)
    assert waltz["energy"] == pytest.approx(0.2) and waltz["confidence"] > other["confidence"]


def test_a_full_disk_is_a_state_error_and_the_box_carries_on_when_space_returns(path):
    with Memory.open(path) as m:
        act(m, "keep", 1.0)
        pages = m._conn.execute("PRAGMA page_count").fetchone()[0]
        m._conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own way to make the disk full
        with pytest.raises(StateError, match="full"):
            for i in range(200):
                m.save_kept("r", "drums", {"pad": "x" * 4000}, {})
        assert "full" in m.problem
        m._conn.execute("PRAGMA max_page_count = 1073741823")
        assert act(m, "softer", 2.0) == 2
        assert m._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_keep_let_go_in_the_same_session_teaches_nothing(tmp_path):
    def session(path, let_go: bool):
        with Memory.open(path) as m:
            act(m, "keep", 1.0, energy=0.6)
            m.save_kept("r", "drums", {"a": 1}, controls(energy=0.0))
            if let_go:
                m.let_go_kept("r")
            act(m, "keep", 10.0, energy=0.6)
        with Memory.open(path) as m:
            return m.taste((4, 4), 100.0)["energy"]

    assert session(tmp_path / "kept.db", False) < 0.5
    assert session(tmp_path / "let-go.db", True) == pytest.approx(0.6)


def test_each_session_keeps_its_own_stream_time(path):
    with Memory.open(path) as m:  # jambox run: audio sessions one after another on one Memory
        act(m, "keep", 100.0)
        m.end_session()
        act(m, "keep", 5.0)
        m.end_session(20 * SR)
        sessions = m.export()["sessions"]
    assert [s["last_stream_time"] for s in sessions] == [100 * SR, 20 * SR]


def test_a_session_a_killed_process_left_open_is_resumable_a_clean_or_old_one_is_not(path):
    import os
    import signal

    state = {"settings": {"energy": 0.3, "dissonance": 0.5, "hold_tension": True}, "riff": "r", "holding": True}
    pid = os.fork()
    if pid == 0:  # a box that saves its state and is killed before it ends its session
        try:
            m = Memory.open(path)
            act(m, "softer", 0.5)
            m.save_session_state(state)  # written with the next acknowledged action, in its transaction
            act(m, "more_dissonance", 1.0)
        finally:
            os.kill(os.getpid(), signal.SIGKILL)
    os.waitpid(pid, 0)
    with Memory.open(path) as m:
        found = m.resumable_state(600.0)
        assert found["state"] == state and 0.0 <= found["age_s"] < 60.0
        assert m.resumable_state(0.0) is None  # resuming switched off
        assert m.resumable_state(found["age_s"] / 2 - 1.0) is None  # older than asked for
        m.save_session_state({"settings": {"energy": 0.9}})  # this session's own state: ends cleanly below
    with Memory.open(path) as m:
        assert m.resumable_state(600.0) is None  # a clean stop starts fresh
        assert m.load_session_state() == {"settings": {"energy": 0.9}}
