"""Tap tempo: beat period and phase from TAP actions, on the stream clock. Pure logic.

The fallback when the listener cannot settle on a tempo (a rubato intro, a riff with few onsets):
the player taps the foot-switch (or ``t``) on the beat. The session feeds each TAP's stream time to
:meth:`TapTempo.tap` and gets a :class:`TapEstimate` once two taps agree.

The period is the median of the recent intervals, so one early or late tap moves it little; an
interval far from the others (a missed tap, or a double tap) starts a fresh run of taps, and so does
a pause longer than ``reset_after_s``. Intervals outside ``min_bpm..max_bpm`` are ignored.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from jambox.errors import ValueRangeError


@dataclass(frozen=True, slots=True)
class TapEstimate:
    bpm: float
    beat_period: float  # samples per beat
    phase: int  # stream time of the latest tap: a beat on the grid
    taps: int  # how many taps the estimate rests on


class TapTempo:
    def __init__(self, sample_rate: int, *, min_bpm: float = 40.0, max_bpm: float = 260.0,
                 reset_after_s: float = 2.5, max_taps: int = 8, tolerance: float = 0.3):
        if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate <= 0:
            raise ValueRangeError(f"sample rate must be a positive integer, not {sample_rate!r}")
        if not 0 < min_bpm < max_bpm:
            raise ValueRangeError(f"tap tempo needs 0 < min_bpm < max_bpm, not {min_bpm:g}..{max_bpm:g}")
        if max_taps < 2:
            raise ValueRangeError(f"max_taps must be at least 2, not {max_taps}")
        self.sample_rate = sample_rate
        self._shortest = 60.0 * sample_rate / max_bpm
        self._longest = 60.0 * sample_rate / min_bpm
        self._reset_after = reset_after_s * sample_rate
        self._max_taps = max_taps
        self._tolerance = tolerance
        self._taps: list[int] = []

    def tap(self, at: int) -> TapEstimate | None:
        """A tap at stream time ``at`` (samples). The estimate so far, or None with fewer than two taps."""
        if self._taps:
            gap = at - self._taps[-1]
            if gap < self._shortest:  # the same tap twice, a bounce, out of order: ignore it
                return self.estimate()
            if gap > max(self._reset_after, self._longest):  # a pause: a fresh run of taps
                self._taps = []
            elif len(self._taps) >= 2:
                period = self._period()
                if abs(gap - period) > self._tolerance * period:
                    self._taps = [self._taps[-1]]  # a new tempo: start from the previous tap
        self._taps.append(int(at))
        del self._taps[:-self._max_taps]
        return self.estimate()

    def estimate(self) -> TapEstimate | None:
        if len(self._taps) < 2:
            return None
        period = self._period()
        return TapEstimate(60.0 * self.sample_rate / period, period, self._taps[-1], len(self._taps))

    def reset(self) -> None:
        self._taps = []

    def _period(self) -> float:
        intervals = [b - a for a, b in zip(self._taps, self._taps[1:])]
        return float(statistics.median(intervals))
