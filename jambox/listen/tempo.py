"""Tempo and the beat grid, from note onsets, causally.

Two parts with two jobs:
- an estimate, twice a second, of the beat period from the autocorrelation of the recent onsets
  (a comb over the beat and the levels around it, under a broad prior around 120 bpm), weighed by
  how well the accents repeat a bar of 3 to 7 such beats later (what settles 75 against 150 bpm),
  and of the grid's phase at that period;
- a phase-locked grid that runs between estimates: the onsets near grid lines join a weighted fit
  of time against beat number (a line, or a quadratic over longer spans), so the grid follows a
  player who speeds up or slows down and stays on their beats.
The grid emits each beat as stream time passes it; the generator plans on ``period`` and ``phase``.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from jambox.listen.meter import METERS

WINDOW_S = 8.0  # onsets the estimate looks at
MAX_ONSETS = 256
ESTIMATE_EVERY_S = 0.5
BIN_S = 0.005  # onset-train resolution
SMOOTH_BINS = 2.0  # Gaussian smoothing of the onset train, in bins
MIN_BPM, MAX_BPM = 60.0, 180.0
PRIOR_BPM, PRIOR_OCTAVES = 120.0, 1.0
COMB_DOUBLE, COMB_HALF, COMB_OUTER = 1.0, 0.5, 0.25  # the comb's weights on the levels around the beat
ACCENT_WINDOW_S = 12.0  # the accents' window: two bars of 7/4 at 70 bpm
BAR_BEATS = tuple(METERS)  # beats per bar of the meters the listener knows
BAR_FLOOR = 0.4  # the bar evidence multiplies the comb by between this and 1 + this
MIN_ONSETS = 6
LOCK_CONFIDENCE = 0.25
RELOCK_RATIO = 0.05  # an estimate this far from the grid's period, twice running, re-locks the grid
PHASE_GAIN = 0.25  # share of an onset's timing error the grid's phase takes, before the fit has points
FIT_GAIN = 0.5  # share of the way to the fit the grid moves at each onset: the whole way (1.0) follows an 8 % drift
# a few ms closer but doubles the beat-to-beat jitter on a steady riff (demo riff: interval std 4.7 -> 9.2 ms)
# and the kept loop no longer lines up (tests/controls/test_panel_effects.py)
FIT_MEMORY_BEATS = 8.0  # older anchors fade with this time constant, in beats
MAX_ANCHORS = 32
CURVE_SPAN_BEATS = 8  # anchors over this many beats fit a bending tempo, fewer a steady one
CAPTURE = 0.15  # onsets within this share of a beat of a grid line steer the grid
REPHASE_GAIN = 1.3  # a phase this much better than the grid's, twice running, re-phases it


class BeatTracker:
    def __init__(self, sample_rate: int):
        self.sr = int(sample_rate)
        self._onsets: deque[tuple[int, float]] = deque(maxlen=MAX_ONSETS)
        self.period: float | None = None  # samples per beat
        self.next_beat: float | None = None  # stream time of the next beat to emit
        self.next_index = 0  # the running number of that beat
        self.confidence = 0.0
        self._next_estimate = int(ESTIMATE_EVERY_S * self.sr)
        self._disagree = 0
        self._misphased = 0
        self._anchors: deque[tuple[int, float, float]] = deque(maxlen=MAX_ANCHORS)  # (beat number, time, weight)
        self.locks = 0  # how many times the grid has (re)locked
        self._added = 0  # onsets heard so far
        self._added_at_estimate = 0  # ... as of the last estimate
        n = int(WINDOW_S / BIN_S)
        self._bins = n
        self._fft = 1 << int(np.ceil(np.log2(2 * n)))
        self._accent_bins = int(ACCENT_WINDOW_S / BIN_S)
        self._accent_fft = 1 << int(np.ceil(np.log2(2 * self._accent_bins)))
        k = np.arange(-int(4 * SMOOTH_BINS), int(4 * SMOOTH_BINS) + 1)
        self._kernel = np.exp(-0.5 * (k / SMOOTH_BINS) ** 2)
        lo, hi = 60.0 / MAX_BPM / BIN_S, 60.0 / MIN_BPM / BIN_S
        self._lags = np.geomspace(lo, hi, 300)  # candidate periods, in bins
        bpm = 60.0 / (self._lags * BIN_S)
        self._prior = np.exp(-0.5 * (np.log2(bpm / PRIOR_BPM) / PRIOR_OCTAVES) ** 2)

    @property
    def locked(self) -> bool:
        return self.period is not None

    def beat_number(self, t: float) -> float:
        """Position of stream time ``t`` on the grid, in beats (the running beat numbers)."""
        return self.next_index + (t - self.next_beat) / self.period

    def time_of(self, beat: float) -> float:
        return self.next_beat + (beat - self.next_index) * self.period

    def add_onset(self, t: int, weight: float) -> None:
        self._onsets.append((int(t), float(weight)))
        self._added += 1
        if self.period is None:
            return
        # steer the grid: onsets near a grid line join a weighted line fit of time against beat
        # number over the last few bars, whose slope is the period and whose intercept the phase
        n = self.next_index + (t - self.next_beat) / self.period
        k = round(n)
        err = (n - k) * self.period
        if abs(err) >= CAPTURE * self.period:
            return
        self._anchors.append((k, float(t), min(1.5, weight)))
        if len(self._anchors) < 4 or self._anchors[-1][0] - self._anchors[0][0] < 2:
            self.next_beat += PHASE_GAIN * err
            return
        ks = np.array([a[0] for a in self._anchors], float)
        ts = np.array([a[1] for a in self._anchors])
        ws = np.array([a[2] for a in self._anchors]) * np.exp(-(ks[-1] - ks) / FIT_MEMORY_BEATS)
        kc = ks - ks[-1]
        ahead = self.next_index - ks[-1]  # beats from the latest anchor to the next beat
        if kc[0] <= -CURVE_SPAN_BEATS:
            # a quadratic: a player speeding up or slowing down bends time against beat number, and
            # a straight line through the last bars puts the grid behind them (20-30 ms at 8 %)
            A = np.stack([np.ones_like(kc), kc, kc * kc], axis=1) * ws[:, None]
            (a, b, c), *_ = np.linalg.lstsq(A, ts * ws, rcond=None)
        else:
            A = np.stack([np.ones_like(kc), kc], axis=1) * ws[:, None]
            (a, b), *_ = np.linalg.lstsq(A, ts * ws, rcond=None)
            c = 0.0
        slope = b + c * (2 * ahead - 1)  # the period from the beat before the next to the next
        if not 0.8 * self.period < slope < 1.25 * self.period:
            return
        self.period += FIT_GAIN * (slope - self.period)
        fitted_next = a + b * ahead + c * ahead * ahead
        self.next_beat += FIT_GAIN * (fitted_next - self.next_beat)

    def advance(self, now: int) -> list[tuple[int, int]]:
        """Beats (time, running number) whose time has passed by ``now``."""
        if now >= self._next_estimate:
            self._next_estimate = now + int(ESTIMATE_EVERY_S * self.sr)
            self._estimate(now)
        out = []
        if self.period is not None:
            while self.next_beat <= now:
                out.append((int(round(self.next_beat)), self.next_index))
                self.next_beat += self.period
                self.next_index += 1
        return out

    # -- the estimate ---------------------------------------------------------------------
    def _estimate(self, now: int) -> None:
        if self._added == self._added_at_estimate:
            # nothing new since the last estimate: the player rests (or stopped). The grid free-runs
            # on what was heard, as sure as it was: a window sliding into silence would only see the
            # riff's tail and mistake it for another tempo, and the band re-joins on this grid
            return
        self._added_at_estimate = self._added
        start = now - int(WINDOW_S * self.sr)
        recent = [(t, w) for t, w in self._onsets if t >= start]
        if len(recent) < MIN_ONSETS:
            return
        acf = self._acf(recent, start, self._bins, self._fft)
        if acf is None:
            return
        score = self._comb(acf) * (BAR_FLOOR + self._bar_evidence(now))
        i = int(np.argmax(score))
        conf = float((score[i] - np.median(score)) / (score[i] + 1e-9))
        period = float(self._lags[i] * BIN_S * self.sr)
        self.confidence = conf
        if conf < LOCK_CONFIDENCE:
            return
        if self.period is None:
            self._lock(period, recent, now)
            return
        ratio = period / self.period
        if abs(ratio - 1.0) > RELOCK_RATIO:
            self._disagree += 1
            if self._disagree >= 2:
                self._lock(period, recent, now)
            return
        self._disagree = 0
        # the period agrees; is the grid on the beat or between the beats?
        phase, fit, here = self._best_phase(self.period, recent)
        off = ((self.next_beat - phase) / self.period) % 1.0
        if min(off, 1.0 - off) > 0.2 and fit > REPHASE_GAIN * here:
            self._misphased += 1
            if self._misphased >= 2:
                self._lock(self.period, recent, now)
        else:
            self._misphased = 0

    def _acf(self, events, start: int, bins: int, size: int) -> np.ndarray | None:
        """Autocorrelation (1 at lag 0) of the weighted onsets from ``start``, on BIN_S bins; None if empty."""
        train = np.zeros(bins + 1)
        for t, w in events:
            train[min(bins, int((t - start) / (BIN_S * self.sr)))] += w
        train = np.convolve(train, self._kernel, mode="same")
        spec = np.fft.rfft(train, size)
        acf = np.fft.irfft(spec * np.conj(spec), size)[:bins]
        if acf[0] <= 1e-12:
            return None
        return acf / acf[0]

    def _comb(self, acf: np.ndarray) -> np.ndarray:
        def at(lags):
            return np.interp(lags, np.arange(len(acf)), acf, right=0.0)

        lags = self._lags
        # the beat and the levels around it: its double and half, its triple and third (a swung or
        # triplet line), its quadruple and quarter
        s = at(lags) + COMB_DOUBLE * at(2 * lags) + COMB_HALF * at(lags / 2) \
            + COMB_OUTER * (at(4 * lags) + at(lags / 4) + at(3 * lags) + at(lags / 3))
        return s * self._prior

    def _bar_evidence(self, now: int) -> np.ndarray | float:
        """For each candidate beat, how strongly the accents repeat a bar of 3 to 7 of those beats later.

        A bass player leans on the one (and on each group's first beat in 6/8 and 7/8): the louder
        notes repeat once a bar. At twice the true tempo a 4/4 bar is 8 beats, at half a 7/8 bar
        3.5: no meter the listener knows. Those are the octave errors the onset comb cannot see (a
        line of steady eighths looks the same at 150 and at 75 bpm). Without accents (a clipped
        input levels them) every candidate gets the same and the comb decides alone.
        """
        start = now - int(ACCENT_WINDOW_S * self.sr)
        recent = [(t, w) for t, w in self._onsets if t >= start]
        if len(recent) < MIN_ONSETS:
            return 0.0
        median = float(np.median([w for _, w in recent]))
        accents = [(t, w - median) for t, w in recent if w > median]
        acf = self._acf(accents, start, self._accent_bins, self._accent_fft) if accents else None
        if acf is None:
            return 0.0
        idx = np.arange(len(acf))
        return np.max([np.interp(n * self._lags, idx, acf, right=0.0) for n in BAR_BEATS], axis=0)

    def _best_phase(self, period: float, recent: list[tuple[int, float]]) -> tuple[float, float, float]:
        """The grid phase that puts the most (accented) onsets on beats; its fit, and the current grid's."""
        times = np.array([t for t, _ in recent], float)
        # accents say where the beat is: loud notes, and long ones (the time to the next onset)
        ioi = np.diff(times, append=times[-1] + period)
        weights = np.array([w for _, w in recent], float) ** 2 * (0.5 + np.minimum(ioi, period) / period)
        phases = np.linspace(0.0, period, 48, endpoint=False)
        if self.next_beat is not None:
            phases = np.append(phases, self.next_beat % period)
        d = (times[None, :] - phases[:, None]) % period
        d = np.minimum(d, period - d)
        sigma = 0.06 * period
        fit = (weights[None, :] * np.exp(-0.5 * (d / sigma) ** 2)).sum(axis=1)
        i = int(np.argmax(fit[:48]))
        return float(phases[i]), float(fit[i]), float(fit[-1])

    def _lock(self, period: float, recent: list[tuple[int, float]], now: int) -> None:
        phase = self._best_phase(period, recent)[0]
        k = np.ceil((now - phase) / period)
        next_beat = phase + k * period
        if self.next_beat is not None:
            # keep the running beat numbers continuous across a re-lock
            self.next_index += int(round((next_beat - self.next_beat) / (self.period or period)))
        self.period, self.next_beat = period, next_beat
        self._anchors.clear()
        self._disagree = 0
        self._misphased = 0
        self.locks += 1
