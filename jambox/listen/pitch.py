"""The pitch of one bass note, from the samples since its onset (YIN, chosen for the low end).

aubio's pitch objects analyse a fixed window that reaches back before the onset, and pick the
first dip of YIN's difference function under a fixed tolerance, which on bass sounds often lands an
octave or a fifth low. Here the window is exactly the note so far, and the choice among YIN's dips
is the smallest lag whose depth is close to the deepest one: the period, not a multiple of it, and
not a half of it unless the half is as periodic as the whole (de Cheveigne & Kawahara 2002, step 4-5).
"""

from __future__ import annotations

import numpy as np

A4_HZ = 440.0
OCTAVE_ODD_RATIO = 0.45  # odd harmonics this weak against the even ones: an octave up
OCTAVE_THIRD_RATIO = 0.4  # ... and the third partial this weak against the stronger of its neighbours
MULTIPLE_NEAR = 0.3  # a dip at a half or a third of the chosen lag this close to it is the period
WINDOW_SHARE = 1.0 / 3.0  # of a segment, the part YIN integrates over; the rest is the lag range


def hz_to_midi(f: float) -> float:
    return 69.0 + 12.0 * np.log2(f / A4_HZ)


def midi_to_hz(m: float) -> float:
    return A4_HZ * 2.0 ** ((m - 69.0) / 12.0)


class SegmentPitch:
    """YIN over a whole segment: ``estimate(x)`` -> (MIDI pitch as float, periodicity 0..1) or None."""

    def __init__(self, sample_rate: float, lowest_hz: float, highest_hz: float, *, near_best: float = 0.08,
                 max_depth: float = 0.5):
        self.sample_rate = float(sample_rate)
        self.min_lag = max(2, int(self.sample_rate / highest_hz))
        self.max_lag = int(np.ceil(self.sample_rate / lowest_hz)) + 2
        self.near_best = near_best  # a dip this close to the deepest one counts as deep
        self.max_depth = max_depth  # no dip shallower than this is a pitch

    def min_samples(self, midi: float) -> int:
        """Samples a segment needs before a pitch can be told from its lower octave.

        Below twice the lowest note, the lower octave is out of range and only one period (and
        half of it again, the integration window) is needed.
        """
        lag = self.sample_rate / midi_to_hz(midi)
        check = 2 * lag if 2 * lag <= self.max_lag else lag
        return int(check / (1.0 - WINDOW_SHARE)) + 2

    def estimate(self, x: np.ndarray) -> tuple[float, float] | None:
        n = len(x)
        w = int(n * WINDOW_SHARE)  # integration window: lags up to n - w are usable
        top = min(self.max_lag, n - w)
        if top <= self.min_lag + 2:
            return None
        x = x.astype(np.float64) - float(np.mean(x))
        if float(np.dot(x, x)) < 1e-10 * n:  # digital silence is perfectly "periodic": no pitch
            return None
        d = _difference(x, w, top)
        # cumulative mean normalised difference
        cm = np.empty_like(d)
        cm[0] = 1.0
        tau = np.arange(1, top + 1)
        csum = np.cumsum(d[1:])
        csum[csum <= 0] = 1e-12
        cm[1:] = d[1:] * tau / csum
        seg = cm[self.min_lag:top]
        if seg.size < 3:
            return None
        best = float(seg.min())
        if best > self.max_depth:
            return None
        # local minima within near_best of the best: take the smallest lag
        interior = (seg[1:-1] <= seg[:-2]) & (seg[1:-1] <= seg[2:]) & (seg[1:-1] <= best + self.near_best)
        idx = np.flatnonzero(interior)
        if idx.size == 0:
            i = int(np.argmin(seg))
        else:
            i = int(idx[0]) + 1
        lag = self._divisor_dip(cm, i + self.min_lag)
        if 1 <= lag < top:  # parabolic interpolation
            a, b, c = cm[lag - 1], cm[lag], cm[lag + 1]
            den = a - 2 * b + c
            frac = 0.5 * (a - c) / den if den > 1e-12 else 0.0
        else:
            frac = 0.0
        period = lag + float(np.clip(frac, -0.5, 0.5))
        f0 = self.sample_rate / period
        if 2.0 * f0 <= self.sample_rate / self.min_lag and self._octave_up(x, f0):
            f0 *= 2.0
        return hz_to_midi(f0), 1.0 - float(cm[lag])

    def _divisor_dip(self, cm: np.ndarray, lag: int) -> int:
        """The lag, or a third or a half of it where YIN dips nearly as deep.

        A note whose fundamental is weak against its second and third partials (a slap, in noise)
        can be a little more periodic at two or three periods than at one: the dip at the multiple
        wins the near_best rule by a few hundredths. A multiple of the period is a dip at a whole
        fraction of the lag; it only has to come within MULTIPLE_NEAR to be the period.
        """
        for k in (3, 2):
            c = lag / k
            a, b = int(c * 0.97), int(np.ceil(c * 1.03)) + 1
            if a < max(1, self.min_lag):
                continue
            j = a + int(np.argmin(cm[a:b]))
            if a < j < b - 1 and cm[j] <= cm[lag] + MULTIPLE_NEAR and cm[j] <= self.max_depth:
                return j
        return lag

    def _octave_up(self, x: np.ndarray, f0: float) -> bool:
        """True when the odd harmonics of ``f0`` are all but missing: the period YIN found is two of
        the note's (a faint sub-octave in the attack of some basses makes the longer lag the more
        periodic one), and the note is an octave higher."""
        size = max(4096, 1 << int(np.ceil(np.log2(4 * len(x)))))  # fine bins: harmonics an octave apart at B0
        spec = np.abs(np.fft.rfft(x * _hann(len(x)), size))
        bin_hz = self.sample_rate / size
        amps = []
        for h in range(1, 7):
            k = int(round(h * f0 / bin_hz))
            if k + 2 >= len(spec):
                amps.append(0.0)
                continue
            amps.append(float(spec[max(0, k - 2):k + 3].max()))
        odd, even = amps[0] + amps[2] + amps[4], amps[1] + amps[3] + amps[5]
        # a sub-octave in the attack adds to the fundamental only: a third partial as strong as its
        # even neighbours belongs to the note, whose fundamental is then f0, however weak
        third_missing = amps[2] < OCTAVE_THIRD_RATIO * max(amps[1], amps[3])
        return even > 0 and odd < OCTAVE_ODD_RATIO * even and third_missing


_HANN: dict[int, np.ndarray] = {}


def _hann(n: int) -> np.ndarray:
    w = _HANN.get(n)
    if w is None:
        if len(_HANN) > 64:
            _HANN.clear()
        w = _HANN[n] = np.hanning(n)
    return w


def _difference(x: np.ndarray, w: int, top: int) -> np.ndarray:
    """YIN's d(tau) = sum_{j<w} (x_j - x_{j+tau})^2 for tau in 0..top, via one FFT correlation."""
    n = len(x)
    size = 1 << int(np.ceil(np.log2(n + w)))
    fx = np.fft.rfft(x, size)
    fw = np.fft.rfft(x[:w], size)
    corr = np.fft.irfft(fx * np.conj(fw), size)[: top + 1]  # sum_j x_j x_{j+tau}, j < w
    sq = np.concatenate(([0.0], np.cumsum(x * x)))
    energy_w = sq[w]
    energy_lag = sq[w + np.arange(top + 1)] - sq[np.arange(top + 1)]
    return np.maximum(energy_w + energy_lag - 2.0 * corr, 0.0)
