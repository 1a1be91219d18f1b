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
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from jambox.errors import AudioDeviceError


class JackServer:
    """``jackd --no-realtime -d dummy -r RATE -p PERIOD`` under a unique name; a context manager."""

    def __init__(self, sample_rate: int = 48000, period: int = 128, name: str | None = None,
                 log_path: str | Path | None = None, sync: bool = True, extra: tuple[str, ...] = ()):
        self.sample_rate = int(sample_rate)
        self.period = int(period)
        self.name = name or f"jambox-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.log_path = Path(log_path) if log_path else None
        self.extra = (("-S",) if sync else ()) + tuple(extra)  # more jackd options, before the driver
        self.proc: subprocess.Popen | None = None
        self._log = None

    @property
    def env(self) -> dict[str, str]:
        """The environment a client process needs to find this server."""
        return {**os.environ, "JACK_DEFAULT_SERVER": self.name, "JACK_NO_START_SERVER": "1"}

    def start(self, timeout_s: float = 10.0) -> "JackServer":
        exe = shutil.which("jackd")
        if exe is None:
            raise AudioDeviceError("jackd not found; install Debian's jackd2 (sudo apt install jackd2)")
        self._log = open(self.log_path, "wb") if self.log_path else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [exe, "--no-realtime", *self.extra, "--name", self.name, "-d", "dummy", "-r", str(self.sample_rate),
             "-p", str(self.period), "-C", "2", "-P", "2"],
            stdout=self._log, stderr=subprocess.STDOUT, env=self.env,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AudioDeviceError(f"jackd (server {self.name}) exited with status {self.proc.returncode}"
                                       + (f"; see {self.log_path}" if self.log_path else ""))
            if self._server_answers():
                return self
            time.sleep(0.1)
        self.stop()
        raise AudioDeviceError(f"jackd (server {self.name}) did not come up within {timeout_s:g} s")

    def _server_answers(self) -> bool:
        try:
            import jack
        except (ImportError, OSError):
            time.sleep(1.0)  # without the JACK-Client package, give the server a moment
            return True
        old = os.environ.get("JACK_DEFAULT_SERVER")
        os.environ["JACK_DEFAULT_SERVER"] = self.name
        try:
            client = jack.Client("jambox-probe", no_start_server=True, servername=self.name)
        except jack.JackError:
            return False
        finally:
            if old is None:
                os.environ.pop("JACK_DEFAULT_SERVER", None)
            else:
                os.environ["JACK_DEFAULT_SERVER"] = old
        client.close()
        return True

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

        old = os.environ.get("JACK_DEFAULT_SERVER")
        os.environ["JACK_DEFAULT_SERVER"] = self.name
        sd._terminate()
        sd._initialize()
        try:
            yield sd
        finally:
            sd._terminate()
            if old is None:
                os.environ.pop("JACK_DEFAULT_SERVER", None)
            else:
                os.environ["JACK_DEFAULT_SERVER"] = old
            self.stop()
            sd._initialize()

    def __enter__(self) -> "JackServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
