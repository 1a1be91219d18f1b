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


def partials(midi, amps, seconds=0.06, seed=0, below=None):
    """A tone with the given partial amplitudes (1st, 2nd, ...) and optionally a component at
    ``f / below[0]`` of amplitude ``below[1]``: a sub-octave or a twelfth below."""
    t = np.arange(int(seconds * RATE)) / RATE
    f = midi_to_hz(midi)
    x = sum(a * np.sin(2 * np.pi * (h + 1) * f * t + h) for h, a in enumerate(amps))
    if below is not None:
        x = x + below[1] * np.sin(2 * np.pi * f / below[0] * t)
    return x + np.random.default_rng(seed).normal(0, 0.01, len(t))


def test_a_slap_with_a_weak_fundamental_and_odd_partials_is_not_an_octave_up(pitch):
    # slap 2's C#2 in hum: odd partials 0.43 of the even ones, but its third as strong as its neighbours
    x = partials(37, [0.18, 1.0, 0.63, 0.23, 0.08, 0.86, 0.6, 0.47])
    assert abs(pitch.estimate(x)[0] - 37) < 0.3


@pytest.mark.parametrize("sub", [0.3, 0.5, 0.8])
def test_a_faint_sub_octave_still_reads_the_note(pitch, sub):
    est, _ = pitch.estimate(partials(45, [1.0, 0.5, 0.33, 0.25, 0.2], below=(2, sub)))
    assert abs(est - 45) < 0.3


@pytest.mark.parametrize("below", [0.3, 0.5])
def test_a_component_a_twelfth_below_does_not_take_the_pitch(pitch, below):
    # the period of the sum is three of the note's; YIN's dip there is only a little deeper
    est, _ = pitch.estimate(partials(42, [1.0, 0.5, 0.33, 0.25, 0.2], seconds=0.1, below=(3, below)))
    assert abs(est - 42) < 0.3
