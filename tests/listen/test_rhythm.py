"""Beat grid, meter, loop and new riffs, from rendered riffs and from onset trains of known timing."""

import numpy as np
import pytest

from jambox.config import load_config
from jambox.listen.offline import hear
from jambox.listen.scoring import beat_f
from jambox.listen.tempo import BeatTracker
from jambox.listen.testclips import ClipSpec, render_clip

SR = 48000


def run_tracker(onsets, end, weights=None):
    bt = BeatTracker(SR)
    beats, k = [], 0
    for now in range(256, end, 256):
        while k < len(onsets) and onsets[k] + 2400 <= now:  # the note is known 50 ms after its onset
            bt.add_onset(onsets[k], 1.0 if weights is None else weights[k])
            k += 1
        beats += [t / SR for t, _ in bt.advance(now)]
    return bt, beats


def test_the_grid_follows_a_player_who_speeds_up_8_percent():
    bpm = 100 * (1 + 0.08 * np.arange(80) / 80)
    beat_times = np.concatenate(([0.5], 0.5 + np.cumsum(60 / bpm[:-1])))
    onsets = []
    for i, t in enumerate(beat_times[:-1]):
        onsets.append(t)
        if i % 2:
            onsets.append(t + (beat_times[i + 1] - t) / 2)  # an eighth between some beats
    bt, beats = run_tracker([int(t * SR) for t in onsets], int(beat_times[-1] * SR))
    assert beat_f(list(beat_times), beats) > 0.95
    assert abs(60 * SR / bt.period - bpm[-1]) < 2.0


def test_an_offbeat_heavy_line_keeps_the_grid_on_the_beat():
    period = 0.5
    onsets, weights = [], []
    for i in range(60):
        t = 1.0 + i * period
        onsets.append(t)  # every beat, the one accented
        weights.append(1.2 if i % 4 == 0 else 1.0)
        onsets.append(t + 0.5 * period)  # and as many notes between the beats, softer
        weights.append(0.7)
    bt, beats = run_tracker([int(t * SR) for t in onsets], int(32 * SR), weights)
    late = np.array([b for b in beats if b > 12])
    assert len(late) > 20
    frac = ((late - 1.0) / period) % 1.0
    assert np.median(np.minimum(frac, 1 - frac)) < 0.1


@pytest.fixture(scope="module")
def cfg():
    return load_config(None).listener


@pytest.mark.parametrize("spec", [
    ClipSpec(seed=511, meter=(3, 4), bpm=96, loop_bars=2, bars=12),
    ClipSpec(seed=502, meter=(6, 8), bpm=120, loop_bars=1, bars=10),
    ClipSpec(seed=503, meter=(5, 4), bpm=110, loop_bars=1, bars=8, program=34),
    ClipSpec(seed=504, meter=(7, 8), bpm=126, loop_bars=2, bars=8),
    ClipSpec(seed=515, meter=(4, 4), bpm=92, loop_bars=2, bars=8, swing=0.667),
], ids=lambda s: f"{s.meter[0]}-{s.meter[1]}")
def test_meters_loops_and_swing(cfg, spec):
    """Regression cases, one per meter family; the bench scores the whole rendered set (known
    misses there: swung lines heard at 1.5x their tempo or in the wrong meter, an early lock at
    4/3 of the tempo)."""
    clip = render_clip(spec)
    r = hear(clip.audio, SR, cfg)
    assert abs(r["tempo_bpm"] / spec.bpm - 1) < 0.03
    assert tuple(r["meter"]) == spec.meter
    assert r["loop_bars"] == spec.loop_bars
    assert beat_f(clip.beats, r["beats"]) > 0.9
    assert abs(r["swing"] - spec.swing) < 0.05


def test_a_new_riff_is_heard_where_it_starts(cfg):
    a = render_clip(ClipSpec(seed=11, bpm=110, bars=8, loop_bars=2))
    b = render_clip(ClipSpec(seed=12, bpm=110, bars=8, loop_bars=1))
    bar = 4 * 60 / 110
    x = np.concatenate([a.audio[:int(8 * bar * SR)], b.audio])
    r = hear(x, SR, cfg)
    assert len(r["section_starts"]) == 1 and abs(r["section_starts"][0] - 8 * bar) < 0.1
    assert r["loop_bars"] == 1 and (r["key"]["tonic"], r["key"]["mode"]) == b.key
