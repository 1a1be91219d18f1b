"""The beat grid's phase: on the player's beats, steady or drifting, from onset trains of known timing."""

import numpy as np
import pytest

from jambox.config import load_config
from jambox.listen.offline import hear
from jambox.listen.tempo import BeatTracker
from jambox.listen.testclips import ClipSpec, render_clip

SR = 48000


def track(onsets: list[float], end: float) -> list[float]:
    """Beats (s) from onsets (s), each told to the grid 50 ms after it, as the note tracker does."""
    bt = BeatTracker(SR)
    beats, k = [], 0
    for now in range(256, int(end * SR), 256):
        while k < len(onsets) and int(onsets[k] * SR) + 2400 <= now:
            bt.add_onset(int(onsets[k] * SR), 1.0)
            k += 1
        beats += [t / SR for t, _ in bt.advance(now)]
    return beats


def drifting_beats(bpm: float, drift: float, n: int) -> np.ndarray:
    bpms = bpm * (1 + drift * np.arange(n) / n)
    return np.concatenate(([0.5], 0.5 + np.cumsum(60 / bpms[:-1])))


def signed_errors(beats, truth, after: float) -> np.ndarray:
    truth = np.asarray(truth)
    out = [b - truth[np.argmin(np.abs(truth - b))] for b in beats if b > after]
    return np.array(out)


@pytest.mark.parametrize("drift", [0.08, -0.08])
def test_the_grid_stays_on_the_beats_of_a_player_who_drifts_8_percent(drift):
    truth = drifting_beats(100, drift, 64)
    rng = np.random.default_rng(3)
    onsets = []
    for i, t in enumerate(truth[:-1]):
        onsets.append(t + rng.normal(0, 0.004))
        if i % 2:
            onsets.append(t + (truth[i + 1] - t) / 2 + rng.normal(0, 0.004))
    errors = signed_errors(track(onsets, truth[-1]), truth, after=truth[16])
    assert len(errors) > 40
    # a straight line through the last bars leaves the grid 20-30 ms behind a drifting player
    assert abs(np.median(errors)) < 0.005
    assert np.percentile(np.abs(errors), 90) < 0.012


def test_a_steady_grid_is_neither_early_nor_late():
    truth = 0.3 + 0.6 * np.arange(50)
    rng = np.random.default_rng(4)
    onsets = sorted([t + rng.normal(0, 0.005) for t in truth] + [t + 0.3 for t in truth[1::3]])
    errors = signed_errors(track(onsets, truth[-1]), truth, after=5.0)
    assert len(errors) > 30
    assert abs(np.median(errors)) < 0.002


def tempo_of(onsets: list[tuple[float, float]], end: float) -> float:
    bt = BeatTracker(SR)
    k = 0
    for now in range(256, int(end * SR), 256):
        while k < len(onsets) and int(onsets[k][0] * SR) + 2400 <= now:
            bt.add_onset(int(onsets[k][0] * SR), onsets[k][1])
            k += 1
        bt.advance(now)
    return 60.0 * SR / bt.period


@pytest.mark.parametrize("spec", [
    ClipSpec(seed=52, meter=(7, 8), bpm=150, program=39, loop_bars=2, bars=9),
    ClipSpec(seed=2022, meter=(7, 8), bpm=153, program=35, loop_bars=1, bars=9),
    ClipSpec(seed=51, meter=(5, 4), bpm=83, program=39, loop_bars=2, bars=8),
    ClipSpec(seed=2036, meter=(4, 4), bpm=81, program=37, loop_bars=4, bars=16),
], ids=lambda s: f"{s.meter[0]}-{s.meter[1]}_{s.bpm:.0f}bpm")
def test_rendered_lines_are_heard_at_their_tempo_not_half_or_twice(spec):
    """Octave errors the onset comb made alone (7/8 eighths at half tempo, slow x/4 at twice it):
    at those tempi the accents repeat every 3.5 or 8 or 10 beats, a bar of no known meter."""
    clip = render_clip(spec)
    r = hear(clip.audio, SR, load_config(None).listener)
    assert abs(r["tempo_bpm"] / spec.bpm - 1) < 0.03


def test_a_slow_4_4_line_of_eighths_is_not_heard_at_twice_its_tempo():
    """72 bpm, eighths and sixteenths, the one accented: at 144 bpm the bar would be 8 beats."""
    beat = 60 / 72
    rng = np.random.default_rng(6)
    onsets = []
    for b in range(4 * 8):
        weight = 1.12 if b % 4 == 0 else 0.85
        for pos in ((0.0, 0.5), (0.0, 0.75), (0.0,), (0.0, 0.5))[b % 4]:
            onsets.append(((b + pos) * beat + rng.normal(0, 0.003), weight if pos == 0 else 0.8))
    assert abs(tempo_of(onsets, 4 * 8 * beat) / 72 - 1) < 0.03
