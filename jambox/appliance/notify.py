"""Tell systemd how the box is doing: READY once it can play, STATUS lines, STOPPING, and the watchdog.

The unit (systemd/jambox.service) is ``Type=notify`` with ``WatchdogSec=``: systemd considers the box
started only when :meth:`Notifier.ready` is sent (after the model is loaded and the audio stream is
open), and kills and restarts it when :meth:`Notifier.watchdog` has not been called for the watchdog
interval, so a hung engine recovers by itself. The logic thread feeds the watchdog on every hop; the
call is rate-limited to half the interval and costs one clock read when nothing is due.

Outside systemd (a laptop, the tests) ``NOTIFY_SOCKET`` is unset and every method is a cheap no-op,
so ``jambox run`` calls them unconditionally. The messages go through the ``sdnotify`` package (the
plain sd_notify datagram protocol); the socket is made non-blocking so a send can never stall the
logic thread, and failed sends are counted rather than raised.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Callable, Mapping

log = logging.getLogger(__name__)


def under_systemd(environ: Mapping[str, str] | None = None) -> bool:
    """True when systemd started this process as a service (it sets ``INVOCATION_ID`` or ``NOTIFY_SOCKET``).

    ``jambox run`` uses this to keep retrying a lost audio device instead of exiting.
    """
    env = os.environ if environ is None else environ
    return bool(env.get("INVOCATION_ID") or env.get("NOTIFY_SOCKET"))


def watchdog_interval(environ: Mapping[str, str] | None = None, pid: int | None = None) -> float | None:
    """The watchdog interval in seconds that systemd expects us to keep, or None when there is none.

    systemd sets ``WATCHDOG_USEC`` (and ``WATCHDOG_PID``, the process it means) when the unit has
    ``WatchdogSec=``. A WATCHDOG_PID naming another process (a child that inherited the environment)
    means the watchdog is not ours to feed.
    """
    env = os.environ if environ is None else environ
    raw = env.get("WATCHDOG_USEC", "").strip()
    if not raw:
        return None
    try:
        usec = int(raw)
    except ValueError:
        log.warning("ignoring WATCHDOG_USEC=%r: expected a whole number of microseconds", raw)
        return None
    if usec <= 0:
        return None
    owner = env.get("WATCHDOG_PID", "").strip()
    if owner:
        try:
            if int(owner) != (os.getpid() if pid is None else pid):
                return None
        except ValueError:
            log.warning("ignoring WATCHDOG_PID=%r: expected a process id", owner)
            return None
    return usec / 1_000_000


def _one_line(text: str) -> str:
    """sd_notify assignments are newline-separated: a status must stay on one line."""
    return " ".join(str(text).split())


class Notifier:
    """The box's side of the sd_notify protocol. Construct once in ``jambox run``; share with the logic thread.

    >>> n = Notifier()          # reads NOTIFY_SOCKET / WATCHDOG_USEC from the environment
    >>> n.status("loading the model")
    >>> n.ready("listening on hw:sndrpihifiberry")   # model loaded, audio open
    >>> n.watchdog()            # from the logic thread, every hop: sends at most every interval/2
    >>> n.stopping()            # on SIGTERM, before stopping the subsystems
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self.socket_path: str | None = os.environ.get("NOTIFY_SOCKET") or None
        self.watchdog_s: float | None = watchdog_interval()
        self.is_ready = False
        self.sent = 0  # messages sent
        self.send_errors = 0  # sends that failed (full socket buffer, systemd gone): counted, never raised
        self.last_status: str | None = None
        self.failure: str | None = None  # set by failed(): stays the status through the shutdown
        self._sd = None
        self._next_feed = 0.0
        if self.socket_path:
            self._sd = self._connect(self.socket_path)

    @staticmethod
    def _connect(path: str):
        import sdnotify

        try:
            sd = sdnotify.SystemdNotifier(debug=True)  # reads NOTIFY_SOCKET; raises instead of swallowing
        except (OSError, IndexError) as e:
            log.warning("cannot reach systemd's notify socket %s (%s): READY and the watchdog will not be sent",
                        path, e)
            return None
        sd.socket.setblocking(False)
        return sd

    @property
    def enabled(self) -> bool:
        """True when there is a notify socket to talk to."""
        return self._sd is not None

    def send(self, *assignments: str) -> bool:
        """Send ``KEY=value`` assignments in one datagram. False (and counted) when it could not be sent."""
        if self._sd is None:
            return False
        try:
            self._sd.notify("\n".join(assignments))
        except OSError:
            self.send_errors += 1
            return False
        self.sent += 1
        return True

    def status(self, text: str) -> None:
        """A one-line status for ``systemctl status jambox`` (e.g. "loading the model", "playing at 96 BPM")."""
        self.last_status = _one_line(text)
        self.send(f"STATUS={self.last_status}")

    def ready(self, status: str | None = None) -> None:
        """The box can play: the model is loaded and the audio stream is open. Sends READY=1 once."""
        parts = [] if self.is_ready else ["READY=1"]
        if status is not None:
            self.last_status = _one_line(status)
            parts.append(f"STATUS={self.last_status}")
        if parts:
            self.send(*parts)
        self.is_ready = True
        self._next_feed = 0.0  # feed at the next watchdog() call

    def watchdog(self) -> bool:
        """Feed systemd's watchdog if it is due (every half interval). Cheap when not due; no-op without one.

        Call it from the thread whose progress proves the box is alive (the logic thread, each hop, and
        while it waits for a lost device to come back), never from the audio callback.
        """
        if self.watchdog_s is None or self._sd is None:
            return False
        now = self._clock()
        if now < self._next_feed:
            return False
        self._next_feed = now + self.watchdog_s / 2
        return self.send("WATCHDOG=1")

    def extend_timeout(self, seconds: float) -> None:
        """Ask systemd for more time to start or stop (e.g. a slow first model load on a cold SD card)."""
        self.send(f"EXTEND_TIMEOUT_USEC={max(0, int(seconds * 1_000_000))}")

    def stopping(self, status: str | None = None) -> None:
        """The box is shutting down: systemd will not count the exit as a hang.

        After :meth:`failed`, the failure stays the status (a "stopped" must not hide why)."""
        parts = ["STOPPING=1"]
        if status is not None and self.failure is None:
            self.last_status = _one_line(status)
            parts.append(f"STATUS={self.last_status}")
        self.send(*parts)

    def failed(self, status: str, errno: int | None = None) -> None:
        """A fatal error: the reason goes to ``systemctl status`` (and ERRNO= when there is one)."""
        self.last_status = self.failure = _one_line(status)
        parts = [f"STATUS={self.last_status}"]
        if errno is not None:
            parts.append(f"ERRNO={int(errno)}")
        self.send(*parts)

    def close(self) -> None:
        if self._sd is not None:
            try:
                self._sd.socket.close()
            except OSError:
                pass
            self._sd = None
