"""SIGTERM (systemd stopping the box), SIGINT (Ctrl-C) and SIGHUP as one "please stop" event.

systemd stops the service with SIGTERM and waits ``TimeoutStopSec`` before SIGKILL; the box must use
that time to stop cleanly: the performer's notes off, the audio stream closed, the session written to
memory. Python's default SIGTERM action kills the process without running ``finally`` blocks, so
``jambox run`` installs :class:`StopSignals` in the main thread and waits on :attr:`StopSignals.event`
(or polls :meth:`requested` from its loop); subsystems then stop in reverse order in ``finally``.

The handler only sets an event (safe at any moment); a second signal while stopping is taken as
"stop now" and raises KeyboardInterrupt in the main thread, so a wedged shutdown can still be broken
from the terminal.
"""

from __future__ import annotations

import signal
import threading

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class StopSignals:
    """Context manager: while active, the stop signals set :attr:`event` instead of killing the process.

    >>> with StopSignals() as stop:
    ...     engine.start()
    ...     stop.event.wait()      # or: while not stop.requested(): ...
    ... # previous handlers are restored here
    """

    def __init__(self, signals: tuple[signal.Signals, ...] = STOP_SIGNALS):
        self.signals = tuple(signals)
        self.event = threading.Event()
        self.received: signal.Signals | None = None  # the first stop signal received
        self._previous: dict[signal.Signals, object] = {}

    def requested(self) -> bool:
        return self.event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until a stop signal arrives (True) or ``timeout`` passes (False)."""
        return self.event.wait(timeout)

    def _handle(self, signum, frame) -> None:
        if self.event.is_set():
            raise KeyboardInterrupt(f"second stop signal ({signal.Signals(signum).name}) while stopping")
        self.received = signal.Signals(signum)
        self.event.set()

    def __enter__(self) -> "StopSignals":
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("StopSignals must be installed from the main thread (Python delivers signals there)")
        for s in self.signals:
            self._previous[s] = signal.signal(s, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for s, previous in self._previous.items():
            signal.signal(s, previous)
        self._previous.clear()
