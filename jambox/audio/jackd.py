"""A private JACK server on the dummy backend: the real audio path without a sound card.

The end-to-end tests and ``jambox bench`` start one with a unique server name (``JACK_DEFAULT_SERVER``),
so parallel runs never share a server, and run ``jambox run`` against it through PortAudio's JACK
host API. The dummy backend runs the JACK graph on a timer at the chosen rate and period, exactly as a
sound card's interrupt would, with silence on its capture ports.

The server runs in synchronous mode (``-S``) by default: each cycle waits for every client, so no
client ever misses a cycle and JACK's frame counter is one exact clock for all of them, which is what
lets a test line a recording up with the box's stream to the sample. In the default asynchronous mode
a client that is late simply misses the cycle, and on a loaded machine (the dummy driver is a plain
timer without real-time priority) the clients' frame counts drift apart. Late cycles are still
reported as xruns either way.

Realtime. With ``realtime=True`` the server runs ``jackd -R -P 70``: its cycle thread, and every
client's process thread (libjack gives them the server's priority less one), run SCHED_FIFO, as on
a studio machine or the Pi, so a busy process elsewhere cannot delay a cycle. ``realtime=None``
(the default) takes it where the machine allows SCHED_FIFO (:func:`realtime_allowed`, tried in a
child process), and ``JAMBOX_JACK_RT=0``/``1`` forces it off or on. After the start,
:attr:`JackServer.realtime` says what the server really got (jackd falls back to normal scheduling
when it cannot have SCHED_FIFO), read from its threads' policies.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from jambox.errors import AudioDeviceError


RT_PRIORITY = 70  # the server's SCHED_FIFO priority with -R (its clients' process threads get 69)


def realtime_allowed() -> bool:
    """Whether a process started here may take SCHED_FIFO (root, CAP_SYS_NICE or an RLIMIT_RTPRIO),
    tried in a child so that nothing in this process changes."""
    if not hasattr(os, "sched_setscheduler"):
        return False
    probe = "import os; os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))"
    try:
        return subprocess.run([sys.executable, "-c", probe], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def realtime_threads(pid: int) -> int:
    """How many of process ``pid``'s threads run SCHED_FIFO or SCHED_RR (0 where that cannot be read)."""
    try:
        tids = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        return 0
    n = 0
    for tid in tids:
        try:
            n += os.sched_getscheduler(tid) in (os.SCHED_FIFO, os.SCHED_RR)
        except OSError:  # the thread ended meanwhile
            pass
    return n


REGISTRY = Path("/dev/shm/jack-shm-registry")  # JACK's machine-wide table of servers (8 slots)


def dead_registered_names(registry: Path = REGISTRY) -> list[str]:
    """Names of ``jambox-*`` servers JACK's registry still lists although their process is gone.

    jackd frees its slot when it exits cleanly; a server that was killed (SIGKILL after a hung stop)
    keeps it for ever, and once all 8 are taken no server starts ("Too many servers already
    active"). jackd reclaims a dead slot only for a server of the same name, so a new server can
    take one of these names. Only our own names are offered, never another program's server."""
    import struct

    try:
        data = registry.read_bytes()
        _magic, _protocol, _type, _size, hdr_len, _entry = struct.unpack_from("<6I", data, 0)
    except (OSError, struct.error):
        return []
    names, stride = [], (hdr_len - 24) // 8
    for i in range(8):
        at = 24 + i * stride
        pid = struct.unpack_from("<i", data, at)[0]
        prefix = data[at + 4:at + stride].split(b"\0")[0].decode(errors="replace")  # "jack-UID:NAME:"
        parts = prefix.split(":")
        if pid <= 0 or len(parts) < 2 or not parts[1].startswith("jambox-"):
            continue
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            names.append(parts[1])
        except PermissionError:  # alive, another user's
            pass
    return names


class JackServer:
    """``jackd [-R -P 70 | --no-realtime] -d dummy -r RATE -p PERIOD`` under a unique name; a context manager."""

    def __init__(self, sample_rate: int = 48000, period: int = 128, name: str | None = None,
                 log_path: str | Path | None = None, sync: bool = True, extra: tuple[str, ...] = (),
                 realtime: bool | None = None):
        self.sample_rate = int(sample_rate)
        self.period = int(period)
        self.name = name or f"jambox-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._named = name is not None  # a name chosen by the caller is never changed
        self.log_path = Path(log_path) if log_path else None
        self.extra = (("-S",) if sync else ()) + tuple(extra)  # more jackd options, before the driver
        if realtime is None:
            forced = os.environ.get("JAMBOX_JACK_RT", "")
            realtime = forced == "1" if forced in ("0", "1") else realtime_allowed()
        self.realtime = bool(realtime)  # asked for; after start(), what the server really got
        self.proc: subprocess.Popen | None = None
        self._log = None

    @property
    def env(self) -> dict[str, str]:
        """The environment a client process needs to find this server."""
        return {**os.environ, "JACK_DEFAULT_SERVER": self.name, "JACK_NO_START_SERVER": "1"}

    def start(self, timeout_s: float = 10.0, slots_timeout_s: float = 60.0) -> "JackServer":
        """Start the server and wait until it answers.

        JACK registers at most 8 servers per machine (its shared-memory registry). A start that
        finds every slot taken takes over the slot of a killed ``jambox-*`` server (its name:
        :func:`dead_registered_names`), or else is tried again for up to ``slots_timeout_s`` (on a
        machine where others run test servers too, the slots come free as those servers stop)."""
        exe = shutil.which("jackd")
        if exe is None:
            raise AudioDeviceError("jackd not found; install Debian's jackd2 (sudo apt install jackd2)")
        cmd = [exe, *(("-R", "-P", str(RT_PRIORITY)) if self.realtime else ("--no-realtime",)), *self.extra,
               "--name", self.name, "-d", "dummy", "-r", str(self.sample_rate), "-p", str(self.period),
               "-C", "2", "-P", "2"]
        slots_deadline = time.monotonic() + slots_timeout_s
        while True:
            self._log = open(self.log_path, "wb") if self.log_path else subprocess.DEVNULL
            self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.PIPE, env=self.env)
            self._log_stderr()
            deadline = time.monotonic() + timeout_s
            up = False
            while time.monotonic() < deadline and self.proc.poll() is None:
                if self._server_answers():
                    up = True
                    break
                time.sleep(0.1)
            if self.proc.poll() is None:
                break
            self._stderr_thread.join(timeout=5)
            retry = time.monotonic() < slots_deadline and not self._named
            if retry and "Too many servers" in self._stderr_tail:
                self.stop()
                dead = dead_registered_names()
                if dead:  # take over a killed server's slot (jackd reclaims it for the same name)
                    self._rename(cmd, dead[0])
                else:
                    time.sleep(1.0)
                continue
            if retry and "already active" in self._stderr_tail:  # another start took the same dead slot
                self.stop()
                self._rename(cmd, f"jambox-{os.getpid()}-{uuid.uuid4().hex[:8]}")
                continue
            status = self.proc.returncode
            self.stop()
            raise AudioDeviceError(f"jackd (server {self.name}) exited with status {status}: "
                                   f"{self._stderr_tail.strip()[-300:] or 'no message'}"
                                   + (f"; see {self.log_path}" if self.log_path else ""))
        if not up:
            self.stop()
            raise AudioDeviceError(f"jackd (server {self.name}) did not come up within {timeout_s:g} s")
        if self.realtime:
            self.realtime = realtime_threads(self.proc.pid) > 0
        return self

    def _rename(self, cmd: list[str], name: str) -> None:
        self.name = name
        cmd[cmd.index("--name") + 1] = name

    def _log_stderr(self) -> None:
        """jackd's stderr into the log (where there is one), its last lines kept for an error message."""
        import threading

        self._stderr_tail = ""
        proc, log = self.proc, self._log

        def pump():
            for line in iter(proc.stderr.readline, b""):
                self._stderr_tail = (self._stderr_tail + line.decode(errors="replace"))[-2000:]
                if log is not subprocess.DEVNULL:
                    try:
                        log.write(line)
                        log.flush()
                    except (OSError, ValueError):  # the log was closed by stop()
                        pass

        self._stderr_thread = threading.Thread(target=pump, name="jackd-stderr", daemon=True)
        self._stderr_thread.start()

    def _server_answers(self) -> bool:
        try:
            import jack
        except (ImportError, OSError):
            time.sleep(1.0)  # without the JACK-Client package, give the server a moment
            return True
        with self.as_default():
            try:
                client = jack.Client("jambox-probe", no_start_server=True, servername=self.name)
            except jack.JackError:
                return False
        client.close()
        return True

    @contextmanager
    def as_default(self):
        """In this process, while it lasts: this server is the one a new JACK client (PortAudio's,
        rtmidi's, JACK-Client's) finds (``JACK_DEFAULT_SERVER``); the old value comes back after."""
        old = os.environ.get("JACK_DEFAULT_SERVER")
        os.environ["JACK_DEFAULT_SERVER"] = self.name
        try:
            yield self
        finally:
            if old is None:
                os.environ.pop("JACK_DEFAULT_SERVER", None)
            else:
                os.environ["JACK_DEFAULT_SERVER"] = old

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None
        if self._log not in (None, subprocess.DEVNULL):
            self._log.close()
        self._log = None

    @contextmanager
    def portaudio(self):
        """In this process: PortAudio re-scanned with this server's JACK devices, and shut down again
        before the server goes (PortAudio's JACK host API aborts the process if its server vanishes
        under it at shutdown)."""
        import sounddevice as sd

        try:
            with self.as_default():
                sd._terminate()
                sd._initialize()
                try:
                    yield sd
                finally:
                    sd._terminate()
        finally:
            self.stop()
            sd._initialize()

    def __enter__(self) -> "JackServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
