"""Tempo and the beat grid, from note onsets, causally.

Two parts with two jobs:
- an estimate, twice a second, of the beat period from the autocorrelation of the recent onsets
  (a comb over the beat, its halves and its doubles, under a broad prior around 110 bpm), and of the
  grid's phase at that period;
- a phase-locked grid that runs between estimates: every onset near a grid line pulls the phase
  and, more gently, the period, so the grid follows a player who speeds up or slows down.
The grid emits each beat as stream time passes it; the generator plans on ``period`` and ``phase``.
"""

from __future__ import annotations

from collections import deque

import numpy as np

WINDOW_S = 8.0  # onsets the estimate looks at
MAX_ONSETS = 256
ESTIMATE_EVERY_S = 0.5
BIN_S = 0.005  # onset-train resolution
SMOOTH_BINS = 2.0  # Gaussian smoothing of the onset train, in bins
MIN_BPM, MAX_BPM = 60.0, 180.0
PRIOR_BPM, PRIOR_OCTAVES = 110.0, 0.7
MIN_ONSETS = 6
LOCK_CONFIDENCE = 0.25
RELOCK_RATIO = 0.05  # an estimate this far from the grid's period, twice running, re-locks the grid
PHASE_GAIN = 0.25  # share of an onset's timing error the grid's phase takes
PERIOD_GAIN = 0.04  # ... and its period
CAPTURE = 0.15  # onsets within this share of a beat of a grid line steer the grid


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
        self.locks = 0  # how many times the grid has (re)locked
        n = int(WINDOW_S / BIN_S)
        self._bins = n
        self._fft = 1 << int(np.ceil(np.log2(2 * n)))
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
        if self.period is None:
            return
        # steer the grid with the onset's error against the nearest grid line
        k = round((t - self.next_beat) / self.period)
        err = t - (self.next_beat + k * self.period)
        if abs(err) < CAPTURE * self.period:
            w = min(1.5, weight)
            self.next_beat += PHASE_GAIN * w * err
            self.period += PERIOD_GAIN * w * err / max(1, abs(k) if k < 0 else 1)

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
        start = now - int(WINDOW_S * self.sr)
        recent = [(t, w) for t, w in self._onsets if t >= start]
        if len(recent) < MIN_ONSETS:
            if self.period is not None and (not recent or now - recent[-1][0] > 4 * self.period):
                self.confidence *= 0.5  # the player stopped: the grid free-runs, less sure
            return
        train = np.zeros(self._bins + 1)
        for t, w in recent:
            train[min(self._bins, int((t - start) / (BIN_S * self.sr)))] += w
        train = np.convolve(train, self._kernel, mode="same")
        spec = np.fft.rfft(train, self._fft)
        acf = np.fft.irfft(spec * np.conj(spec), self._fft)[: self._bins]
        if acf[0] <= 0:
            return
        acf = acf / acf[0]
        score = self._comb(acf)
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
        else:
            self._disagree = 0

    def _comb(self, acf: np.ndarray) -> np.ndarray:
        def at(lags):
            return np.interp(lags, np.arange(len(acf)), acf, right=0.0)

        lags = self._lags
        s = at(lags) + 0.5 * (at(2 * lags) + at(lags / 2)) + 0.25 * (at(4 * lags) + at(lags / 4))
        return s * self._prior

    def _lock(self, period: float, recent: list[tuple[int, float]], now: int) -> None:
        times = np.array([t for t, _ in recent], float)
        weights = np.array([w for _, w in recent], float)
        phases = np.linspace(0.0, period, 48, endpoint=False)
        d = (times[None, :] - phases[:, None]) % period
        d = np.minimum(d, period - d)
        sigma = 0.06 * period
        fit = (weights[None, :] * np.exp(-0.5 * (d / sigma) ** 2)).sum(axis=1)
        phase = float(phases[int(np.argmax(fit))])
        k = np.ceil((now - phase) / period)
        next_beat = phase + k * period
        if self.next_beat is not None:
            # keep the running beat numbers continuous across a re-lock
            self.next_index += int(round((next_beat - self.next_beat) / (self.period or period)))
        self.period, self.next_beat = period, next_beat
        self._disagree = 0
        self.locks += 1
