"""The generator's step clock: 16th-note steps on the heard beat grid, followed without jumps.

The listener revises its grid as it hears more (tempo drift, a better phase, a meter found). The
generator must follow it, yet never plan the same step twice and never skip one. So each call the
next step is placed on the *latest* grid nearest to one step after the previous planned step, and
the move is limited to a quarter of a step per step: a corrected phase is taken up over a few steps
(like a drummer easing back onto the bassist), a steady drift is followed exactly. The position in
the bar comes from the latest grid (nearest grid step to the downbeat), so a revised downbeat
re-bars at the next step.

Pure arithmetic on stream samples; no audio, no threads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from jambox.errors import ValueRangeError
from jambox.events import Heard
from jambox.generate.features import Meter, meter_for

MAX_CORRECTION = 0.25  # of a step: the most one step may move to catch up with a revised grid
DEFAULT_METER = (4, 4)


@dataclass(frozen=True, slots=True)
class GridStep:
    index: int  # steps planned since the generator started (0, 1, 2, ...)
    time: float  # stream samples: the step's start on the (straight) grid
    period: float  # samples per step (a 16th note)
    step_in_bar: int
    meter: Meter
    bar_index: int  # bars since the grid's downbeat anchor (may be negative before it)

    @property
    def step_in_beat(self) -> int:
        return self.step_in_bar % self.meter.steps_per_beat


def heard_meter(heard: Heard) -> Meter:
    """The heard meter if the generator plays it, else 4/4 (the grid still runs; the listener may
    revise the meter later)."""
    try:
        return meter_for(*heard.meter)
    except ValueRangeError:
        return meter_for(*DEFAULT_METER)


def step_period(heard: Heard, meter: Meter | None = None) -> float | None:
    if heard.beat_period is None:
        return None
    meter = meter or heard_meter(heard)
    return heard.beat_period / meter.steps_per_beat


class StepGrid:
    """Hands out the steps to plan, one by one, on whatever grid the latest Heard describes."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._last_time: float | None = None
        self._count = 0

    @property
    def last_time(self) -> float | None:
        return self._last_time

    def next_step(self, heard: Heard, now: int, until: int) -> GridStep | None:
        """The next step to plan if it starts before ``until``, else None. Advances the clock."""
        meter = heard_meter(heard)
        period = step_period(heard, meter)
        anchor = heard.downbeat if heard.downbeat is not None else heard.beat_phase
        if period is None or anchor is None:
            return None
        if not period > 0 or not math.isfinite(period):
            raise ValueRangeError(f"beat period must be a positive number of samples, not {heard.beat_period!r}")
        if self._last_time is None or self._last_time + period < now - period:
            # first step, or after a gap (nothing was planned for a while): the first step at/after now
            k = math.ceil((now - anchor) / period)
            t = anchor + k * period
        else:
            target = self._last_time + period
            k = round((target - anchor) / period)
            t = anchor + k * period
            lo, hi = target - MAX_CORRECTION * period, target + MAX_CORRECTION * period
            t = min(max(t, lo), hi)
            k = round((t - anchor) / period)
        if t >= until:
            return None
        bar_steps = meter.bar_steps
        if heard.downbeat is not None:
            bar_index, step_in_bar = divmod(k, bar_steps)
        else:  # no bar phase yet: count bars from the first step
            bar_index, step_in_bar = divmod(self._count, bar_steps)
        step = GridStep(self._count, t, period, step_in_bar, meter, bar_index)
        self._last_time = t
        self._count += 1
        return step
