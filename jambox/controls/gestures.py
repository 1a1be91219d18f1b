"""Press, long press and double press from the raw edges of one switch, with debounce: pure logic.

A :class:`GestureDetector` is fed edges (``edge(pressed, t)``) and told the time (``poll(t)``); it
answers with the gestures that became certain. It never sleeps and owns no thread: whoever drives
it (the GPIO layer, a test) calls :meth:`poll` at :attr:`deadline`, the next moment something can
change without a new edge. That keeps the timing rules testable with made-up times and lets one
timer serve every button.

The rules, chosen for the lowest latency each mapping allows:

- **Debounce.** The first edge after a quiet spell counts at once; edges in the ``debounce_s``
  after it only update the raw level, and if the level at the end of that spell differs from what
  was accepted, that change is accepted then. A contact that chatters is one press; a tap shorter
  than the debounce time still counts (as a release at the end of the spell).
- **Press only** (no long or double press mapped): the press fires on the down edge.
- **Long press mapped:** a press fires on release if it was shorter than ``long_press_s``; the long
  press fires while the switch is still held, at ``long_press_s``, and its release does nothing.
- **Double press mapped:** after a short press the detector waits ``double_press_s`` from the
  release for a second press; the second down edge fires the double press at once; if none comes,
  the single press fires at the end of the wait.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Gesture(str, Enum):
    PRESS = "press"
    LONG = "long"
    DOUBLE = "double"


@dataclass(frozen=True, slots=True)
class GestureTiming:
    """Seconds. The defaults match config ``[controls]``."""

    long_press_s: float = 0.6
    double_press_s: float = 0.35
    debounce_s: float = 0.02

    def __post_init__(self):
        from jambox.errors import ValueRangeError

        for name in ("long_press_s", "double_press_s", "debounce_s"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
                raise ValueRangeError(f"{name} must be a number of seconds >= 0, not {v!r}")
        if self.debounce_s >= self.long_press_s:
            raise ValueRangeError(f"debounce_s must be shorter than long_press_s ({self.long_press_s:g} s), "
                                  f"not {self.debounce_s:g}")

    @classmethod
    def from_config(cls, controls) -> "GestureTiming":
        return cls(controls.long_press_s, controls.double_press_s, controls.debounce_ms / 1000.0)


class GestureDetector:
    """The gestures of one switch. Not thread-safe: the caller serialises edges and polls."""

    def __init__(self, timing: GestureTiming = GestureTiming(), *, long: bool = False, double: bool = False,
                 pressed: bool = False):
        """``pressed``: the level when listening starts (a switch held then fires nothing on release)."""
        self.timing = timing
        self.wants_long = long
        self.wants_double = double
        self._raw = bool(pressed)  # the level as last seen, bounces included
        self._pressed = bool(pressed)  # the debounced level
        self._quiet_at: float | None = None  # end of the current debounce spell
        self._down_at: float | None = None  # when the current (debounced) press began
        self._long_fired = False
        self._second = False  # the current press is the second of a double press
        self._single_at: float | None = None  # when a pending single press fires, if no second comes

    @property
    def pressed(self) -> bool:
        """The debounced level."""
        return self._pressed

    @property
    def deadline(self) -> float | None:
        """The next time :meth:`poll` may produce something (or change state) without a new edge."""
        times = [self._quiet_at, self._single_at]
        if self.wants_long and self._pressed and not self._long_fired and not self._second and self._down_at is not None:
            times.append(self._down_at + self.timing.long_press_s)
        times = [t for t in times if t is not None]
        return min(times) if times else None

    def edge(self, pressed: bool, t: float) -> list[Gesture]:
        """The switch's level changed to ``pressed`` at time ``t`` (seconds, monotonic)."""
        out = self.poll(t)
        pressed = bool(pressed)
        if pressed == self._raw:
            return out
        self._raw = pressed
        if self._quiet_at is not None:  # inside a debounce spell: settle at its end
            return out
        out += self._accept(pressed, t)
        return out

    def poll(self, t: float) -> list[Gesture]:
        """Everything that became certain by time ``t``, in order."""
        out: list[Gesture] = []
        while True:
            d = self.deadline
            if d is None or d > t:
                return out
            if d == self._quiet_at:
                self._quiet_at = None
                if self._raw != self._pressed:
                    out += self._accept(self._raw, d)
            elif d == self._single_at:
                self._single_at = None
                out.append(Gesture.PRESS)
            else:  # the long-press time of a press still held
                self._long_fired = True
                out.append(Gesture.LONG)

    def reset(self) -> None:
        """Forget any press in progress (e.g. after the pin was re-opened)."""
        self.__init__(self.timing, long=self.wants_long, double=self.wants_double, pressed=self._raw)

    # -- the debounced edges ------------------------------------------------------------------
    def _accept(self, pressed: bool, t: float) -> list[Gesture]:
        self._pressed = pressed
        if self.timing.debounce_s > 0:
            self._quiet_at = t + self.timing.debounce_s
        return self._down(t) if pressed else self._up(t)

    def _down(self, t: float) -> list[Gesture]:
        self._down_at = t
        self._long_fired = False
        if self._single_at is not None:  # the second press of a double press
            self._single_at = None
            self._second = True
            return [Gesture.DOUBLE]
        self._second = False
        if not self.wants_long and not self.wants_double:
            return [Gesture.PRESS]
        return []

    def _up(self, t: float) -> list[Gesture]:
        if self._second or self._long_fired or self._down_at is None:
            return []
        if not self.wants_long and not self.wants_double:
            return []  # fired on the way down
        if self.wants_double:
            self._single_at = t + self.timing.double_press_s
            return []
        return [Gesture.PRESS]
