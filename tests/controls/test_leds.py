import time

import pytest

from jambox.controls.leds import LED_NAMES, LedPicture, LedTiming, NullStatusLeds, StatusLeds, error_code
from jambox.errors import ConfigError, GpioError, ValueRangeError

TM = LedTiming()
LISTEN, PLAY, BEAT, SUGG, ERR = range(5)


def test_steady_states():
    p = LedPicture(TM, listening=True, playing=True)
    assert p.frame(1.0) == (1.0, 1.0, 0.0, 0.0, 0.0)
    assert p.next_change(1.0) is None  # nothing changes by itself


def test_beat_flash_is_brighter_and_longer_on_the_downbeat():
    p = LedPicture(TM, beat_until=1.0 + TM.beat_flash_s, beat_bright=TM.beat_level)
    assert p.frame(1.0)[BEAT] == TM.beat_level
    assert p.next_change(1.0) == 1.0 + TM.beat_flash_s
    assert p.frame(1.0 + TM.beat_flash_s)[BEAT] == 0.0
    assert TM.downbeat_flash_s > TM.beat_flash_s and TM.beat_level < TM.steady_level


def test_ack_flips_the_playing_led_briefly():
    p = LedPicture(TM, playing=True, ack_until=2.0 + TM.ack_flash_s)
    assert p.frame(2.0)[PLAY] == 0.0  # on -> dips off
    assert p.frame(2.0 + TM.ack_flash_s)[PLAY] == 1.0
    p.playing = False
    assert p.frame(2.0)[PLAY] == 1.0  # off -> blinks on


def test_suggestion_blinks_from_when_it_became_pending():
    p = LedPicture(TM, suggestion_since=10.0)
    half = TM.suggestion_period_s / 2
    assert [p.frame(10.0 + half * i + 0.01)[SUGG] for i in range(4)] == [1.0, 0.0, 1.0, 0.0]
    assert p.next_change(10.01) == pytest.approx(10.0 + half)


def test_error_code_blinks_n_times_then_pauses_and_darkens_the_rest():
    p = LedPicture(TM, listening=True, playing=True, error=3, error_since=0.0)
    cycle = TM.error_cycle_s(3)
    t, blinks, lit = 0.0, 0, False
    while t < cycle:  # walk the pattern change by change, as the LED thread does
        f = p.frame(t)
        assert f[:4] == (0.0, 0.0, 0.0, 0.0)
        if f[ERR] and not lit:
            blinks += 1
        lit = bool(f[ERR])
        t = p.next_change(t)
    assert blinks == 3
    assert t == pytest.approx(cycle)
    assert p.frame(cycle + 0.01)[ERR] == 1.0  # and again


def test_error_codes_follow_the_exit_codes():
    assert error_code(ConfigError("x")) == 2
    assert error_code(GpioError("x")) == 5
    assert error_code(RuntimeError("x")) == 1


class Light:
    def __init__(self):
        self.value = 0.0
        self.changes = []  # (time, value)
        self.closed = False

    def __setattr__(self, name, v):
        if name == "value" and "changes" in self.__dict__:
            self.changes.append((time.perf_counter(), v))
        super().__setattr__(name, v)

    def close(self):
        self.closed = True


def wait_for(cond, timeout=2.0):
    end = time.monotonic() + timeout
    while not cond() and time.monotonic() < end:
        time.sleep(0.0005)
    return cond()


def test_the_led_thread_shows_an_ack_and_restores_it():
    """(How fast: `jambox bench`, area controls, ack_latency_ms.)"""
    lights = {name: Light() for name in LED_NAMES}
    with StatusLeds(lights) as leds:
        leds.set_playing(True)
        assert wait_for(lambda: lights["playing"].value == 1.0)
        leds.ack()
        assert wait_for(lambda: lights["playing"].value == 0.0)
        assert wait_for(lambda: lights["playing"].value == 1.0)  # back on after the flash
        leds.beat(downbeat=True)
        assert wait_for(lambda: lights["beat"].changes and lights["beat"].changes[-1][1] == 1.0)
        assert wait_for(lambda: lights["beat"].value == 0.0)
    assert all(light.closed and light.value == 0.0 for light in lights.values())


def test_show_error_with_cycles_returns_after_the_code_was_shown():
    lights = {"error": Light()}
    timing = LedTiming(error_on_s=0.01, error_off_s=0.01, error_pause_s=0.03)
    with StatusLeds(lights, timing=timing) as leds:
        leds.show_error(2, cycles=2)
        ons = [v for _, v in lights["error"].changes if v]
        assert len(ons) >= 3  # 2 blinks a cycle; the last may still be going
        with pytest.raises(ValueRangeError, match="error code must be an integer in range 1..9, not 12"):
            leds.show_error(12)


def test_unknown_led_names_are_refused():
    with pytest.raises(GpioError, match="unknown status LED 'blinky'"):
        StatusLeds({"blinky": Light()})


def test_the_null_leds_have_the_same_interface():
    null = NullStatusLeds()
    for name in ("set_listening", "set_playing", "beat", "set_suggestion", "ack", "show_error", "clear_error", "close"):
        assert callable(getattr(null, name)) and callable(getattr(StatusLeds, name))
    null.ack()
    null.show_error(4, cycles=3)  # returns at once: nothing to watch
    assert (null.acks, null.error) == (1, 4)
