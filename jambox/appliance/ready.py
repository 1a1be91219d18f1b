"""Start a command the way systemd starts ``Type=notify`` services, and wait for it to say READY=1.

This is systemd's side of the sd_notify protocol without systemd: a unix datagram socket that the
child finds in ``NOTIFY_SOCKET`` (and a watchdog interval in ``WATCHDOG_USEC`` when asked), and a
clock from the moment the child is started. It measures what the unit's ``TimeoutStartSec=`` and
``WatchdogSec=`` depend on: the time from start to READY (the model loaded, the audio open), the
watchdog pings while it runs, and the time it takes to stop on SIGTERM. ``jambox bench`` uses it for
the start-to-ready figure; deploy.sh can use it as its readiness check where there is no systemd:

    python -m jambox.appliance.ready --timeout 60 -- jambox run --duration 30
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class ReadyResult:
    ready: bool
    ready_s: float | None = None  # seconds from start to READY=1
    status: str | None = None  # the last STATUS= line
    messages: list[str] = field(default_factory=list)  # every datagram, in order
    message_s: list[float] = field(default_factory=list)  # when each arrived, seconds from the start
    watchdog_pings: int = 0  # WATCHDOG=1 received (while held after READY)
    exit_code: int | None = None  # the child's exit status (None if we stopped it)
    stopped_by_us: bool = False
    stop_s: float | None = None  # seconds from our SIGTERM to its exit
    stopping_sent: bool = False  # the child said STOPPING=1 after our SIGTERM
    output_tail: str = ""  # the last of its stdout/stderr, for a failed start


def _fields(datagram: str) -> dict[str, str]:
    out = {}
    for line in datagram.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out[key] = value
    return out


def wait_for_ready(cmd: list[str], *, timeout: float = 60.0, hold: float = 0.0, watchdog_usec: int | None = None,
                   env: dict[str, str] | None = None, stop_timeout: float = 15.0, cwd: str | None = None) -> ReadyResult:
    """Run ``cmd`` with a notify socket; wait up to ``timeout`` s for READY=1, then ``hold`` s, then SIGTERM it.

    A child that exits before READY is a failed start (``ready=False`` with its exit status and output).
    """
    result = ReadyResult(ready=False)
    with tempfile.TemporaryDirectory(prefix="jambox-notify-") as tmp:
        path = str(Path(tmp) / "notify.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        child_env = dict(os.environ if env is None else env)
        child_env["NOTIFY_SOCKET"] = path
        child_env.pop("WATCHDOG_PID", None)
        if watchdog_usec:
            child_env["WATCHDOG_USEC"] = str(int(watchdog_usec))
        else:
            child_env.pop("WATCHDOG_USEC", None)
        log = tempfile.TemporaryFile(dir=tmp)
        t0 = time.monotonic()
        child = subprocess.Popen(cmd, env=child_env, stdout=log, stderr=subprocess.STDOUT, cwd=cwd,
                                 start_new_session=True)
        try:
            deadline = t0 + timeout
            hold_until = None
            while True:
                now = time.monotonic()
                if hold_until is not None and now >= hold_until:
                    break
                if hold_until is None and now >= deadline:
                    break
                if child.poll() is not None:
                    result.exit_code = child.returncode
                    break
                sock.settimeout(min(0.05, max(0.001, (hold_until or deadline) - now)))
                try:
                    data = sock.recv(65536).decode("utf-8", "replace")
                except socket.timeout:
                    continue
                result.messages.append(data)
                result.message_s.append(time.monotonic() - t0)
                f = _fields(data)
                if "STATUS" in f:
                    result.status = f["STATUS"]
                if f.get("WATCHDOG") == "1" and result.ready:
                    result.watchdog_pings += 1
                if f.get("READY") == "1" and not result.ready:
                    result.ready = True
                    result.ready_s = time.monotonic() - t0
                    hold_until = time.monotonic() + hold
        finally:
            if child.poll() is None:
                result.stopped_by_us = True
                t_stop = time.monotonic()
                child.send_signal(signal.SIGTERM)
                try:
                    child.wait(stop_timeout)
                except subprocess.TimeoutExpired:
                    os.killpg(child.pid, signal.SIGKILL)
                    child.wait()
                result.stop_s = time.monotonic() - t_stop
                result.exit_code = child.returncode
                sock.settimeout(0.05)
                try:
                    while True:
                        f = _fields(sock.recv(65536).decode("utf-8", "replace"))
                        result.stopping_sent |= f.get("STOPPING") == "1"
                except (socket.timeout, OSError):
                    pass
            sock.close()
            log.seek(0)
            result.output_tail = log.read()[-4000:].decode("utf-8", "replace")
            log.close()
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m jambox.appliance.ready",
                                description="Run COMMAND as systemd runs a Type=notify service and wait for READY=1.")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for READY=1 (default 60)")
    p.add_argument("--hold", type=float, default=0.0, help="seconds to keep it running after READY (default 0)")
    p.add_argument("--watchdog-usec", type=int, default=None, help="set WATCHDOG_USEC for the child")
    p.add_argument("--json", action="store_true", help="print the whole result as JSON")
    p.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND [ARGS...]")
    args = p.parse_args(argv)
    cmd = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not cmd:
        p.error("give the command to run after --")
    r = wait_for_ready(cmd, timeout=args.timeout, hold=args.hold, watchdog_usec=args.watchdog_usec)
    if args.json:
        print(json.dumps(asdict(r), indent=2))
    elif r.ready:
        print(f"ready after {r.ready_s:.2f} s" + (f": {r.status}" if r.status else ""))
    else:
        why = f"exited with status {r.exit_code} before READY" if not r.stopped_by_us else \
            f"no READY=1 within {args.timeout:g} s"
        print(f"not ready: {why}" + (f" (last status: {r.status})" if r.status else ""), file=sys.stderr)
        if r.output_tail:
            print(r.output_tail, file=sys.stderr)
    return 0 if r.ready else 1


if __name__ == "__main__":
    sys.exit(main())
