"""Fixtures for the control inputs: gpiozero's MockFactory (as gpiozero's own tests use it), an
MCP3008 on its mock SPI bus, a fake clock, a JACK server for real MIDI ports."""

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory, MockPWMPin

from tests.controls.fakes import FakeClock, FakeMcp3008, JackServer


@pytest.fixture
def mock_factory():
    """A fresh MockFactory, also set as gpiozero's default."""
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


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def mcp3008(mock_factory):
    adc = FakeMcp3008(mock_factory)
    yield adc
    adc.close()


@pytest.fixture(scope="session")
def jack():
    """A JACK server (dummy backend) for rtmidi's JACK API: real MIDI ports without a sound card."""
    if not JackServer.available():
        pytest.skip("jackd is not installed (Debian: jackd2); the real-port MIDI tests need it")
    with JackServer() as server:
        yield server
