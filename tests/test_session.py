"""The session: what each piece of feedback does, heard through the real generator and model, with
no memory and with a real SQLite state file in a temp dir."""

from __future__ import annotations

import bisect
from dataclasses import replace
from functools import lru_cache

import numpy as np
import pytest

from jambox.config import load_config
from jambox.controls.actions import Action
from jambox.errors import ConfigError
from jambox.events import Heard, Note, PlayedNote
from jambox.generate import Generator, load_model
from jambox.generate.generator import DEFAULT_TASTE, TASTE_FIELDS
from jambox.memory import Memory
from jambox.session import Session

SR = 48000
BEAT = 24000.0  # 120 bpm
STEP = BEAT / 4
BAR = 4 * BEAT
PHRASE = 2 * BAR * 2  # a 2-bar riff phrases in 4 bars
RIFF = ((0, 40), (3, 40), (6, 43), (8, 45), (10, 40), (12, 47), (16, 40), (19, 40), (22, 43), (24, 45), (28, 38))
OTHER_RIFF = ((0, 45), (4, 45), (8, 52), (14, 50), (16, 45), (20, 45), (24, 43), (28, 40))


@lru_cache(maxsize=None)
def _riff_notes(riff, section_start: int, loops: int = 200) -> tuple[list[int], list[Note]]:
    loop_len = 32 * STEP
    notes = [Note(t, p, 96, t + 2400, t + int(1.5 * STEP))
             for k in range(loops) for s, p in riff if (t := int(round(k * loop_len + s * STEP))) >= section_start]
    return [n.emitted_at for n in notes], notes


def heard_at(now: int, riff=RIFF, section_start: int = 0, key_tonic: int = 4) -> Heard:
    """What the listener reports at ``now``: the last two loops of notes it has heard, the grid, the loop."""
    emitted, all_notes = _riff_notes(riff, section_start)
    hi = bisect.bisect_right(emitted, now)
    lo = bisect.bisect_left(emitted, now - 2 * 32 * STEP + 2400)
    notes = tuple(all_notes[lo:hi])
    return Heard(sample_rate=SR, tempo_bpm=120.0, beat_period=BEAT, beat_phase=int(now // BEAT * BEAT),
                 downbeat=int(now // BAR * BAR), meter=(4, 4), meter_confidence=1.0, key_tonic=key_tonic, key_mode="minor",
                 loop_bars=2, loop_start=section_start, section_start=section_start, tempo_confidence=1.0,
                 last_onset=notes[-1].onset if notes else None, notes=notes)


class Jam:
    """The chain's logic loop without audio: tick the session, apply due actions, plan ahead."""

    def __init__(self, session: Session, generator: Generator, riff=RIFF, section_start: int = 0, key_tonic: int = 4):
        self.session, self.generator = session, generator
        self.riff, self.section_start, self.key_tonic = riff, section_start, key_tonic
        self.now = 0
        self.played: list[PlayedNote] = []
        self.events: list[tuple[int, str]] = []
        self.effects: list[tuple[int, str]] = []

    def heard(self) -> Heard:
        return heard_at(self.now, self.riff, self.section_start, self.key_tonic)

    def until(self, t: float, actions: dict[float, str | Action] | None = None) -> "Jam":
        todo = sorted((actions or {}).items())
        while self.now < t:
            h = self.heard()
            while todo and todo[0][0] <= self.now:
                a = todo.pop(0)[1]
                a = a if isinstance(a, Action) else Action.make(a, source="test")
                self.effects.append((self.now, self.session.apply(a, self.now, h)))
            self.events += [(self.now, e) for e in self.session.tick(self.now, h)]
            self.played += self.generator.plan(h, self.session.controls(), self.now, self.now + 256 + int(2 * STEP))
            self.now += 256
        return self

    def notes(self, part: str, start: float, end: float, pitch: int | None = None) -> list[PlayedNote]:
        return [n for n in self.played if n.part == part and start <= n.time < end
                and (pitch is None or n.pitch == pitch)]


@pytest.fixture(scope="module")
def model():
    return load_model(None)


@pytest.fixture
def config():
    return load_config(search=[])


def jam(config, model, memory=None, seed=3, riff=RIFF, **controls) -> Jam:
    g = Generator(model, SR, seed)
    s = Session(config, memory, g)
    for name, value in controls.items():
        s.apply(Action.make("set", control=name, value=value), 0, heard_at(0))
    return Jam(s, g, riff)


# -- without memory --------------------------------------------------------------------------------
def test_controls_start_from_the_config_and_a_knob_takes_effect_at_the_next_step(config, model):
    j = jam(config, model)
    c = j.session.controls()
    assert (c.energy, c.dissonance, c.level) == (config.initial.energy, config.initial.dissonance, config.initial.level)
    j.until(4 * BAR)
    effect = j.session.apply(Action.make("set", control="drums_level", value=0.0), j.now, j.heard())
    assert effect == "drums_level 0.80 -> 0.00"
    t = j.now
    j.until(5 * BAR)
    assert not [n for n in j.notes("drums", t + 2 * STEP, 5 * BAR)]  # silent from the next unplanned step


def test_softer_pulls_back_the_most_prominent_voice_one_step_per_press(config, model):
    j = jam(config, model).until(6 * BAR)
    prom = j.generator.prominence()
    loudest = max(prom, key=prom.get)
    effect = j.session.apply(Action.make("softer"), j.now, j.heard())
    assert effect.startswith(f"{loudest} softer (1.0 -> 0.8)")
    assert j.session.controls().voice_level(loudest) == pytest.approx(0.8)
    again = j.session.apply(Action.make("softer"), j.now, j.heard())  # a quick second press: the next one, or
    second = again.split()[0]  # the same one if it still stands out, as it will sound now
    adjusted = dict(prom, **{loudest: prom[loudest] * 0.8 ** 1.6})
    assert second == max(adjusted, key=adjusted.get)


def test_softer_is_heard_as_fewer_and_softer_notes_of_that_voice(config, model):
    base = jam(config, model).until(12 * BAR)
    j = jam(config, model).until(4 * BAR)
    voice = j.session.apply(Action.make("softer"), j.now, j.heard()).split()[0]
    j.session.apply(Action.make("softer"), j.now + BAR, j.heard())
    j.until(12 * BAR)
    pitches = {"kick": 36, "snare": 38, "hihat": 42, "tom": 45, "crash": 49, "ride": 51}
    part, pitch = ("keys", None) if voice == "keys" else ("drums", pitches[voice])
    before = base.notes(part, 5 * BAR, 12 * BAR, pitch)
    after = j.notes(part, 5 * BAR, 12 * BAR, pitch)
    assert before and len(after) <= len(before)
    assert np.mean([n.velocity for n in after]) < np.mean([n.velocity for n in before]) - 5


def test_softer_all_lowers_the_whole_accompaniment(config, model):
    j = jam(config, model).until(2 * BAR)
    assert j.session.apply(Action.make("softer_all"), j.now, j.heard()) == "everything softer (level 0.80 -> 0.70)"
    assert j.session.controls().level == pytest.approx(0.7)


def test_more_dissonance_holds_until_resolve(config, model):
    j = jam(config, model).until(BAR)
    e1 = j.session.apply(Action.make("more_dissonance"), j.now, j.heard())
    j.session.apply(Action.make("more_dissonance"), j.now, j.heard())
    c = j.session.controls()
    assert e1 == "more dissonance (0.20 -> 0.35), held until resolve"
    assert c.dissonance == pytest.approx(0.5) and c.hold_tension
    e2 = j.session.apply(Action.make("resolve"), j.now, j.heard())
    c = j.session.controls()
    assert e2 == "resolved (dissonance 0.50 -> 0.20), hold released"
    assert c.dissonance == pytest.approx(0.2) and not c.hold_tension


def test_keep_locks_the_pattern_and_let_go_releases_it(config, model):
    j = jam(config, model, surprise=0.0).until(8 * BAR)
    effect = j.session.apply(Action.make("keep"), j.now, j.heard())
    assert effect == "kept drums and keys for this riff (32 steps)"
    assert j.generator.holding
    j.until(14 * BAR)
    one = {(round((n.time - 10 * BAR) / STEP), n.pitch) for n in j.notes("drums", 10 * BAR, 12 * BAR)}
    two = {(round((n.time - 12 * BAR) / STEP), n.pitch) for n in j.notes("drums", 12 * BAR, 14 * BAR)}
    assert one and len(one & two) >= 0.85 * len(one)
    assert j.session.apply(Action.make("let_go"), j.now, j.heard()) == "let go of the kept pattern"
    assert not j.generator.holding
    assert j.session.apply(Action.make("let_go"), j.now, j.heard()) == "nothing to let go"


def test_start_stop_join_now_and_tap_tempo(config, model):
    j = jam(config, model)
    h = j.heard()
    assert j.session.apply(Action.make("start_stop"), 0, h) == "stopped"
    assert not j.session.controls().playing
    assert j.session.apply(Action.make("join_now"), 10, h) == "joining at the next downbeat"
    c = j.session.controls()
    assert c.playing and c.join_now
    j.until(BAR)
    assert not j.session.controls().join_now  # it has come in: join_now is spent
    for i in range(4):
        effect = j.session.apply(Action.make("tap"), 100_000 + i * 24_000, h)
    assert effect == "tap tempo 120.0 bpm" and j.session.tap_tempo_bpm == 120.0


def run_until_suggestion(j: Jam, limit: float) -> int:
    while j.now < limit:
        j.until(j.now + BEAT)
        offered = [t for t, e in j.events if e.startswith("suggestion offered")]
        if offered:
            return offered[0]
    raise AssertionError(f"no suggestion offered in {limit / BAR:.0f} bars: {j.events}")


def test_a_suggestion_adopted_with_keep_becomes_part_of_the_kept_pattern(config, model):
    j = jam(config, model, surprise=1.0)
    t = run_until_suggestion(j, 40 * BAR)
    kind = j.generator.variation.kind
    boundary = j.generator.variation.end
    assert (boundary % PHRASE) == 0  # at a phrase boundary
    j.until(boundary - BEAT)
    assert j.session.suggestion_pending  # the LED is lit while it plays
    j.until(boundary + BEAT // 2)
    effect = j.session.apply(Action.make("keep"), j.now, j.heard())
    assert effect == f"suggestion adopted: {kind}"
    assert j.generator.holding and not j.session.suggestion_pending
    assert t < boundary
    # it recurs: the next loop plays the variation's bar again (small human variation aside)
    loop = 2 * BAR
    j.until(boundary + loop + BEAT)

    def heard_in(start, part):
        return {(round((n.time - start) / STEP), n.pitch) for n in j.notes(part, start, start + BAR)}

    part = "keys" if kind == "substitution" else "drums"
    tried, again = heard_in(boundary - BAR, part), heard_in(boundary - BAR + loop, part)
    assert tried
    assert len(tried ^ again) <= 0.2 * max(len(tried), 1) + 1


def test_a_suggestion_without_keep_is_let_go_after_a_bar(config, model):
    j = jam(config, model, surprise=1.0)
    run_until_suggestion(j, 40 * BAR)
    boundary = j.generator.variation.end
    j.until(boundary + BAR + BEAT)
    assert any(e.startswith("suggestion let go") for _, e in j.events)
    assert not j.session.suggestion_pending and not j.generator.holding


def test_no_suggestions_at_zero_surprise_or_when_switched_off(config, model, tmp_path):
    j = jam(config, model, surprise=0.0).until(24 * BAR)
    assert not [e for _, e in j.events if "suggestion" in e]
    (tmp_path / "jambox.toml").write_text("[controls]\nsuggestions = false\n")
    off = load_config(tmp_path / "jambox.toml")
    j = jam(off, model, surprise=1.0).until(24 * BAR)
    assert not [e for _, e in j.events if "suggestion" in e]


# -- with a real state file ------------------------------------------------------------------------
def test_actions_kept_patterns_and_suggestions_go_to_the_memory_and_the_riff_is_recalled(config, model, tmp_path):
    path = tmp_path / "state.db"
    with Memory.open(path) as memory:
        j = jam(config, model, memory=memory, surprise=0.0).until(8 * BAR)
        assert j.session.riff is not None  # fingerprinted once a loop was heard
        j.session.apply(Action.make("more_dissonance"), j.now, j.heard())
        j.session.apply(Action.make("keep"), j.now, j.heard())
        recalled = memory.recall(j.session.riff)
        assert set(recalled["parts"]) == {"drums", "keys"}
        assert "syncopation" in recalled["parts"]["drums"]["settings"]
        kinds = [a["kind"] for a in memory.export()["actions"]]
        assert kinds[-2:] == ["more_dissonance", "keep"]
    with Memory.open(path) as memory:  # a later session: the same riff brings back what was kept
        j = jam(config, model, memory=memory, seed=4, surprise=0.0).until(6 * BAR)
        assert any(e.startswith("recalled the kept drums and keys") for _, e in j.events)
        assert j.generator.holding
        c = j.session.controls()
        assert c.dissonance == pytest.approx(0.35) and c.hold_tension  # the settings it was kept with


def test_a_new_riff_lets_the_kept_pattern_go(config, model):
    j = jam(config, model, surprise=0.0).until(8 * BAR)
    j.session.apply(Action.make("keep"), j.now, j.heard())
    j.riff, j.section_start = OTHER_RIFF, int(8 * BAR)
    j.until(9 * BAR)
    assert any(e == "new riff: the kept pattern is let go" for _, e in j.events)
    assert not j.generator.holding


def test_the_listener_re_placing_the_section_start_a_little_is_not_a_new_riff(config, model):
    j = jam(config, model, surprise=0.0).until(8 * BAR)
    j.session.apply(Action.make("keep"), j.now, j.heard())
    for bar in range(9, 17):  # its tempo estimate settles: the start moves 3000 samples a bar, a quarter bar in all
        j.section_start -= 3000
        j.until(bar * BAR)
    assert j.generator.holding
    assert not [e for _, e in j.events if e.startswith("new riff")]


def test_a_failing_state_file_does_not_stop_the_music(config, model, tmp_path):
    memory = Memory.open(tmp_path / "state.db")
    j = jam(config, model, memory=memory).until(2 * BAR)
    memory.close()
    effect = j.session.apply(Action.make("softer_all"), j.now, j.heard())
    assert effect.endswith("(not saved: the state file failed)")
    assert j.session.controls().level == pytest.approx(0.7)
    j.until(4 * BAR)  # ticks keep going
    assert j.notes("drums", 2 * BAR, 4 * BAR)


def test_a_kind_of_suggestion_the_player_always_lets_go_is_tried_less(config, model, tmp_path):
    def fills_offered(memory) -> tuple[int, int]:
        j = jam(config, model, memory=memory, surprise=1.0).until(64 * BAR)
        offered = [e for _, e in j.events if e.startswith("suggestion offered")]
        return sum(e.endswith("fill") for e in offered), len(offered)

    with Memory.open(tmp_path / "fresh.db") as memory:
        fresh_fills, fresh_total = fills_offered(memory)
    with Memory.open(tmp_path / "told.db") as memory:
        for _ in range(30):
            memory.record_suggestion(None, "fill", False, {})
        told_fills, told_total = fills_offered(memory)
    assert fresh_total >= 5 and told_total == fresh_total
    assert told_fills < fresh_fills


def test_learned_taste_sets_where_the_controls_and_the_conditioning_start(config, model, tmp_path):
    path = tmp_path / "state.db"
    with Memory.open(path) as memory:  # a past session: the player turned energy down and kept sparse keys
        memory.record_action("set", source="test", stream_time=0, control="energy", value=0.2, effect="",
                             settings={"energy": 0.2, "playing": True, "meter": [4, 4], "tempo_bpm": 120.0}, riff=None)
        memory.save_kept(None, "keys", {}, {"energy": 0.2, "keys_density": 0.05})
        memory.end_session(stream_time=SR * 120)
    with Memory.open(path) as memory:
        j = jam(config, model, memory=memory)
        c = j.session.controls()
        assert c.energy < config.initial.energy - 0.1
        keys_density = dict(zip(TASTE_FIELDS, c.taste))["keys_density"]
        assert keys_density < DEFAULT_TASTE["keys_density"] - 0.05


def test_a_pattern_kept_in_one_key_comes_back_transposed_when_the_riff_is_played_in_another(config, model, tmp_path):
    path = tmp_path / "state.db"
    with Memory.open(path) as memory:
        j = jam(config, model, memory=memory, surprise=0.0).until(8 * BAR)
        j.session.apply(Action.make("keep"), j.now, j.heard())
        j.until(12 * BAR)
        kept_pcs = {n.pitch % 12 for n in j.notes("keys", 10 * BAR, 12 * BAR)}
    up_a_fourth = tuple((s, p + 5) for s, p in RIFF)  # the same riff in A minor
    with Memory.open(path) as memory:
        j = jam(config, model, memory=memory, seed=9, surprise=0.0)
        j.riff, j.key_tonic = up_a_fourth, 9
        j.until(12 * BAR)
        assert any(e.startswith("recalled the kept") for _, e in j.events)
        played = {n.pitch % 12 for n in j.notes("keys", 10 * BAR, 12 * BAR)}
        assert played == {(pc + 5) % 12 for pc in kept_pcs}


@pytest.mark.parametrize("kind", ["keep", "softer", "softer_all", "more_dissonance", "resolve", "let_go", "start_stop",
                                  "join_now", "tap"])
def test_every_action_works_before_anything_is_heard(config, model, kind):
    s = Session(config, None, Generator(model, SR, 1))
    effect = s.apply(Action.make(kind, source="test"), 0, Heard(sample_rate=SR))
    assert isinstance(effect, str) and effect
    assert s.tick(256, Heard(sample_rate=SR)) == []


def test_the_same_riff_heard_as_a_longer_loop_keeps_what_was_kept(config, model):
    j = jam(config, model, surprise=0.0).until(8 * BAR)
    j.session.apply(Action.make("keep"), j.now, j.heard())
    longer = heard_at  # the listener revises the loop to 4 bars (two copies of the riff)
    j.heard = lambda: replace(longer(j.now, j.riff, j.section_start, j.key_tonic), loop_bars=4)
    j.until(12 * BAR)
    assert j.generator.holding
    assert not [e for _, e in j.events if e.startswith("new riff")]


def test_no_suggestion_right_after_a_keep(config, model):
    j = jam(config, model, surprise=0.0).until(4 * BAR)
    assert j.session.apply(Action.make("keep"), j.now, j.heard()).startswith("kept")
    j.session.apply(Action.make("set", control="surprise", value=1.0), j.now, j.heard())
    j.until(4 * BAR + PHRASE)
    assert not [e for _, e in j.events if e.startswith("suggestion offered")]
    j.until(4 * BAR + 6 * PHRASE)
    assert [e for _, e in j.events if e.startswith("suggestion offered")]  # and then they come again


# -- suggestions as feedback that teaches the next session ----------------------------------------
def past_session_with_suggestions(path, adopted: bool | None, n: int = 8) -> None:
    """A session at surprise 0.8, 4/4 at 120 bpm, in which ``n`` fills were all kept (True), all let go with
    LET GO (False), or none was offered (None)."""
    settings = {"energy": 0.6, "surprise": 0.8, "playing": True, "meter": [4, 4], "tempo_bpm": 120.0}
    with Memory.open(path) as memory:
        memory.record_action("set", source="test", stream_time=0, control="surprise", value=0.8, effect="",
                             settings=settings, riff=None)
        for i in range(n if adopted is not None else 0):
            memory.record_suggestion(None, "fill", adopted, settings, how="keep" if adopted else "let_go")
        memory.end_session(stream_time=SR * 120)


def test_let_go_suggestions_start_the_next_session_less_surprising_and_with_fewer_of_that_kind(config, model, tmp_path):
    found = {}
    for name, adopted in (("let_go", False), ("none", None), ("kept", True)):
        path = tmp_path / f"{name}.db"
        past_session_with_suggestions(path, adopted)
        with Memory.open(path) as memory:
            j = jam(config, model, memory=memory).until(2 * BAR)  # the taste for 4/4 at 120 bpm is applied
            start_surprise = j.session.controls().surprise
            appetite = memory.taste((4, 4), 120.0).get("appetite_fill")
        with Memory.open(path) as memory:  # the player turns surprise up: how often is each kind tried?
            j = jam(config, model, memory=memory, surprise=1.0).until(64 * BAR)
            offered = [e for _, e in j.events if e.startswith("suggestion offered")]
        found[name] = (start_surprise, appetite, sum(e.endswith(": fill") for e in offered), len(offered))
    (s_go, a_go, f_go, n_go), (s_none, a_none, f_none, n_none), (s_kept, a_kept, f_kept, n_kept) = (
        found["let_go"], found["none"], found["kept"])
    assert s_go < s_none - 0.02 and s_kept > s_none + 0.02, found  # surprise: away from, toward what was tried
    assert a_none is None and a_go < 0.5 < a_kept, found  # the appetite for fills, in the taste
    assert n_go == n_none == n_kept >= 5, found
    assert f_go < f_none < f_kept, found


def test_softer_while_a_suggestion_plays_lets_it_go_and_the_memory_says_how(config, model, tmp_path):
    with Memory.open(tmp_path / "state.db") as memory:
        j = jam(config, model, memory=memory, surprise=1.0)
        run_until_suggestion(j, 40 * BAR)
        var = j.generator.variation
        j.until(var.start + 2 * STEP)
        assert j.session.suggestion_pending
        effect = j.session.apply(Action.make("softer"), j.now, j.heard())
        assert "softer" in effect and not j.session.suggestion_pending and j.generator.variation is None
        j.until(j.now + 256)
        assert any(e == f"suggestion let go: {var.kind} (pushed back with softer)" for _, e in j.events)
        [verdict] = memory.export()["suggestions"]
        assert (verdict["kind"], verdict["adopted"], verdict["how"]) == (var.kind, 0, "softer")


def test_softer_before_a_suggestion_starts_playing_does_not_let_it_go(config, model):
    j = jam(config, model, surprise=1.0)
    run_until_suggestion(j, 40 * BAR)
    assert j.now < j.generator.variation.start  # offered ahead of its first step
    j.session.apply(Action.make("softer"), j.now, j.heard())
    assert j.session.suggestion_pending


def test_the_suggestion_kinds_come_from_the_config_and_a_wrong_one_is_named(config, model, tmp_path):
    (tmp_path / "jambox.toml").write_text('[controls]\nsuggestion_kinds = "odd_bar"\n')
    only = load_config(tmp_path / "jambox.toml")
    j = jam(only, model, surprise=1.0).until(40 * BAR)
    offered = {e for _, e in j.events if e.startswith("suggestion offered")}
    assert offered == {"suggestion offered: odd_bar"}
    (tmp_path / "jambox.toml").write_text('[controls]\nsuggestion_kinds = "fill, odd-bar"\n')
    with pytest.raises(ConfigError, match="'odd-bar' is not a suggestion.*did you mean 'odd_bar'"):
        Session(load_config(tmp_path / "jambox.toml"), None, Generator(model, SR, 1))
