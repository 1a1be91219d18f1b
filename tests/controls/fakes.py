"""Test helpers for the control inputs: an MCP3008 on gpiozero's mock SPI bus, a fake clock, a JACK
server with the dummy backend (for real rtmidi ports where there is no ALSA sequencer), configs."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid

from gpiozero.pins.mock import MockSPIDevice

from jambox.config.load import load_config


class FakeClock:
    def __init__(self, t: float = 100.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


class FakeMcp3008(MockSPIDevice):
    """The ADC's side of the SPI conversation (datasheet, figure 6-1): a start bit, SGL/DIFF, three
    channel bits; then one sample clock, a null bit and ten result bits, MSB first.
    ``levels[ch]`` is the knob position 0..1 on channel ``ch`` (single-ended)."""

    def __init__(self, factory, select_pin=8):
        super().__init__(11, 10, 9, select_pin, pin_factory=factory)
        self.levels = [0.0] * 8
        self.reads = 0
        self._phase = "idle"

    def on_start(self):
        super().on_start()
        self._phase = "idle"

    def on_bit(self):
        if self._phase == "idle":
            if self.rx_buf[-1]:  # the start bit
                self._phase, self.rx_buf = "mode", []
        elif self._phase == "mode":
            self._phase, self.rx_buf = "channel", []
        elif self._phase == "channel" and len(self.rx_buf) == 3:
            channel = self.rx_word()
            code = max(0, min(1023, round(self.levels[channel] * 1023)))
            self.tx_word(code, 12)  # sample clock + null bit + 10 bits
            self.reads += 1
            self._phase = "result"


def wait_until(condition, timeout=3.0) -> bool:
    """Poll ``condition`` every 10 ms until it holds (True) or ``timeout`` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def config_with(**sections):
    """The default config with overrides, e.g. config_with(controls={"knobs": "none"})."""
    cfg = load_config(search=[])
    return cfg.with_overrides(sections, "test") if sections else cfg


class JackServer:
    """``jackd -d dummy`` under a private server name, for rtmidi's JACK API. Use as a context manager;
    it sets JACK_DEFAULT_SERVER for this process while it runs."""

    def __init__(self):
        self.name = f"jambox-test-{uuid.uuid4().hex[:8]}"
        self.proc: subprocess.Popen | None = None
        self._saved = None

    @staticmethod
    def available() -> bool:
        return shutil.which("jackd") is not None

    def __enter__(self):
        env = dict(os.environ, JACK_NO_AUDIO_RESERVATION="1")
        self.proc = subprocess.Popen(["nice", "jackd", "--no-realtime", "-n", self.name, "-d", "dummy",
                                      "-r", "48000", "-p", "256"], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self._saved = os.environ.get("JACK_DEFAULT_SERVER")
        os.environ["JACK_DEFAULT_SERVER"] = self.name
        import rtmidi

        deadline = time.monotonic() + 10
        while True:  # wait until a client can connect
            try:
                probe = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, "probe")
                probe.open_virtual_port("probe")
                probe.delete()
                return self
            except rtmidi.RtMidiError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    err = self.proc.stderr.read().decode(errors="replace") if self.proc.poll() is not None else ""
                    self.__exit__()
                    raise RuntimeError(f"jackd did not start: {err[-500:]}")
                time.sleep(0.05)

    def __exit__(self, *exc):
        if self._saved is None:
            os.environ.pop("JACK_DEFAULT_SERVER", None)
        else:
            os.environ["JACK_DEFAULT_SERVER"] = self._saved
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
