"""Fixtures for the control inputs: gpiozero's MockFactory, an MCP3008 on its mock SPI bus, a fake clock."""

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory, MockPWMPin, MockSPIDevice

from jambox.config.load import load_config


@pytest.fixture
def mock_factory():
    """A fresh MockFactory, also set as gpiozero's default (as gpiozero's own tests do)."""
    saved = Device.pin_factory
    factory = MockFactory()
    Device.pin_factory = factory
    try:
        yield factory
    finally:
        factory.reset()
        Device.pin_factory = saved


@pytest.fixture
def led_factory():
    """A MockFactory of PWM-capable pins for the LEDs (the SPI mock needs plain pins, so LEDs get their own)."""
    factory = MockFactory(pin_class=MockPWMPin)
    try:
        yield factory
    finally:
        factory.reset()


class FakeClock:
    def __init__(self, t: float = 100.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock():
    return FakeClock()


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
            self._single = bool(self.rx_buf[-1])
            self._phase, self.rx_buf = "channel", []
        elif self._phase == "channel" and len(self.rx_buf) == 3:
            channel = self.rx_word()
            code = max(0, min(1023, round(self.levels[channel] * 1023)))
            self.tx_word(code, 12)  # sample clock + null bit + 10 bits
            self.reads += 1
            self._phase = "result"


@pytest.fixture
def mcp3008(mock_factory):
    adc = FakeMcp3008(mock_factory)
    yield adc
    adc.close()


def config_with(**sections):
    """The default config with overrides, e.g. config_with(controls={"knobs": "none"})."""
    cfg = load_config(search=[])
    return cfg.with_overrides(sections, "test") if sections else cfg
