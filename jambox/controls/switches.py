"""Switches whose gestures become Actions: the mapping from config and one timer for all of them.

Used by the GPIO panel (buttons, foot-switches) and by the MIDI input (a MIDI foot-switch bound to
``footswitch`` behaves exactly like the one on the jack: press, long press, double press as
configured). Edges arrive on any thread (gpiozero's, rtmidi's); each goes through the switch's
:class:`~jambox.controls.gestures.GestureDetector` under one lock, and one timer thread sleeps
until the earliest deadline of any switch (a long press still held, a single press waiting out the
double-press window) or until an edge changes the deadlines. Only :class:`Action` values leave.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

from jambox.controls.actions import Action, ActionKind
from jambox.controls.gestures import Gesture, GestureDetector, GestureTiming

log = logging.getLogger(__name__)

SWITCHES = ("keep", "softer", "dissonance", "footswitch", "footswitch2")
SWITCH_LABELS = {"keep": "KEEP button", "softer": "SOFTER button", "dissonance": "MORE DISSONANCE button",
                 "footswitch": "foot-switch", "footswitch2": "second foot-switch"}


@dataclass(frozen=True, slots=True)
class SwitchSpec:
    """One switch: where it is (a BCM pin, or -1 off the GPIO) and what each gesture does (None = nothing)."""

    name: str
    pin: int
    press: ActionKind | None
    long: ActionKind | None
    double: ActionKind | None

    def action_for(self, gesture: Gesture) -> ActionKind | None:
        return {Gesture.PRESS: self.press, Gesture.LONG: self.long, Gesture.DOUBLE: self.double}[gesture]


def _kind(value: str) -> ActionKind | None:
    return ActionKind(value) if value else None


def switch_spec(config, name: str) -> SwitchSpec:
    """Switch ``name``'s pin and gesture mapping from ``[gpio]`` and ``[controls]``, fitted or not."""
    c = config.controls
    press = c.footswitch_action if name == "footswitch" else getattr(c, f"{name}_press")
    return SwitchSpec(name, getattr(config.gpio, f"{name}_pin"), _kind(press), _kind(getattr(c, f"{name}_long")),
                      _kind(getattr(c, f"{name}_double")))


def switch_specs(config) -> list[SwitchSpec]:
    """The switches fitted to the GPIO (pin >= 0)."""
    return [s for s in (switch_spec(config, name) for name in SWITCHES) if s.pin >= 0]


class SwitchBank:
    """Gesture detection for a set of switches, submitting one Action per mapped gesture.

    ``start=False`` leaves the timer unstarted, for tests that call :meth:`poll` with a fake ``clock``.
    """

    def __init__(self, submit: Callable[[Action], None], *, source: str, clock: Callable[[], float] = time.monotonic):
        self._submit = submit
        self.source = source
        self._clock = clock
        self._lock = threading.Condition()
        self._switches: list[tuple[SwitchSpec, GestureDetector]] = []
        self._thread: threading.Thread | None = None
        self._closed = False
        self.submitted = 0

    def add(self, spec: SwitchSpec, timing: GestureTiming, *, pressed: bool = False) -> int:
        """A switch; returns its index for :meth:`edge`. ``pressed``: its level now."""
        det = GestureDetector(timing, long=spec.long is not None, double=spec.double is not None, pressed=pressed)
        with self._lock:
            self._switches.append((spec, det))
            return len(self._switches) - 1

    @property
    def specs(self) -> list[SwitchSpec]:
        return [spec for spec, _ in self._switches]

    def edge(self, index: int, pressed: bool) -> None:
        """Switch ``index`` went down (``pressed``) or up, now. Any thread."""
        with self._lock:
            spec, det = self._switches[index]
            gestures = det.edge(pressed, self._clock())
            self._lock.notify()  # the timer may have a new deadline
        self._fire(spec, gestures)

    def poll(self, now: float | None = None) -> None:
        """Fire the gestures whose time has come (long presses held, single presses not doubled)."""
        now = self._clock() if now is None else now
        with self._lock:
            fired = [(spec, det.poll(now)) for spec, det in self._switches]
        for spec, gestures in fired:
            self._fire(spec, gestures)

    def start(self) -> None:
        if self._thread is None and self._switches:
            self._thread = threading.Thread(target=self._timer, name=f"jambox-{self.source}-gestures", daemon=True)
            self._thread.start()

    def _timer(self) -> None:
        while True:
            with self._lock:
                if self._closed:
                    return
                deadlines = [d for _, det in self._switches if (d := det.deadline) is not None]
                # a hair past the deadline, so that it has surely passed when poll() looks
                timeout = None if not deadlines else max(0.0, min(deadlines) - self._clock()) + 1e-4
                if timeout is None or timeout > 1e-4:
                    self._lock.wait(timeout)
                if self._closed:
                    return
            self.poll()

    def _fire(self, spec: SwitchSpec, gestures: list[Gesture]) -> None:
        for g in gestures:
            kind = spec.action_for(g)
            if kind is not None:
                self.submitted += 1
                try:
                    self._submit(Action(kind, self.source))
                except Exception:  # the input thread (gpiozero's, rtmidi's, our timer) must survive it
                    log.exception("submitting %s from the %s", kind.value, spec.name)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._lock.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2.0)
