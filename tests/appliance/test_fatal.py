"""A fatal start-up error reaches the log, systemd's status line and the error LED, and is re-raised unchanged."""

from __future__ import annotations

import logging
import socket

import pytest

from jambox.appliance.fatal import error_code, fatal_errors_shown, show_fatal
from jambox.appliance.notify import Notifier
from jambox.controls.leds import LedTiming, NullStatusLeds, StatusLeds
from jambox.errors import AudioDeviceError, ConfigError, ModelError


class RecordingLed:
    """Stands where a gpiozero PWMLED would be: remembers every brightness written."""

    def __init__(self):
        self.values: list[float] = []

    @property
    def value(self):
        return self.values[-1] if self.values else 0.0

    @value.setter
    def value(self, v):
        self.values.append(v)


@pytest.fixture
def notify_socket(tmp_path, monkeypatch):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "n.sock"))
    sock.settimeout(1.0)
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "n.sock"))
    yield sock
    sock.close()


def test_error_codes_are_the_exit_statuses():
    assert error_code(ModelError("x")) == 4
    assert error_code(AudioDeviceError("x")) == 5
    assert error_code(ConfigError("x")) == 2
    assert error_code(ValueError("x")) == 1


def test_show_fatal_logs_tells_systemd_and_blinks(notify_socket, caplog):
    leds = NullStatusLeds()
    with caplog.at_level(logging.ERROR):
        code = show_fatal(ModelError("model file models/x.onnx is corrupt"), notifier=Notifier(), leds=leds)
    assert code == 4
    assert leds.error == 4
    assert "cannot start (exit status 4): model file models/x.onnx is corrupt" in caplog.text
    assert notify_socket.recv(4096).decode() == "STATUS=cannot start: model file models/x.onnx is corrupt"


def test_the_error_led_really_blinks_the_code_before_returning():
    error_led, playing_led = RecordingLed(), RecordingLed()
    fast = LedTiming(error_on_s=0.02, error_off_s=0.02, error_pause_s=0.05)
    with StatusLeds({"error": error_led, "playing": playing_led}, timing=fast) as leds:
        leds.set_playing(True)
        show_fatal(AudioDeviceError("no input device"), leds=leds, cycles=2)
    blinks = sum(1 for a, b in zip(error_led.values, error_led.values[1:]) if a == 0 and b > 0)
    blinks += 1 if error_led.values and error_led.values[0] > 0 else 0
    assert blinks >= 5  # two cycles of five blinks, give or take the edges of the window
    assert playing_led.value == 0.0  # the other LEDs go dark


def test_fatal_errors_shown_reraises_the_original_error_even_when_the_leds_fail(caplog):
    class BrokenLeds:
        def show_error(self, code, cycles=0):
            raise OSError("GPIO busy")

    with pytest.raises(ModelError, match="corrupt"):
        with fatal_errors_shown(leds=BrokenLeds()):
            raise ModelError("corrupt")
    assert "could not show the start-up error" in caplog.text


def test_the_led_factory_is_only_called_on_error():
    calls = []

    def factory():
        calls.append(1)
        return NullStatusLeds()

    with fatal_errors_shown(leds=factory):
        pass
    assert calls == []
    with pytest.raises(AudioDeviceError):
        with fatal_errors_shown(leds=factory):
            raise AudioDeviceError("no device")
    assert calls == [1]


def test_a_failing_led_factory_does_not_hide_the_error(caplog):
    def factory():
        raise OSError("no GPIO here")

    with pytest.raises(ConfigError):
        with fatal_errors_shown(leds=factory):
            raise ConfigError("audio.sample_rate must be one of 44100, 48000, 96000, not 1")
    assert "could not open the LEDs" in caplog.text


def test_keyboard_interrupt_is_not_a_start_up_failure():
    leds = NullStatusLeds()
    with pytest.raises(KeyboardInterrupt):
        with fatal_errors_shown(leds=leds):
            raise KeyboardInterrupt
    assert leds.error is None
