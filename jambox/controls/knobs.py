"""From knob readings to SET values: smoothing and a dead-band for pots, steps for encoders. Pure logic.

A pot read through an ADC is never still: the last bit or two wander with supply noise. Sending
every reading would flood the action queue (and the memory, which records every action), so a
:class:`KnobFilter` smooths the reading and reports a new value only when it has moved more than
the dead-band from the last value it reported, or when it reaches an end of its travel (so that
"all the way down" is exactly 0.0).

The first reading only sets the reference: a knob reports nothing until someone turns it, so
the controls start where taste and config put them, not wherever the pots were left.

When something else moves a knob's control (the keyboard, SOFTER ALL on the level, a recalled
riff), the pot no longer points at the control's value. By default the next turn of the pot sets
the control to where the pot is ("jump"); with ``pickup`` the pot takes over only once it reaches
or passes the control's value, so nothing jumps (soft takeover, as on many synths).

An :class:`EncoderKnob` is relative: each detent moves the control one ``step``; it starts from
the control's current value and can be told the value again (:meth:`EncoderKnob.sync`) when
something else (the keyboard, a suggestion) moved that control.
"""

from __future__ import annotations

import math

from jambox.errors import ValueRangeError


def _check(name: str, value: float, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
        raise ValueRangeError(f"{name} must be a number in range {lo:g}..{hi:g}, not {value!r}")
    return float(value)


class KnobFilter:
    """Smoothing (a one-pole low-pass with time constant ``smoothing_s``) and a dead-band, on 0..1 readings."""

    END = 0.005  # readings this close to 0 or 1 are the end of the travel

    def __init__(self, dead_band: float = 0.02, smoothing_s: float = 0.05, *, pickup: bool = False):
        self.dead_band = _check("dead_band", dead_band, 0.0, 0.5)
        self.smoothing_s = _check("smoothing_s", smoothing_s, 0.0, 10.0)
        self.pickup = bool(pickup)
        self._smooth: float | None = None
        self._t: float | None = None
        self._sent: float | None = None
        self._target: float | None = None  # pickup: the control's value the pot has to reach
        self._side = 0  # pickup: which side of it the pot was on (-1 below, +1 above)

    @property
    def waiting(self) -> bool:
        """True while the pot waits to pick up its control (pickup mode)."""
        return self._target is not None

    def sync(self, value: float) -> None:
        """The control's value as the session has it now. In pickup mode, a value the pot does not
        point at makes the pot wait until it reaches it."""
        if not self.pickup:
            return
        if self._sent is not None and abs(value - self._sent) <= self.dead_band:
            self._target = None  # the value this knob sent, or close enough
            return
        self._target = float(value)
        self._side = 0 if self._smooth is None else (1 if self._smooth > value else -1)

    @property
    def value(self) -> float | None:
        """The smoothed reading (None before the first)."""
        return self._smooth

    def update(self, reading: float, t: float) -> float | None:
        """A reading (0..1; clipped) at time ``t`` (seconds); the value to send, or None if it did not move."""
        if reading != reading:  # NaN: a failed read; ignore it
            return None
        x = min(1.0, max(0.0, float(reading)))
        if self._smooth is None:
            self._smooth, self._t, self._sent = x, t, self._snap(x)
            if self._target is not None:
                self._side = 1 if x > self._target else -1
            return None
        dt = max(0.0, t - self._t)
        self._t = t
        a = 1.0 if self.smoothing_s == 0 else 1.0 - math.exp(-dt / self.smoothing_s)
        self._smooth += a * (x - self._smooth)
        v = self._snap(self._smooth)
        if self._target is not None:
            side = 1 if v > self._target else -1
            if abs(v - self._target) > self.dead_band and side == self._side:
                return None  # not there yet
            self._target = None
            self._sent = v
            return round(v, 3)
        if v == self._sent:
            return None
        at_end = v in (0.0, 1.0)
        if abs(v - self._sent) > self.dead_band or at_end:
            self._sent = v
            return round(v, 3)
        return None

    def _snap(self, v: float) -> float:
        if v <= self.END:
            return 0.0
        if v >= 1.0 - self.END:
            return 1.0
        return v


class EncoderKnob:
    """A control moved by detents of a rotary encoder, clamped to 0..1."""

    def __init__(self, value: float = 0.5, step: float = 0.05):
        self.step = _check("step", step, 0.0, 1.0)
        self.value = _check("value", value, 0.0, 1.0)

    def turn(self, steps: int) -> float | None:
        """``steps`` detents clockwise (negative: counter-clockwise); the new value, or None at an end."""
        v = min(1.0, max(0.0, round(self.value + steps * self.step, 6)))
        if v == self.value:
            return None
        self.value = v
        return v

    def sync(self, value: float) -> None:
        """The control was set elsewhere: turn from there."""
        self.value = min(1.0, max(0.0, float(value)))
