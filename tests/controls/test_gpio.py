import os
import queue
import time

import pytest

from jambox.controls.actions import Action, ActionKind
from jambox.controls.gpio import GpioControls, knob_specs, make_controls, make_status_leds, pin_problems, switch_specs
from jambox.controls.leds import NullStatusLeds, StatusLeds
from jambox.errors import GpioError

from tests.controls.fakes import FakeMcp3008, config_with

K = ActionKind
NO_KNOBS = {"controls": {"knobs": "none"}}


class Panel:
    """GpioControls on mock pins with a fake clock; press()/release() move the pins as a finger would."""

    def __init__(self, factory, clock, config=None):
        self.factory, self.clock = factory, clock
        self.config = config or config_with(**NO_KNOBS)
        self.got: list[Action] = []
        self.controls = GpioControls(self.config, self.got.append, pin_factory=factory, clock=clock, start=False)

    def pin(self, n):
        return self.factory.pin(n)

    def at(self, t):
        self.clock.t = t
        self.controls.poll(t)

    def press(self, pin, t):
        self.at(t)
        self.pin(pin).drive_low()  # the switch shorts the pulled-up pin to ground

    def release(self, pin, t):
        self.at(t)
        self.pin(pin).drive_high()

    def tap(self, pin, t, held=0.1):
        self.press(pin, t)
        self.release(pin, t + held)

    def kinds(self):
        return [a.kind for a in self.got]


@pytest.fixture
def panel(mock_factory, clock):
    p = Panel(mock_factory, clock)
    yield p
    p.controls.close()


KEEP, SOFTER, DISS, FOOT = 17, 27, 22, 23


def test_default_mapping_from_config():
    specs = {s.name: s for s in switch_specs(config_with())}
    assert set(specs) == {"keep", "softer", "dissonance", "footswitch"}  # no second foot-switch by default
    assert (specs["keep"].press, specs["keep"].long, specs["keep"].double) == (K.KEEP, None, K.LET_GO)
    assert (specs["softer"].press, specs["softer"].long) == (K.SOFTER, K.SOFTER_ALL)
    assert (specs["dissonance"].press, specs["dissonance"].long) == (K.MORE_DISSONANCE, K.RESOLVE)
    assert (specs["footswitch"].press, specs["footswitch"].long) == (K.START_STOP, K.JOIN_NOW)


def test_keep_press_waits_out_the_double_press_window(panel):
    panel.tap(KEEP, 1.0)
    panel.at(1.3)
    assert panel.got == []
    panel.at(1.1 + 0.35)
    assert panel.got == [Action(K.KEEP, "gpio")]


def test_keep_double_press_is_let_go(panel):
    panel.tap(KEEP, 1.0)
    panel.press(KEEP, 1.25)
    assert panel.kinds() == [K.LET_GO]
    panel.release(KEEP, 1.3)
    panel.at(5.0)
    assert panel.kinds() == [K.LET_GO]


def test_softer_press_and_long_press(panel):
    panel.tap(SOFTER, 1.0, held=0.2)
    assert panel.kinds() == [K.SOFTER]
    panel.press(SOFTER, 2.0)
    panel.at(2.59)
    assert panel.kinds() == [K.SOFTER]
    panel.at(2.6)
    assert panel.kinds() == [K.SOFTER, K.SOFTER_ALL]  # fires while held
    panel.release(SOFTER, 3.5)
    assert panel.kinds() == [K.SOFTER, K.SOFTER_ALL]


def test_more_dissonance_and_resolve(panel):
    panel.tap(DISS, 1.0)
    panel.press(DISS, 2.0)
    panel.at(3.0)
    panel.release(DISS, 3.1)
    assert panel.kinds() == [K.MORE_DISSONANCE, K.RESOLVE]


def test_footswitch_start_stop_and_join_now(panel):
    panel.tap(FOOT, 1.0)
    panel.press(FOOT, 2.0)
    panel.at(2.7)
    panel.release(FOOT, 2.8)
    assert panel.kinds() == [K.START_STOP, K.JOIN_NOW]


def test_contact_chatter_is_one_press(panel):
    for i, level in enumerate([0, 1, 0, 1, 0]):  # 2 ms bounces on the way down
        panel.at(1.0 + i * 0.002)
        panel.pin(SOFTER).drive_low() if level == 0 else panel.pin(SOFTER).drive_high()
    for i, level in enumerate([1, 0, 1]):  # and on the way up
        panel.at(1.2 + i * 0.002)
        panel.pin(SOFTER).drive_low() if level == 0 else panel.pin(SOFTER).drive_high()
    panel.at(3.0)
    assert panel.kinds() == [K.SOFTER]


def test_the_mapping_and_a_second_footswitch_come_from_config(mock_factory, clock):
    cfg = config_with(controls={"knobs": "none", "footswitch_action": "tap", "footswitch_long": "",
                                "keep_double": "", "footswitch2_press": "keep"},
                      gpio={"footswitch2_pin": 24})
    p = Panel(mock_factory, clock, cfg)
    try:
        p.tap(FOOT, 1.0)  # nothing long or double mapped: fires on the down edge
        assert p.kinds() == [K.TAP]
        p.press(FOOT, 2.0)
        p.at(4.0)
        p.release(FOOT, 4.1)
        assert p.kinds() == [K.TAP, K.TAP]  # a long hold is just a press when long does nothing
        p.tap(24, 5.0)
        assert p.kinds() == [K.TAP, K.TAP, K.KEEP]
        p.tap(KEEP, 6.0)  # no double press mapped: no waiting
        assert p.kinds() == [K.TAP, K.TAP, K.KEEP, K.KEEP]
    finally:
        p.controls.close()


def test_pull_down_wiring(mock_factory, clock):
    p = Panel(mock_factory, clock, config_with(controls={"knobs": "none"}, gpio={"pull_up": False}))
    try:
        p.at(1.0)
        p.pin(SOFTER).drive_high()  # with pull-downs the switch connects the pin to 3.3 V
        p.at(1.1)
        p.pin(SOFTER).drive_low()
        assert p.kinds() == [K.SOFTER]
    finally:
        p.controls.close()


def test_a_normally_closed_footswitch(mock_factory, clock):
    cfg = config_with(controls={"knobs": "none"}, gpio={"footswitch_normally_closed": True})
    p = Panel(mock_factory, clock, cfg)
    try:
        p.at(0.5)
        p.pin(FOOT).drive_low()  # the pedal plugged in: at rest its contact is closed, the pin reads low
        assert p.got == []
        p.at(1.0)
        p.pin(FOOT).drive_high()  # pressed: the contact opens
        p.at(1.1)
        p.pin(FOOT).drive_low()
        p.at(3.0)
        assert p.kinds() == [K.START_STOP]
        p.tap(KEEP, 4.0)  # the buttons are not inverted
        p.at(5.0)
        assert p.kinds() == [K.START_STOP, K.KEEP]
    finally:
        p.controls.close()


def test_the_timer_thread_fires_held_presses_on_time(mock_factory):
    """Real clock and the real gesture thread: a held SOFTER becomes softer_all while still held."""
    got: queue.SimpleQueue = queue.SimpleQueue()
    cfg = config_with(controls={"knobs": "none", "long_press_s": 0.2})
    with GpioControls(cfg, got.put, pin_factory=mock_factory) as controls:
        t0 = time.monotonic()
        mock_factory.pin(SOFTER).drive_low()
        action = got.get(timeout=3.0)
        held = time.monotonic() - t0
        assert action.kind is K.SOFTER_ALL
        assert held >= 0.2
        mock_factory.pin(SOFTER).drive_high()
        mock_factory.pin(KEEP).drive_low()
        mock_factory.pin(KEEP).drive_high()
        assert got.get(timeout=3.0).kind is K.KEEP  # after the double-press window, by the thread
        assert controls.submitted == 2


# -- knobs on the MCP3008 -----------------------------------------------------------------------

def knob_panel(factory, clock, **controls):
    cfg = config_with(controls={"knobs": "mcp3008", "knob_smoothing_s": 0.0, **controls})
    return Panel(factory, clock, cfg)


def read(p, t):
    p.clock.t = t
    p.controls.read_knobs(t)


def test_mcp3008_knobs_send_set_only_when_they_move(mock_factory, clock, mcp3008):
    p = knob_panel(mock_factory, clock)
    try:
        assert [k.control for k in p.controls.knobs] == ["energy", "dissonance", "surprise", "level"]
        mcp3008.levels[:4] = [0.5, 0.2, 0.3, 0.8]
        read(p, 0.0)
        assert p.got == []  # the first reading is only the reference
        for i, wobble in enumerate([0.003, -0.004, 0.005, -0.002] * 5):  # ADC noise: a few codes
            mcp3008.levels[1] = 0.2 + wobble
            read(p, 0.02 * (i + 1))
        assert p.got == []
        mcp3008.levels[1] = 0.6  # the TENSION knob turned
        read(p, 1.0)
        assert p.got == [Action(K.SET, "gpio", "dissonance", pytest.approx(0.6, abs=0.002))]
        mcp3008.levels[3] = 0.0  # LEVEL all the way down: exactly 0
        read(p, 1.02)
        assert p.got[-1] == Action(K.SET, "gpio", "level", 0.0)
        assert mcp3008.reads >= 4 * 22
    finally:
        p.controls.close()


def test_smoothing_keeps_a_single_spike_out(mock_factory, clock, mcp3008):
    p = knob_panel(mock_factory, clock, knob_smoothing_s=0.05)
    try:
        mcp3008.levels[0] = 0.5
        read(p, 0.0)
        mcp3008.levels[0] = 0.9  # one bad reading
        read(p, 0.002)
        mcp3008.levels[0] = 0.5
        for i in range(10):
            read(p, 0.022 + 0.02 * i)
        assert p.got == []
        mcp3008.levels[0] = 0.9  # a real turn gets through within a few readings
        for i in range(10):
            read(p, 1.0 + 0.02 * i)
        assert p.got and p.got[-1].control == "energy" and p.got[-1].value > 0.85
    finally:
        p.controls.close()


def test_knob_pickup_follows_the_session(mock_factory, clock, mcp3008):
    from jambox.controls.state import ControlState

    p = knob_panel(mock_factory, clock, knob_pickup=True)
    try:
        mcp3008.levels[:4] = [0.3, 0.2, 0.3, 0.8]
        read(p, 0.0)
        p.controls.sync(ControlState(energy=0.9, dissonance=0.2, surprise=0.3, level=0.8))  # a recalled riff
        mcp3008.levels[0] = 0.6
        read(p, 0.1)
        assert p.got == []  # the ENERGY pot waits to reach 0.9
        mcp3008.levels[0] = 0.92
        read(p, 0.2)
        assert [(a.control, round(a.value, 2)) for a in p.got] == [("energy", 0.92)]
    finally:
        p.controls.close()


def test_adc_channels_and_chip_select_come_from_config(mock_factory, clock):
    adc = FakeMcp3008(mock_factory, select_pin=7)  # CE1
    cfg = config_with(controls={"knobs": "mcp3008", "knob_smoothing_s": 0.0},
                      gpio={"adc_select": 1, "energy_adc_channel": 6, "tension_adc_channel": -1,
                            "surprise_adc_channel": -1, "level_adc_channel": -1})
    p = Panel(mock_factory, clock, cfg)
    try:
        assert [k.name for k in p.controls.knobs] == ["energy"]
        read(p, 0.0)
        adc.levels[6] = 0.75
        read(p, 0.1)
        assert p.got == [Action(K.SET, "gpio", "energy", pytest.approx(0.75, abs=0.002))]
    finally:
        p.controls.close()
        adc.close()


def test_the_knob_reader_thread_reads_at_the_poll_rate(mock_factory, mcp3008):
    got: queue.SimpleQueue = queue.SimpleQueue()
    cfg = config_with(controls={"knobs": "mcp3008", "knob_poll_hz": 100, "knob_smoothing_s": 0.0})
    mcp3008.levels[2] = 0.1
    with GpioControls(cfg, got.put, pin_factory=mock_factory):
        time.sleep(0.1)
        mcp3008.levels[2] = 0.9
        action = got.get(timeout=3.0)
    assert (action.control, round(action.value, 2)) == ("surprise", 0.9)


# -- rotary encoders ------------------------------------------------------------------------------

def turn(factory, a, b, steps):
    """Drive the two contacts through the quadrature sequence, one detent per step."""
    pa, pb = factory.pin(a), factory.pin(b)
    seq = [(pa.drive_low, pb.drive_low, pa.drive_high, pb.drive_high),
           (pb.drive_low, pa.drive_low, pb.drive_high, pa.drive_high)][steps < 0]
    for _ in range(abs(steps)):
        for move in seq:
            move()


def test_encoders_step_their_control_and_push_resets_it(mock_factory, clock):
    cfg = config_with(controls={"knobs": "encoder", "encoder_step": 0.1},
                      gpio={"energy_encoder_push": 25}, initial={"energy": 0.5, "dissonance": 0.2})
    p = Panel(mock_factory, clock, cfg)
    try:
        assert [k.name for k in p.controls.knobs] == ["energy", "tension"]
        turn(mock_factory, 4, 12, 2)
        assert [(a.control, a.value) for a in p.got] == [("energy", 0.6), ("energy", 0.7)]
        turn(mock_factory, 14, 15, -3)  # TENSION down from 0.2: 0.1, 0.0, then the end stops it
        assert [(a.control, a.value) for a in p.got[2:]] == [("dissonance", 0.1), ("dissonance", 0.0)]
        mock_factory.pin(25).drive_low()  # push: ENERGY back to its starting value
        assert (p.got[-1].control, p.got[-1].value) == ("energy", 0.5)
        from jambox.controls.state import ControlState

        p.controls.sync(ControlState(energy=0.9, dissonance=0.4))  # the keyboard moved them meanwhile
        turn(mock_factory, 4, 12, 1)
        assert (p.got[-1].control, p.got[-1].value) == ("energy", 1.0)
    finally:
        p.controls.close()


# -- the pins: problems found before anything is claimed --------------------------------------------

def test_a_pin_given_twice_is_reported_with_every_key():
    cfg = config_with(gpio={"softer_pin": 17, "led_beat_pin": 17})
    problems = pin_problems(cfg)
    assert problems == ["BCM 17 is given to 3 parts: gpio.keep_pin, gpio.softer_pin, gpio.led_beat_pin; "
                        "each needs its own pin"]


def test_spi_pins_are_kept_free_for_the_mcp3008(mock_factory):
    cfg = config_with(gpio={"keep_pin": 8, "footswitch2_pin": 11})
    problems = pin_problems(cfg)
    assert any("gpio.keep_pin = 8 is SPI0 CE0" in p for p in problems)
    assert any("gpio.footswitch2_pin = 11 is SPI0 SCLK" in p for p in problems)
    with pytest.raises(GpioError, match="2 GPIO pin problems"):
        GpioControls(cfg, print, pin_factory=mock_factory, start=False)


def test_a_half_wired_encoder_is_reported():
    cfg = config_with(controls={"knobs": "encoder"}, gpio={"surprise_encoder_a": 24})
    assert pin_problems(cfg) == ["gpio.surprise_encoder_b must be a BCM pin 0..27 when gpio.surprise_encoder_a "
                                 "is set, not -1"]


def test_the_default_wiring_has_no_conflicts():
    for knobs in ("mcp3008", "encoder", "none"):
        assert pin_problems(config_with(controls={"knobs": knobs}, gpio={"footswitch2_pin": 24})) == []


def test_a_busy_pin_is_a_gpio_error_naming_pin_and_part(mock_factory):
    from gpiozero import LED

    other = LED(27, pin_factory=mock_factory)
    try:
        with pytest.raises(GpioError, match="cannot use BCM 27 for the SOFTER button"):
            GpioControls(config_with(**NO_KNOBS), print, pin_factory=mock_factory, start=False)
        from gpiozero import Button

        Button(17, pin_factory=mock_factory).close()  # what was claimed before the failure was let go
    finally:
        other.close()


@pytest.mark.skipif(os.path.exists("/proc/device-tree/model"), reason="this machine has GPIO")
def test_no_gpio_on_this_machine_is_a_clear_gpio_error(monkeypatch):
    from gpiozero import Device

    monkeypatch.setattr(Device, "pin_factory", None)
    monkeypatch.delenv("GPIOZERO_PIN_FACTORY", raising=False)
    with pytest.raises(GpioError, match="no GPIO on this machine for the KEEP button.*controls.gpio = false"):
        GpioControls(config_with(**NO_KNOBS), print)


def test_make_controls_without_gpio_gives_the_null_leds():
    controls, leds = make_controls(config_with(), print)
    assert controls is None and isinstance(leds, NullStatusLeds)


def test_status_leds_on_pwm_pins(led_factory):
    leds = make_status_leds(config_with(), pin_factory=led_factory)
    try:
        assert isinstance(leds, StatusLeds)
        leds.set_playing(True)
        deadline = time.monotonic() + 2
        while led_factory.pin(6).state != 1.0 and time.monotonic() < deadline:
            time.sleep(0.001)
        assert led_factory.pin(6).state == 1.0  # PLAYING on BCM 6
        assert led_factory.pin(16).state == 0.0  # SUGGESTION (BCM 16) dark
    finally:
        leds.close()
    assert led_factory.pin(6).state == 0.0


@pytest.mark.hardware
@pytest.mark.skipif(os.environ.get("JAMBOX_HARDWARE") != "1", reason="real GPIO: opt in with JAMBOX_HARDWARE=1")
def test_real_panel_opens_and_closes():
    """On the Pi with the panel wired as in firmware/WIRING.md: every part claims its pin."""
    got = []
    cfg = config_with(controls={"gpio": True})
    controls, leds = make_controls(cfg, got.append)
    try:
        assert [s.name for s in controls.switches] == [s.name for s in switch_specs(cfg)]
        assert len(controls.knobs) == len(knob_specs(cfg))
        leds.ack()
        controls.read_knobs()  # the pots only set their reference
        assert got == []
    finally:
        controls.close()
        leds.close()
