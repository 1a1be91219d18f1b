"""The runtime generator.

The mechanics (grid stepping, timing, the bass input, keeping a pattern) are checked first with a
StepModel-shaped object of fixed rules, where the right answer is known exactly; everything about
what the controls do is checked on the real shipped model.
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from jambox.controls.state import ControlState
from jambox.errors import ValueRangeError
from jambox.events import DRUM_CHANNEL, Heard, Note, PlayedNote
from jambox.generate import features as F
from jambox.generate.generator import Generator
from jambox.generate.model import StepOutputs, load_model
from jambox.generate.tension import harmonic_tension

SR = 48000
BPM = 120.0
BEAT = 60.0 * SR / BPM  # 24000 samples
STEP = BEAT / 4
BAR = 4 * BEAT
# A 2-bar E minor riff: (16th step in the loop, MIDI pitch)
RIFF = ((0, 40), (3, 40), (6, 43), (8, 45), (10, 40), (12, 47), (16, 40), (19, 40), (22, 43), (24, 45), (28, 38))
LOOP_STEPS = 32


def swung(step_in_beat: int, swing: float) -> float:
    """How late a player who swings puts a 16th of the beat (the off-beat 8th at ``swing`` of the beat)."""
    f = step_in_beat / 4
    warped = f / 0.5 * swing if f < 0.5 else swing + (f - 0.5) / 0.5 * (1 - swing)
    return (warped - f) * BEAT


class Riff:
    """A bass riff as the listener reports it: notes known once heard, the grid, the loop."""

    def __init__(self, riff=RIFF, loop_steps=LOOP_STEPS, key=(4, "minor"), swing=0.5, offset_ms=0.0, loop=True):
        self.riff, self.loop_steps, self.key, self.swing, self.offset_ms, self.loop = \
            riff, loop_steps, key, swing, offset_ms, loop

    def notes(self, start: float, end: float) -> list[Note]:
        out = []
        first = int(start // (self.loop_steps * STEP)) - 1
        for k in range(max(first, 0), int(end // (self.loop_steps * STEP)) + 1):
            for s, p in self.riff:
                t = int(round((k * self.loop_steps + s) * STEP + swung(s % 4, self.swing)))
                if start <= t < end:
                    out.append(Note(t, p, 96, t + 2400, t + int(1.5 * STEP)))
        return out

    def heard(self, now: int) -> Heard:
        loop_len = self.loop_steps * STEP
        notes = tuple(n for n in self.notes(max(0.0, now - 2 * loop_len), now) if n.emitted_at <= now)
        last_beat = int(now // BEAT * BEAT)
        return Heard(
            sample_rate=SR, tempo_bpm=BPM, beat_period=BEAT, beat_phase=last_beat,
            downbeat=int(now // BAR * BAR), meter=(4, 4), meter_confidence=1.0,
            key_tonic=self.key[0], key_mode=self.key[1],
            loop_bars=2 if self.loop else None, loop_start=0 if self.loop else None,
            section_start=0 if self.loop else None, swing=self.swing, offset_ms=self.offset_ms,
            tempo_confidence=1.0, last_onset=notes[-1].onset if notes else None, notes=notes,
        )


def run(gen: Generator, riff: Riff, controls, start: float, end: float, hop: int = 256, ahead: int = 2,
        on_hop=None) -> list[PlayedNote]:
    """Drive the generator as the chain does: one plan call per hop, planning ``ahead`` steps."""
    out = []
    for now in range(int(start), int(end), hop):
        heard = riff.heard(now)
        c = controls(now) if callable(controls) else controls
        if on_hop is not None:
            on_hop(now, heard)
        out += gen.plan(heard, c, now, now + hop + int(ahead * STEP))
    return out


class RuleModel:
    """StepModel-shaped, with fixed rules: kick with the bass, snare on 2 and 4, hats on 8ths, keys on
    beats with the tonic chord. Unit tests of the mechanics only; it records the inputs it is given."""

    def __init__(self):
        self.drum_inputs: list[np.ndarray] = []

    def reset_state(self):
        self.drum_inputs.clear()

    def get_state(self):
        return (np.zeros((1, 1), np.float32), np.zeros((1, 1), np.float32))

    def set_state(self, s):
        pass

    def step(self, drum_x, harm_x):
        d, h = drum_x.reshape(-1), harm_x.reshape(-1)
        self.drum_inputs.append(d.copy())
        sib = int(np.argmax(d[F.POS_STEP_IN_BEAT]))
        beat = int(np.argmax(d[F.POS_BEAT_IN_BAR]))
        hit = np.full(F.N_DRUMS, -12.0, np.float32)
        hit[F.KICK] = 12.0 if d[F.D_BASS_ONSET] > 0 else -12.0
        hit[F.SNARE] = 12.0 if beat in (1, 3) and sib == 0 else -12.0
        hit[F.CLOSED_HAT] = 12.0 if sib in (0, 2) else -12.0
        chord = np.full(F.N_CHORDS, -20.0, np.float32)
        chord[F.chord_index(0, 1 if h[F.H_MINOR] > 0 else 0)] = 20.0
        return StepOutputs(hit, np.full(F.N_DRUMS, 0.7, np.float32), np.zeros(F.N_DRUMS, np.float32), chord,
                           np.zeros(F.N_VOICINGS, np.float32), 12.0 if sib == 0 else -12.0, 0.6)


@pytest.fixture
def rules():
    return Generator(RuleModel(), SR, seed=1, keys_channel=2)


@pytest.fixture(scope="module")
def model():
    return load_model(None)  # the shipped int8 model


def drums(notes, pitch=None):
    return [n for n in notes if n.part == "drums" and (pitch is None or n.pitch == pitch)]


def keys(notes):
    return [n for n in notes if n.part == "keys"]


# -- mechanics (rule model) ---------------------------------------------------------------------
def test_every_step_is_planned_once_ahead_of_time_and_never_in_the_past(rules):
    notes = run(rules, Riff(), ControlState(), 4 * BAR, 6 * BAR)
    assert rules.steps_planned == 32 + 2  # two bars, plus the two steps planned ahead
    hats = drums(notes, 42)
    assert [n.time for n in hats] == [int(4 * BAR + i * 2 * STEP) for i in range(len(hats))]
    assert all(n.time >= n.planned_at for n in notes)
    assert all(n.time - n.planned_at <= 3 * STEP for n in notes)  # planned only a few steps ahead


def test_channels_pitches_and_the_keys_register(rules):
    notes = run(rules, Riff(), ControlState(), 4 * BAR, 6 * BAR)
    assert {n.channel for n in drums(notes)} == {DRUM_CHANNEL}
    assert {n.pitch for n in drums(notes)} <= set(F.DRUM_PITCHES)
    k = keys(notes)
    assert k and {n.channel for n in k} == {2}
    assert all(48 <= n.pitch <= 72 for n in k)
    assert {n.pitch % 12 for n in k} <= {4, 7, 11}  # E minor, the tonic chord the rules ask for


def test_the_kick_follows_the_riff_predicted_one_loop_ahead(rules):
    notes = run(rules, Riff(), ControlState(), 4 * BAR, 6 * BAR)
    expected = sorted(int(round(4 * BAR + s * STEP)) for s, _ in RIFF)
    assert [n.time for n in drums(notes, 36) if n.time < 6 * BAR] == expected  # every bass onset, nothing else


def test_a_swung_riff_is_read_on_the_swung_grid_and_answered_there(rules):
    notes = run(rules, Riff(swing=0.62), ControlState(), 4 * BAR, 6 * BAR)
    expected = sorted(int(round(4 * BAR + s * STEP + swung(s % 4, 0.62))) for s, _ in RIFF)
    assert [n.time for n in drums(notes, 36) if n.time < 6 * BAR] == expected


def test_without_a_loop_the_future_bass_is_unknown():
    m = RuleModel()
    g = Generator(m, SR, seed=1)
    run(g, Riff(loop=False), ControlState(), 4 * BAR, 5 * BAR)
    assert all(x[F.D_BASS_KNOWN] == 0.0 for x in m.drum_inputs)
    m2 = RuleModel()
    run(Generator(m2, SR, seed=1), Riff(), ControlState(), 4 * BAR, 5 * BAR)
    assert all(x[F.D_BASS_KNOWN] == 1.0 for x in m2.drum_inputs)


def test_swing_delays_the_off_beat_eighths_and_the_players_offset_moves_everything():
    straight = run(Generator(RuleModel(), SR, 1), Riff(), ControlState(), 4 * BAR, 5 * BAR)
    swung = run(Generator(RuleModel(), SR, 1), Riff(swing=0.62), ControlState(), 4 * BAR, 5 * BAR)
    late = run(Generator(RuleModel(), SR, 1), Riff(offset_ms=10.0), ControlState(), 4 * BAR, 5 * BAR)
    for a, b in zip(drums(straight, 42), drums(swung, 42)):
        on_beat = (a.time - 4 * BAR) % BEAT == 0
        assert b.time - a.time == (0 if on_beat else round(0.12 * BEAT))
    assert {b.time - a.time for a, b in zip(drums(straight), drums(late))} == {480}


def test_stopped_plans_nothing_and_reset_starts_over(rules):
    assert run(rules, Riff(), ControlState(playing=False), 4 * BAR, 5 * BAR) == []
    run(rules, Riff(), ControlState(), 4 * BAR, 5 * BAR)
    rules.reset()
    assert rules.steps_planned == 0
    notes = run(rules, Riff(), ControlState(), 9 * BAR, 9 * BAR + BEAT)
    assert notes and min(n.time for n in notes) >= 9 * BAR


def test_a_silent_part_plays_nothing(rules):
    notes = run(rules, Riff(), ControlState(keys_level=0.0), 4 * BAR, 6 * BAR)
    assert drums(notes) and not keys(notes)
    notes = run(rules, Riff(), ControlState(drums_level=0.0), 6 * BAR, 8 * BAR)
    assert keys(notes) and not drums(notes)


def test_a_bad_keys_channel_or_variation_is_named():
    with pytest.raises(ValueRangeError, match="keys channel"):
        Generator(RuleModel(), SR, 1, keys_channel=DRUM_CHANNEL)
    with pytest.raises(ValueRangeError, match="variation must be one of"):
        Generator(RuleModel(), SR, 1).offer_variation("solo", 0, 10)


# -- the real model ------------------------------------------------------------------------------
def test_a_seed_plays_the_same_notes_again_and_another_seed_does_not(model):
    a = run(Generator(model, SR, 5), Riff(), ControlState(), 4 * BAR, 8 * BAR)
    b = run(Generator(model, SR, 5), Riff(), ControlState(), 4 * BAR, 8 * BAR)
    c = run(Generator(model, SR, 6), Riff(), ControlState(), 4 * BAR, 8 * BAR)
    assert a == b and a != c
    assert drums(a) and keys(a)


def tension_of(model, controls: ControlState, seed: int = 3, bars: int = 8) -> float:
    riff = Riff()
    notes = run(Generator(model, SR, seed), riff, controls, 4 * BAR, (4 + bars) * BAR)
    return harmonic_tension(keys(notes), riff.notes(4 * BAR, (4 + bars) * BAR), 4, "minor")


def test_dissonance_raises_the_keys_tension_monotonically(model):
    levels = [0.0, 0.25, 0.5, 0.75, 1.0]
    tensions = [np.mean([tension_of(model, ControlState(dissonance=d), seed) for seed in (1, 2, 3, 4)]) for d in levels]
    assert all(b > a for a, b in zip(tensions, tensions[1:])), tensions
    assert tensions[-1] - tensions[0] > 0.15


def test_phrase_ends_resolve_unless_the_tension_is_held(model):
    riff = Riff()

    def phrase_end_vs_rest(hold: bool) -> tuple[float, float]:
        notes = run(Generator(model, SR, 4), riff, ControlState(dissonance=0.8, hold_tension=hold), 4 * BAR, 16 * BAR)
        k = keys(notes)
        bass = riff.notes(4 * BAR, 16 * BAR)
        phrase = 4 * BAR
        end = [n for n in k if (n.time % phrase) >= phrase - BAR / 2]
        rest = [n for n in k if BAR / 2 <= (n.time % phrase) < phrase - BAR / 2]
        return harmonic_tension(end, bass, 4, "minor"), harmonic_tension(rest, bass, 4, "minor")

    free_end, free_rest = phrase_end_vs_rest(False)
    held_end, held_rest = phrase_end_vs_rest(True)
    assert free_end < 0.7 * free_rest  # resolves toward consonance
    assert held_end > 0.8 * held_rest  # held: no falling back
    assert held_end > free_end


def density_and_velocity(notes) -> tuple[int, float]:
    return len(notes), float(np.mean([n.velocity for n in notes])) if notes else 0.0


@pytest.mark.parametrize("control, part", [
    ("energy", "drums"), ("energy", "keys"), ("drums_level", "drums"), ("keys_level", "keys"),
    ("level", "drums"), ("level", "keys"),
])
def test_lowering_energy_or_a_level_thins_and_softens_the_part(model, control, part):
    def play(value):
        c = replace(ControlState(), **{control: value})
        notes = run(Generator(model, SR, 7), Riff(), c, 4 * BAR, 12 * BAR)
        return density_and_velocity([n for n in notes if n.part == part])

    loud_n, loud_v = play(0.9)
    soft_n, soft_v = play(0.3)
    assert soft_n < loud_n and soft_v < loud_v - 5


def test_a_voice_trim_pulls_back_that_voice_only(model):
    def play(trims):
        notes = run(Generator(model, SR, 8), Riff(), ControlState(voice_levels=trims), 4 * BAR, 12 * BAR)
        return {p: density_and_velocity(drums(notes, p)) for p in (36, 38)}

    full = play(())
    trimmed = play((("snare", 0.4),))
    assert trimmed[38][0] <= full[38][0] and trimmed[38][1] < full[38][1] - 10
    # the kick is not pulled back (it may play a little differently: the nets hear what was played)
    assert trimmed[36][1] > full[36][1] - 6 and trimmed[36][0] >= 0.8 * full[36][0]


def test_keep_repeats_the_loop_with_small_human_variation_and_survives_json(model):
    g = Generator(model, SR, 9)
    riff = Riff()
    run(g, riff, ControlState(), 4 * BAR, 8 * BAR)
    pattern = json.loads(json.dumps(g.current_pattern(riff.heard(int(8 * BAR)))))
    assert pattern["loop_steps"] == LOOP_STEPS
    g.hold_pattern(pattern, riff.heard(int(8 * BAR)))
    notes = run(g, riff, ControlState(), 8 * BAR, 14 * BAR)
    loops = [[n for n in drums(notes) if 8 * BAR + i * 2 * BAR + BEAT <= n.time < 8 * BAR + (i + 1) * 2 * BAR]
             for i in range(3)]

    def grid(ns, start):
        return {(round((n.time - start) / STEP), n.pitch) for n in ns}

    first = grid(loops[0], 8 * BAR)
    assert first
    for i, loop in enumerate(loops[1:], start=1):
        again = grid(loop, 8 * BAR + i * 2 * BAR)
        assert len(first & again) >= 0.85 * len(first)  # the same pattern (ghost notes may come and go)
    v0 = sorted(n.velocity for n in loops[0])
    v1 = sorted(n.velocity for n in loops[1])
    assert v0 != v1  # not a frozen loop: a human plays it a little differently each time
    g.hold_pattern(None)
    assert not g.holding


def play_variation(model, kind: str, seed: int, generator: Generator | None = None):
    g = generator or Generator(model, SR, seed)

    def offer(now, heard):
        if now == int(6 * BAR):  # a bar ahead, as the session offers it: before its steps are planned
            g.offer_variation(kind, int(7 * BAR), int(8 * BAR))

    return run(g, Riff(), ControlState(), 4 * BAR, 9 * BAR, on_hop=offer)


def test_a_fill_builds_on_snare_and_toms_and_lands_on_a_crash(model):
    fill_hits, plain_hits, crashes = 0, 0, 0
    for seed in (1, 2, 3):
        notes = play_variation(model, "fill", seed)
        drum_notes = drums(notes)
        fill_hits += sum(n.pitch in (38, 45, 47, 50) for n in drum_notes if 7.5 * BAR <= n.time < 8 * BAR)
        plain_hits += sum(n.pitch in (38, 45, 47, 50) for n in drum_notes if 5.5 * BAR <= n.time < 6 * BAR)
        crashes += any(n.pitch == 49 and abs(n.time - 8 * BAR) < STEP for n in drum_notes)
    assert fill_hits > 1.5 * plain_hits
    assert crashes == 3


def test_a_break_leaves_space_then_comes_back_on_the_downbeat(model):
    notes = play_variation(model, "break", 1)
    assert not [n for n in drums(notes) if 7 * BAR <= n.time < 8 * BAR - STEP]
    assert {36, 49} <= {n.pitch for n in drums(notes) if abs(n.time - 8 * BAR) < STEP}
    assert len({n.time for n in keys(notes) if 7 * BAR + STEP <= n.time < 8 * BAR}) == 0


def test_a_chord_substitution_changes_the_harmony_for_its_bar_only(model):
    g = Generator(model, SR, 1)
    notes = play_variation(model, "substitution", 1, generator=g)

    def pcs(a, b):
        return {n.pitch % 12 for n in keys(notes) if a <= n.time < b}

    assert pcs(7 * BAR, 8 * BAR) != pcs(5 * BAR, 6 * BAR)  # the same place in the loop, one loop before
    assert g.variation is None  # over with its bar


def test_odd_meters_a_meter_change_and_an_unknown_key_play_on(model):
    g = Generator(model, SR, 2)
    riff = Riff()
    notes = run(g, riff, ControlState(), 4 * BAR, 6 * BAR)
    eighth = BEAT / 2

    def seven_eight(now):
        return replace(riff.heard(now), meter=(7, 8), beat_period=eighth, downbeat=int(6 * BAR), key_tonic=None,
                       loop_bars=None, loop_start=None)

    later = []
    for now in range(int(6 * BAR), int(6 * BAR + 4 * 7 * eighth), 256):
        later += g.plan(seven_eight(now), ControlState(), now, now + 256 + int(2 * STEP))
    times = [n.time for n in notes + later]
    assert later and min(n.time for n in later) >= 6 * BAR - 2 * STEP
    assert all(n.time >= n.planned_at for n in notes + later) and times
    bar_steps = {round((n.time - 6 * BAR) / STEP) % 14 for n in drums(later) if n.pitch == 36}
    assert bar_steps  # the kick still plays, on the 14-step bar
    assert all(48 <= n.pitch <= 72 for n in keys(later))  # keys from a guessed key (the riff's notes)


def test_silence_no_grid_and_no_notes_plan_nothing_or_drums_only(model):
    g = Generator(model, SR, 2)
    assert g.plan(Heard(sample_rate=SR), ControlState(), 0, 10_000) == []
    no_anchor = Heard(sample_rate=SR, tempo_bpm=BPM, beat_period=BEAT)
    assert g.plan(no_anchor, ControlState(), 0, 10_000) == []
    empty = Heard(sample_rate=SR, tempo_bpm=BPM, beat_period=BEAT, beat_phase=0, downbeat=0)
    notes = []
    for now in range(0, int(2 * BAR), 256):
        notes += g.plan(empty, ControlState(), now, now + 256 + int(2 * STEP))
    assert not keys(notes)  # no key and no notes to guess one from: the keys wait
    with pytest.raises(ValueRangeError, match="beat period"):
        g.plan(replace(empty, beat_period=float("nan")), ControlState(), int(2 * BAR), int(3 * BAR))


def test_the_tflite_backend_drives_the_same_generator():
    tfl = load_model(None, backend="tflite")
    notes = run(Generator(tfl, SR, 5), Riff(), ControlState(), 4 * BAR, 6 * BAR)
    assert drums(notes) and keys(notes)
    assert {n.pitch for n in drums(notes)} <= set(F.DRUM_PITCHES)


def test_the_taste_for_keys_density_sets_how_often_the_keys_comp(model):
    def attacks(density):
        c = ControlState(taste=(0.6, 0.65, density))
        notes = run(Generator(model, SR, 3), Riff(), c, 4 * BAR, 12 * BAR)
        return len({n.time for n in keys(notes) if n.time >= 6 * BAR})

    sparse, busy = attacks(0.1), attacks(0.6)
    assert busy > 2 * sparse > 0


def test_the_taste_for_busyness_sets_how_much_the_hats_and_ride_keep_time(model):
    def keepers(busyness):
        c = ControlState(taste=(0.6, busyness, 0.3))
        notes = run(Generator(model, SR, 3), Riff(), c, 4 * BAR, 12 * BAR)
        return len([n for n in drums(notes) if n.pitch in (42, 46, 51) and n.time >= 6 * BAR])

    assert keepers(1.0) > 2 * keepers(0.2) > 0


def test_surprise_loosens_how_closely_each_loop_repeats_the_last(model):
    def similarity(surprise):
        notes = run(Generator(model, SR, 4), Riff(), ControlState(surprise=surprise), 4 * BAR, 14 * BAR)
        loops = [{(round((n.time - a) / STEP), n.pitch) for n in drums(notes) if a <= n.time < a + 2 * BAR}
                 for a in (6 * BAR, 8 * BAR, 10 * BAR, 12 * BAR)]
        return np.mean([len(x & y) / len(x | y) for x, y in zip(loops, loops[1:])])

    assert similarity(0.0) > similarity(1.0) + 0.1


def test_a_chord_never_rings_on_into_the_next_one(model):
    from jambox.generate.tension import group_attacks

    notes = run(Generator(model, SR, 2), Riff(), ControlState(), 4 * BAR, 16 * BAR)
    attacks = group_attacks(keys(notes))
    changes = [(a, b) for a, b in zip(attacks, attacks[1:])
               if {n.pitch % 12 for n in a} != {n.pitch % 12 for n in b}]  # another chord, not a re-voicing
    assert changes
    assert all(max(n.time + n.duration for n in a) <= b[0].time for a, b in changes)
