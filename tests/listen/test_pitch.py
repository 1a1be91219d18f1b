import numpy as np
import pytest

from jambox.listen.pitch import SegmentPitch, midi_to_hz

RATE = 12000.0


def bass_tone(midi, seconds=0.12, odd=1.0, seed=0):
    """A plucked-string-like tone: harmonics falling off, odd ones scaled by ``odd``."""
    t = np.arange(int(seconds * RATE)) / RATE
    f = midi_to_hz(midi)
    x = sum((odd if h % 2 else 1.0) / h * np.sin(2 * np.pi * h * f * t) for h in range(1, 9) if h * f < RATE / 2)
    return x + np.random.default_rng(seed).normal(0, 0.01, len(t))


@pytest.fixture(scope="module")
def pitch():
    return SegmentPitch(RATE, midi_to_hz(22.5), midi_to_hz(72.5))


@pytest.mark.parametrize("midi", [23, 28, 33, 40, 45, 52, 60, 67, 72])
def test_bass_range_from_b0_up(pitch, midi):
    est, periodicity = pitch.estimate(bass_tone(midi))
    assert abs(est - midi) < 0.3 and periodicity > 0.8


def test_e1_is_known_from_a_short_segment(pitch):
    need = pitch.min_samples(28)
    assert need / RATE < 0.05  # under 50 ms of the note: the E1 latency budget
    est, _ = pitch.estimate(bass_tone(28, seconds=need / RATE))
    assert abs(est - 28) < 0.3


def test_a_missing_fundamental_is_not_an_octave_error(pitch):
    t = np.arange(int(0.12 * RATE)) / RATE
    f = midi_to_hz(40)
    x = sum(np.sin(2 * np.pi * h * f * t) / h for h in range(2, 8))  # slap-like: no fundamental
    assert abs(pitch.estimate(x)[0] - 40) < 0.3


def test_noise_and_silence_have_no_pitch(pitch):
    assert pitch.estimate(np.zeros(1200)) is None
    r = pitch.estimate(np.random.default_rng(1).normal(0, 0.3, 1200))
    assert r is None or r[1] < 0.7
