"""``jambox state show|export|reset`` on a real state file."""

import json
import subprocess
import sys

import pytest

from jambox.cli import main
from jambox.memory import Memory

SR = 48000


def settings(**kw):
    return {"energy": 0.6, "dissonance": 0.2, "surprise": 0.3, "level": 0.8, "meter": [4, 4], "tempo_bpm": 100.0, **kw}


@pytest.fixture
def state(tmp_path):
    path = tmp_path / "state.db"
    with Memory.open(path) as m:
        m.note_controls(settings(), 0)
        for i in range(4):
            s = settings(energy=0.5 - 0.1 * i, dissonance=0.3 + 0.1 * i)
            for kind in ("softer_all", "more_dissonance"):
                m.record_action(kind, source="events", stream_time=(10 + 2 * i) * SR, control=None, value=None,
                                effect="applied", settings=s, riff="riff-1")
        m.save_kept("riff-1", "drums", {"steps": [1, 0, 1, 0]}, settings(energy=0.3))
        m.record_suggestion("riff-1", "fill", False, settings())
    return path


def run(capsys, *argv) -> tuple[int, str, str]:
    rc = main(["state", *argv])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_show_says_in_plain_words_what_was_kept_asked_for_and_learned(state, capsys):
    rc, out, _ = run(capsys, "show", "--state", str(state))
    assert rc == 0
    assert str(state) in out
    assert "What you kept: 1 drums pattern" in out
    assert "What you asked for most:" in out and "more dissonance 4 times" in out and "softer (everything) 4 times" in out
    assert "Suggestion 'fill': adopted 0 of 1." in out
    assert "4/4, 80-105 bpm (1 session" in out and "overall" in out
    taste_line = [line for line in out.splitlines() if "4/4, 80-105 bpm" in line][0]
    energy = float(taste_line.split("energy ")[1].split(",")[0])
    assert energy < 0.5  # the player pulled it down, and the box learned that
    # show is the default action, and --state may come before it
    rc2, out2, _ = run(capsys, "--state", str(state))
    assert rc2 == 0 and out2 == out


def test_show_without_a_file_creates_nothing(tmp_path, capsys):
    rc, out, _ = run(capsys, "show", "--state", str(tmp_path / "none.db"))
    assert rc == 0 and "nothing to remember" in out and not (tmp_path / "none.db").exists()


def test_export_lists_every_action_as_json(state, capsys, tmp_path):
    rc, out, _ = run(capsys, "export", "--state", str(state))
    assert rc == 0
    data = json.loads(out)
    kinds = [a["kind"] for a in data["actions"]]
    assert kinds.count("softer_all") == 4 and kinds.count("more_dissonance") == 4
    assert data["kept"][0]["pattern"] == {"steps": [1, 0, 1, 0]} and data["schema_version"] == 3
    assert data["taste"] and data["sessions"][0]["folded"] == 1
    out_file = tmp_path / "export.json"
    rc, out, _ = run(capsys, "export", "--state", str(state), "--out", str(out_file))
    assert rc == 0 and "8 actions" in out
    assert json.loads(out_file.read_text())["actions"] == data["actions"]


def test_reset_asks_first_keeps_a_backup_then_forgets(state, capsys, monkeypatch):
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False, raising=False)
    rc, _, err = run(capsys, "reset", "--state", str(state))
    assert rc == 1 and "--yes" in err and "8 actions" in err
    with Memory.open(state) as m:
        assert len(m.export()["actions"]) == 8  # untouched

    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    rc, out, _ = run(capsys, "reset", "--state", str(state))
    assert rc == 1 and "Nothing changed" in out

    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    rc, out, _ = run(capsys, "reset", "--state", str(state))
    assert rc == 0 and "Backup:" in out
    [backup] = list(state.parent.glob("state.db.backup-*"))
    with Memory.open(state) as m:
        assert m.export()["actions"] == [] and m.taste((4, 4), 100.0) == {"confidence": 0.0}
    with Memory.open(backup) as b:
        assert len(b.export()["actions"]) == 8 and b.recall("riff-1")["parts"]["drums"]


def test_reset_yes_skips_the_question(state, capsys):
    rc, out, _ = run(capsys, "reset", "--yes", "--state", str(state))
    assert rc == 0 and "8 actions" in out


def test_an_unusable_state_path_is_one_clear_line(tmp_path):
    d = tmp_path / "adir"
    d.mkdir()
    out = subprocess.run([sys.executable, "-m", "jambox", "state", "export", "--state", str(d)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 6 and "Traceback" not in out.stderr
    assert str(d) in out.stderr and "is a directory" in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_knob_turns_are_counted_per_knob(tmp_path, capsys):
    path = tmp_path / "state.db"
    with Memory.open(path) as m:
        for i, control in enumerate(["energy", "energy", "energy", "dissonance"]):
            m.record_action("set", source="knob", stream_time=i * SR, control=control, value=0.1 * i, effect="",
                            settings=settings(), riff=None)
        m.record_action("keep", source="gpio", stream_time=9 * SR, control=None, value=None, effect="",
                        settings=settings(), riff=None)
    rc, out, _ = run(capsys, "show", "--state", str(path))
    assert rc == 0
    assert "What you asked for most: the energy knob 3 times, keep once, the tension knob once." in out
