"""The beat grid's phase: on the player's beats, steady or drifting, from onset trains of known timing."""

import numpy as np
import pytest

from jambox.listen.tempo import BeatTracker

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
