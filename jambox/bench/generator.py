"""Generator figures: what a step costs (now and after an hour), and how the accompaniment sounds in
numbers: does the kick land with the bass, is there a backbeat, where are the keys, do the controls
move what they should.

The input is the bundled demo riff (E minor, 100 bpm, 2 bars) as the listener would report it, so
the figures are reproducible; the model is the shipped one.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from jambox.controls.state import ControlState
from jambox.events import Heard, Note, PlayedNote

SR = 48000
HOP = 256


class DemoRiff:
    """The demo riff looped, reported hop by hop as the listener would (notes once heard)."""

    def __init__(self, bpm: float = 100.0):
        from jambox.demo_riff import RIFF

        self.beat = 60.0 * SR / bpm
        self.step = self.beat / 4
        self.loop = 32 * self.step
        self.riff = [(s, length, p, v) for s, length, p, v in RIFF]
        self.bpm = bpm

    def notes(self, start: float, end: float) -> list[Note]:
        out = []
        for k in range(max(0, int(start // self.loop) - 1), int(end // self.loop) + 1):
            for s, length, p, v in self.riff:
                t = int(round(k * self.loop + s * self.step))
                if start <= t < end:
                    out.append(Note(t, p, v, t + 2400, t + int(length * self.step * 0.9)))
        return out

    def heard(self, now: int) -> Heard:
        notes = tuple(n for n in self.notes(max(0.0, now - 2 * self.loop), now) if n.emitted_at <= now)
        bar = 4 * self.beat
        return Heard(sample_rate=SR, tempo_bpm=self.bpm, beat_period=self.beat, beat_phase=int(now // self.beat * self.beat),
                     downbeat=int(now // bar * bar), meter=(4, 4), meter_confidence=1.0, key_tonic=4, key_mode="minor",
                     loop_bars=2, loop_start=0, section_start=0, tempo_confidence=1.0,
                     last_onset=notes[-1].onset if notes else None, notes=notes)


def play(model, controls: ControlState, bars: int, seed: int = 1, riff: DemoRiff | None = None,
         timings: list[float] | None = None) -> tuple[list[PlayedNote], DemoRiff]:
    """Drive a fresh generator over ``bars`` bars after two bars of listening."""
    from jambox.generate import Generator

    riff = riff or DemoRiff()
    g = Generator(model, SR, seed)
    start, end = int(8 * riff.beat), int((2 + bars) * 4 * riff.beat)
    out: list[PlayedNote] = []
    for now in range(start, end, HOP):
        h = riff.heard(now)
        t0 = time.perf_counter()
        before = g.steps_planned
        notes = g.plan(h, controls, now, now + HOP + int(2 * riff.step))
        if timings is not None and g.steps_planned > before:
            timings.append((time.perf_counter() - t0) / (g.steps_planned - before))
        out += notes
    return out, riff


def musical_figures(notes: list[PlayedNote], riff: DemoRiff, start: float, end: float) -> dict:
    from jambox.generate.tension import group_attacks, harmonic_tension

    bars = (end - start) / (4 * riff.beat)
    bass = riff.notes(start, end)
    bass_steps = {round(n.onset / riff.step) for n in bass}
    drums = [n for n in notes if n.part == "drums" and start <= n.time < end]
    keys = [n for n in notes if n.part == "keys" and start <= n.time < end]
    kicks = [n for n in drums if n.pitch == 36]
    snares = [n for n in drums if n.pitch == 38]
    kick_steps = {round(n.time / riff.step) for n in kicks}
    snare_pos = [round(n.time / riff.step) % 16 for n in snares]
    attacks = group_attacks(keys)
    changes, on_bass = 0, 0
    previous: frozenset[int] | None = None
    for attack in attacks:
        pcs = frozenset(n.pitch % 12 for n in attack)
        if previous is not None and pcs != previous:
            changes += 1
            step = round(attack[0].time / riff.step)
            on_bass += step in bass_steps or step % 4 == 0
        previous = pcs
    loops = []
    for k in range(int(start // riff.loop), int(end // riff.loop)):
        a, b = k * riff.loop, (k + 1) * riff.loop
        if a >= start and b <= end:
            loops.append({(round((n.time - a) / riff.step), n.pitch) for n in drums if a <= n.time < b})
    similarity = [len(x & y) / max(1, len(x | y)) for x, y in zip(loops, loops[1:])]
    return {
        "drum_loop_to_loop_similarity": round(float(np.mean(similarity)), 3) if similarity else None,
        "drum_hits_per_bar": round(len(drums) / bars, 2),
        "drum_mean_velocity": round(float(np.mean([n.velocity for n in drums])), 1) if drums else None,
        "kicks_on_bass_onsets": round(len(kick_steps & bass_steps) / max(1, len(kick_steps)), 3),
        "bass_onsets_with_kick": round(len(kick_steps & bass_steps) / max(1, len(bass_steps)), 3),
        "snares_on_2_and_4": round(sum(p in (4, 12) for p in snare_pos) / max(1, len(snare_pos)), 3),
        "hat_or_ride_per_bar": round(sum(n.pitch in (42, 46, 51) for n in drums) / bars, 2),
        "keys_attacks_per_bar": round(len(attacks) / bars, 2),
        "keys_notes_per_attack": round(len(keys) / max(1, len(attacks)), 2),
        "keys_range": [min(n.pitch for n in keys), max(n.pitch for n in keys)] if keys else None,
        "keys_tension": round(harmonic_tension(keys, bass, 4, "minor"), 3),
        "keys_changes_per_bar": round(changes / bars, 2),
        "keys_changes_on_bass_onsets_or_beats": round(on_bass / max(1, changes), 3),
        "keys_lowest_above_bass_highest": (min(n.pitch for n in keys) - max(n.pitch for n in bass)) if keys and bass else None,
    }


def soundfont_loudness(soundfont: str = "/usr/share/sounds/sf2/FluidR3_GM.sf2") -> dict:
    """RMS over 300 ms of one hit of each drum voice and of a 3-note electric piano chord, all at
    velocity 100, relative to the snare: where generator.LOUDNESS comes from."""
    from jambox.generate.features import DRUM_PITCHES, DRUM_VOICES
    from jambox.perform.fluid import FluidSynth

    def rms(channel: int, program: int, pitches) -> float:
        synth = FluidSynth(soundfont, SR, gain=0.5, reverb=False)
        try:
            synth.program(channel, program)
            for p in pitches:
                synth.note_on(channel, p, 100)
            return float(np.sqrt(np.mean(synth.render(int(0.3 * SR)).mean(axis=1) ** 2)))
        finally:
            synth.close()

    snare = rms(9, 0, [38])
    out = {name: round(rms(9, 0, [p]) / snare, 2) for name, p in zip(DRUM_VOICES, DRUM_PITCHES)}
    out["keys_ep_chord"] = round(rms(0, 4, [52, 55, 59]) / snare, 2)
    return out


def run(quick: bool = False) -> dict:
    from jambox.generate import load_model

    model = load_model(None)
    bars = 8 if quick else 32
    riff = DemoRiff()
    start, end = 3 * 4 * riff.beat, (2 + bars) * 4 * riff.beat
    timings: list[float] = []
    notes, _ = play(model, ControlState(), bars, timings=timings)
    figures: dict = {"model": str(model.path), "bars": bars}
    ms = np.array(timings) * 1e3
    figures["step_ms_p50"] = round(float(np.percentile(ms, 50)), 3)
    figures["step_ms_p99"] = round(float(np.percentile(ms, 99)), 3)
    figures["step_ms_max"] = round(float(ms.max()), 3)
    figures["step_budget_ms"] = round(1e3 * riff.step / SR, 1)  # a 16th at 100 bpm: the time a step may take
    figures.update({f"default_{k}": v for k, v in musical_figures(notes, riff, start, end).items()})
    for d in (0.0, 0.5, 1.0):
        n, _ = play(model, ControlState(dissonance=d), bars)
        figures[f"keys_tension_at_dissonance_{d:g}"] = musical_figures(n, riff, start, end)["keys_tension"]
    for e in (0.2, 1.0):
        n, _ = play(model, ControlState(energy=e), bars)
        m = musical_figures(n, riff, start, end)
        figures[f"drum_hits_per_bar_at_energy_{e:g}"] = m["drum_hits_per_bar"]
        figures[f"drum_mean_velocity_at_energy_{e:g}"] = m["drum_mean_velocity"]
    for su in (0.0, 1.0):
        n, _ = play(model, ControlState(surprise=su), bars)
        figures[f"drum_loop_to_loop_similarity_at_surprise_{su:g}"] = \
            musical_figures(n, riff, start, end)["drum_loop_to_loop_similarity"]
    for busy in (0.2, 1.0):
        n, _ = play(model, ControlState(taste=(0.6, busy, 0.3)), bars)
        figures[f"hat_or_ride_per_bar_at_busyness_{busy:g}"] = musical_figures(n, riff, start, end)["hat_or_ride_per_bar"]
    for kd in (0.1, 0.6):
        n, _ = play(model, ControlState(taste=(0.6, 0.65, kd)), bars)
        figures[f"keys_attacks_per_bar_at_keys_density_{kd:g}"] = musical_figures(n, riff, start, end)["keys_attacks_per_bar"]
    n, _ = play(model, replace(ControlState(), voice_levels=(("snare", 0.6),)), bars)
    snare = [x.velocity for x in n if x.pitch == 38 and x.part == "drums" and start <= x.time < end]
    figures["snare_mean_velocity_after_two_softer"] = round(float(np.mean(snare)), 1) if snare else None
    figures["snare_mean_velocity_default"] = round(float(np.mean(
        [x.velocity for x in notes if x.pitch == 38 and x.part == "drums" and start <= x.time < end] or [0])), 1)
    if not quick:
        figures["soundfont_loudness_vs_snare"] = soundfont_loudness()
    if not quick:  # an hour of steps: the cost must not grow
        late: list[float] = []
        riff_hour = DemoRiff()
        from jambox.generate import Generator

        g = Generator(model, SR, 2)
        steps_per_hour = int(3600 * SR / riff_hour.step)
        now = int(8 * riff_hour.beat)
        c = ControlState()
        while g.steps_planned < steps_per_hour:
            h = riff_hour.heard(now)
            t0 = time.perf_counter()
            before = g.steps_planned
            g.plan(h, c, now, now + int(64 * riff_hour.step))  # big look-ahead: many steps per call
            if g.steps_planned - before and g.steps_planned > steps_per_hour - 2000:
                late.append((time.perf_counter() - t0) / (g.steps_planned - before))
            now += int(64 * riff_hour.step)
        figures["step_ms_p50_after_an_hour"] = round(float(np.percentile(np.array(late) * 1e3, 50)), 3)
    return figures
