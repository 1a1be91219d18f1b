"""The status LEDs: what the box shows, as patterns in time, and one thread that drives the lights.

Five LEDs (config ``[gpio] led_*_pin``):

=============  ===============================================================================
listening      steady while the box listens (the input is open)
playing        steady while the accompaniment plays; every acknowledged action flips it briefly
beat           a flash on each beat, brighter and longer on the downbeat
suggestion     blinks while a suggestion is pending (KEEP adopts it, LET GO drops it)
error          blinks a code after a fatal start-up error: N blinks, a pause, again; the other
               LEDs go dark. N is the error's exit code (:func:`error_code`), so the same number
               is in the log, the exit status and on the box
=============  ===============================================================================

:class:`LedPicture` is pure: the brightness of each LED at a time and when the picture next
changes without being told anything. :class:`StatusLeds` owns the outputs (gpiozero ``PWMLED``s,
or anything with a ``value`` attribute) and one thread that sleeps until the next change or until
the logic thread calls a method; the methods only set state and wake it, so the logic thread
never waits on a light. :class:`NullStatusLeds` is the same interface for a box with no LEDs.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

LED_NAMES = ("listening", "playing", "beat", "suggestion", "error")


@dataclass(frozen=True, slots=True)
class LedTiming:
    """Seconds and brightness levels (0..1) of the patterns."""

    beat_flash_s: float = 0.06
    downbeat_flash_s: float = 0.12
    beat_level: float = 0.35  # a plain beat is dimmer than the downbeat
    ack_flash_s: float = 0.08
    suggestion_period_s: float = 0.5  # one on-and-off of the suggestion blink
    error_on_s: float = 0.25
    error_off_s: float = 0.25
    error_pause_s: float = 1.5  # between repeats of the code
    steady_level: float = 1.0

    def error_cycle_s(self, code: int) -> float:
        return code * (self.error_on_s + self.error_off_s) + self.error_pause_s


def error_code(exc: BaseException) -> int:
    """How many blinks show ``exc``: a JamboxError's exit code (2 config, 4 model/soundfont, 5 devices...), else 1."""
    from jambox.errors import JamboxError

    return int(exc.exit_code) if isinstance(exc, JamboxError) else 1


@dataclass(slots=True)
class LedPicture:
    """What the LEDs show, as state plus the times of the transient flashes. Pure; not thread-safe."""

    timing: LedTiming = field(default_factory=LedTiming)
    listening: bool = False
    playing: bool = False
    suggestion_since: float | None = None
    beat_until: float = float("-inf")
    beat_bright: float = 0.0
    ack_until: float = float("-inf")
    error: int | None = None
    error_since: float = 0.0

    def frame(self, t: float) -> tuple[float, ...]:
        """The brightness of each LED (in :data:`LED_NAMES` order) at time ``t``."""
        tm = self.timing
        if self.error is not None:
            phase = (t - self.error_since) % tm.error_cycle_s(self.error)
            blink = int(phase // (tm.error_on_s + tm.error_off_s))
            within = phase - blink * (tm.error_on_s + tm.error_off_s)
            lit = blink < self.error and within < tm.error_on_s
            return (0.0, 0.0, 0.0, 0.0, tm.steady_level if lit else 0.0)
        playing = self.playing != (t < self.ack_until)  # an ack flips the playing LED
        if self.suggestion_since is not None:
            half = tm.suggestion_period_s / 2
            suggestion = ((t - self.suggestion_since) // half) % 2 == 0
        else:
            suggestion = False
        on = tm.steady_level
        return (on if self.listening else 0.0, on if playing else 0.0,
                self.beat_bright if t < self.beat_until else 0.0, on if suggestion else 0.0, 0.0)

    def next_change(self, t: float) -> float | None:
        """The earliest time after ``t`` at which :meth:`frame` may differ, with nothing new said."""
        tm = self.timing
        if self.error is not None:
            cycle = tm.error_cycle_s(self.error)
            start = self.error_since + ((t - self.error_since) // cycle) * cycle
            edges = []
            for i in range(self.error):
                on = start + i * (tm.error_on_s + tm.error_off_s)
                edges += [on, on + tm.error_on_s]
            edges.append(start + cycle)
            return min(e for e in edges if e > t)
        times = [x for x in (self.beat_until, self.ack_until) if x > t]
        if self.suggestion_since is not None:
            half = tm.suggestion_period_s / 2
            times.append(self.suggestion_since + ((t - self.suggestion_since) // half + 1) * half)
        return min(times) if times else None


class StatusLeds:
    """The status LEDs, driven by one thread. Every method returns at once; call from any thread.

    ``outputs`` maps LED names (:data:`LED_NAMES`) to objects with a settable ``value`` (0..1), such
    as gpiozero ``PWMLED``; missing names are simply not shown. ``close`` turns them off and closes
    the outputs that have a ``close`` method.
    """

    def __init__(self, outputs: dict, *, timing: LedTiming = LedTiming(), clock=time.monotonic):
        unknown = set(outputs) - set(LED_NAMES)
        if unknown:
            from jambox.errors import GpioError

            raise GpioError(f"unknown status LED {sorted(unknown)[0]!r}; expected one of: {', '.join(LED_NAMES)}")
        self._outputs = [outputs.get(name) for name in LED_NAMES]
        self._clock = clock
        self._picture = LedPicture(timing)
        self._shown: list[float | None] = [None] * len(LED_NAMES)
        self._wake = threading.Condition()
        self._dirty = True
        self._closed = False
        self.writes = 0  # output writes so far (for the bench)
        self._thread = threading.Thread(target=self._run, name="jambox-leds", daemon=True)
        self._thread.start()

    # -- what the logic thread says -----------------------------------------------------------
    def set_listening(self, on: bool) -> None:
        self._change(listening=bool(on))

    def set_playing(self, on: bool) -> None:
        self._change(playing=bool(on))

    def beat(self, downbeat: bool = False) -> None:
        """Flash the beat LED now (call it when the beat sounds)."""
        tm = self._picture.timing
        now = self._clock()
        self._change(beat_until=now + (tm.downbeat_flash_s if downbeat else tm.beat_flash_s),
                     beat_bright=tm.steady_level if downbeat else tm.beat_level)

    def set_suggestion(self, pending: bool) -> None:
        with self._wake:
            p = self._picture
            if pending and p.suggestion_since is None:
                p.suggestion_since = self._clock()
            elif not pending:
                p.suggestion_since = None
            self._dirty = True
            self._wake.notify()

    def ack(self) -> None:
        """Acknowledge an action the session applied and memory committed: the playing LED flips briefly."""
        self._change(ack_until=self._clock() + self._picture.timing.ack_flash_s)

    def show_error(self, code: int, *, cycles: int = 0) -> None:
        """Blink ``code`` (1..9) on the error LED, the others dark; with ``cycles`` > 0, return after
        that many repeats of the code (so an appliance can show it before it exits)."""
        from jambox.errors import ValueRangeError

        if isinstance(code, bool) or not isinstance(code, int) or not 1 <= code <= 9:
            raise ValueRangeError(f"error code must be an integer in range 1..9, not {code!r}")
        self._change(error=code, error_since=self._clock())
        if cycles > 0:
            time.sleep(cycles * self._picture.timing.error_cycle_s(code))

    def clear_error(self) -> None:
        self._change(error=None)

    def close(self) -> None:
        with self._wake:
            if self._closed:
                return
            self._closed = True
            self._wake.notify()
        self._thread.join(timeout=2.0)
        for out in self._outputs:
            if out is None:
                continue
            try:
                out.value = 0.0
            finally:
                if hasattr(out, "close"):
                    out.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def picture(self) -> LedPicture:
        """A copy of the current state (for tests and a status display)."""
        with self._wake:
            p = self._picture
            return LedPicture(p.timing, p.listening, p.playing, p.suggestion_since, p.beat_until, p.beat_bright,
                              p.ack_until, p.error, p.error_since)

    # -- the LED thread -----------------------------------------------------------------------
    def _change(self, **values) -> None:
        with self._wake:
            for k, v in values.items():
                setattr(self._picture, k, v)
            self._dirty = True
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                if self._closed:
                    return
                now = self._clock()
                frame = self._picture.frame(now)
                nxt = self._picture.next_change(now)
                self._dirty = False
            self._show(frame)  # outside the lock: a caller never waits on a light being written
            with self._wake:
                # a hair past the change, so that float rounding cannot leave us just before it
                timeout = None if nxt is None else max(0.0, nxt - self._clock()) + 1e-4
                self._wake.wait_for(lambda: self._dirty or self._closed, timeout=timeout)

    def _show(self, frame: tuple[float, ...]) -> None:
        for i, (out, level) in enumerate(zip(self._outputs, frame)):
            if out is not None and self._shown[i] != level:
                out.value = level
                self._shown[i] = level
                self.writes += 1


class NullStatusLeds:
    """The same interface for a box without LEDs (a laptop): it remembers the state and shows nothing."""

    def __init__(self):
        self.acks = 0
        self.error: int | None = None
        self.listening = self.playing = self.suggestion = False

    def set_listening(self, on: bool) -> None:
        self.listening = bool(on)

    def set_playing(self, on: bool) -> None:
        self.playing = bool(on)

    def beat(self, downbeat: bool = False) -> None:
        pass

    def set_suggestion(self, pending: bool) -> None:
        self.suggestion = bool(pending)

    def ack(self) -> None:
        self.acks += 1

    def show_error(self, code: int, *, cycles: int = 0) -> None:
        self.error = code

    def clear_error(self) -> None:
        self.error = None

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
