"""Buttons, foot-switches, knobs and status LEDs on the Pi's GPIO, through gpiozero.

Every input ends as one :class:`~jambox.controls.actions.Action` handed to ``submit`` (the Chain's
queue) and nothing else happens on the input threads: gpiozero calls us on its own threads (lgpio's
callback thread on a Pi), the gesture timer and the ADC reader are threads of ours, and all of them
only feed a detector or a filter and submit.

- **Switches** (KEEP, SOFTER, MORE DISSONANCE, the foot-switch and an optional second one): raw
  edges go to a :class:`~jambox.controls.gestures.GestureDetector` per switch, which debounces and
  tells press / long press / double press; config ``[controls] <switch>_press|_long|_double`` maps
  each gesture to an action (the foot-switch's press is ``footswitch_action``). One timer thread
  serves every switch: it sleeps until the earliest gesture deadline or the next edge.
- **Knobs** (energy, tension = dissonance, surprise, level): pots on an MCP3008 read
  ``knob_poll_hz`` times a second through a :class:`~jambox.controls.knobs.KnobFilter` (an ADC
  has no interrupt, so this one loop has to poll), or rotary encoders (gpiozero's
  ``RotaryEncoder``) moving the control by ``encoder_step`` per detent, their push switch setting
  the control back to its ``[initial]`` value.
- **LEDs**: :func:`make_status_leds` puts :class:`~jambox.controls.leds.StatusLeds` on ``PWMLED``\\ s.

Any failure to claim the hardware (no GPIO on this machine, a pin in use, a pin given twice) is a
:class:`~jambox.errors.GpioError` naming the pin and the part, raised before anything is left half
open. Tests pass gpiozero's ``MockFactory`` as ``pin_factory`` (and a fake ``clock``).
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from dataclasses import dataclass
from typing import Callable

from jambox.controls.actions import Action, ActionKind, control_name
from jambox.controls.gestures import GestureTiming
from jambox.controls.knobs import EncoderKnob, KnobFilter
from jambox.controls.switches import SWITCH_LABELS, SWITCHES, SwitchBank, SwitchSpec, switch_specs
from jambox.errors import GpioError

__all__ = ["GpioControls", "KnobSpec", "SwitchSpec", "SWITCHES", "knob_specs", "led_pins", "make_controls",
           "make_status_leds", "pin_problems", "switch_specs"]

log = logging.getLogger(__name__)

SOURCE = "gpio"
KNOBS = ("energy", "tension", "surprise", "level")  # the panel's names; tension is the dissonance control
SPI0_PINS = {11: "SPI0 SCLK", 10: "SPI0 MOSI", 9: "SPI0 MISO"}
SPI0_SELECT = {0: 8, 1: 7}  # CE0, CE1


@dataclass(frozen=True, slots=True)
class KnobSpec:
    """One knob: its control and where it is (an ADC channel, or encoder pins)."""

    name: str
    control: str
    adc_channel: int = -1
    encoder: tuple[int, int] | None = None  # (A, B) pins
    push_pin: int = -1


def knob_specs(config) -> list[KnobSpec]:
    """The fitted knobs for ``[controls] knobs`` (mcp3008, encoder or none)."""
    mode, g = config.controls.knobs, config.gpio
    specs = []
    for name in KNOBS:
        if mode == "mcp3008":
            ch = getattr(g, f"{name}_adc_channel")
            if ch >= 0:
                specs.append(KnobSpec(name, control_name(name), adc_channel=ch))
        elif mode == "encoder":
            a, b = getattr(g, f"{name}_encoder_a"), getattr(g, f"{name}_encoder_b")
            if a >= 0 or b >= 0:
                specs.append(KnobSpec(name, control_name(name), encoder=(a, b),
                                      push_pin=getattr(g, f"{name}_encoder_push")))
    return specs


def led_pins(config) -> dict[str, int]:
    from jambox.controls.leds import LED_NAMES

    return {name: getattr(config.gpio, f"led_{name}_pin") for name in LED_NAMES}


def pin_problems(config, *, leds: bool = True) -> list[str]:
    """Every pin given twice, a half-wired encoder, or a pin the MCP3008's SPI bus needs; one line each."""
    used: dict[int, list[str]] = {}
    problems = []
    for s in switch_specs(config):
        used.setdefault(s.pin, []).append(f"gpio.{s.name}_pin")
    for k in knob_specs(config):
        if k.encoder is not None:
            for part, pin in zip(("a", "b"), k.encoder):
                if pin < 0:
                    problems.append(f"gpio.{k.name}_encoder_{part} must be a BCM pin 0..27 when "
                                    f"gpio.{k.name}_encoder_{'b' if part == 'a' else 'a'} is set, not {pin}")
                else:
                    used.setdefault(pin, []).append(f"gpio.{k.name}_encoder_{part}")
            if k.push_pin >= 0:
                used.setdefault(k.push_pin, []).append(f"gpio.{k.name}_encoder_push")
    if leds:
        for name, pin in led_pins(config).items():
            used.setdefault(pin, []).append(f"gpio.led_{name}_pin")
    for pin, keys in sorted(used.items()):
        if len(keys) > 1:
            problems.append(f"BCM {pin} is given to {len(keys)} parts: {', '.join(keys)}; each needs its own pin")
    if any(k.adc_channel >= 0 for k in knob_specs(config)):
        spi = dict(SPI0_PINS)
        spi[SPI0_SELECT[config.gpio.adc_select]] = f"SPI0 CE{config.gpio.adc_select}"
        for pin, keys in sorted(used.items()):
            if pin in spi:
                problems.append(f"{keys[0]} = {pin} is {spi[pin]}, which the MCP3008 knobs need; "
                                f"choose another pin or set controls.knobs = \"encoder\" or \"none\"")
    return problems


def _claim(what: str, pin: int | str, make: Callable):
    """Build a gpiozero device; any failure becomes a GpioError naming the part and the pin."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PinFactoryFallback: summarised below if all fail
            return make()
    except Exception as e:  # gpiozero raises GPIOZeroError subclasses, ImportError, OSError, ValueError
        from gpiozero.exc import BadPinFactory

        if isinstance(e, BadPinFactory):
            raise GpioError(f"no GPIO on this machine for the {what} (gpiozero: {e}); on a Pi install lgpio "
                            f"(pip install 'jambox[pi]'), elsewhere set controls.gpio = false") from e
        raise GpioError(f"cannot use BCM {pin} for the {what}: {e}") from e


class GpioControls:
    """The panel's switches and knobs; each gesture or knob move becomes one Action given to ``submit``.

    ``start=False`` leaves the gesture timer and the ADC reader unstarted, for tests that call
    :meth:`poll` and :meth:`read_knobs` themselves with a fake ``clock``.
    """

    def __init__(self, config, submit: Callable[[Action], None], *, pin_factory=None,
                 clock: Callable[[], float] = time.monotonic, start: bool = True):
        problems = pin_problems(config, leds=False)
        if problems:
            raise GpioError(problems[0] if len(problems) == 1 else
                            f"{len(problems)} GPIO pin problems:\n  " + "\n  ".join(problems))
        self._submit = submit
        self._clock = clock
        self._factory = pin_factory
        self._initial = {c: getattr(config.initial, c) for c in ("energy", "dissonance", "surprise", "level")}
        self._bank = SwitchBank(self._submit_counted, source=SOURCE, clock=clock)
        self._lock = threading.Lock()  # guards the knob filters and encoder positions
        self._devices: list = []
        self._adc: list[tuple[KnobSpec, object, KnobFilter]] = []
        self._encoders: dict[str, tuple[KnobSpec, EncoderKnob]] = {}
        self._reader_thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.poll_hz = config.controls.knob_poll_hz
        self.submitted = 0
        try:
            self._open(config)
        except BaseException:
            self.close()
            raise
        if start:
            self.start()

    # -- construction -------------------------------------------------------------------------
    def _open(self, config) -> None:
        from gpiozero import MCP3008, Button, RotaryEncoder

        timing = GestureTiming.from_config(config.controls)
        pull_up = config.gpio.pull_up
        for spec in switch_specs(config):
            button = _claim(SWITCH_LABELS[spec.name], spec.pin, lambda: Button(
                spec.pin, pull_up=pull_up, bounce_time=None, pin_factory=self._factory))
            self._devices.append(button)
            # a normally-closed pedal opens the contact when pressed: gpiozero's "pressed" is our "released"
            inverted = spec.name.startswith("footswitch") and config.gpio.footswitch_normally_closed
            index = self._bank.add(spec, timing, pressed=button.is_pressed != inverted)
            button.when_pressed = self._edge_handler(index, not inverted)
            button.when_released = self._edge_handler(index, inverted)
        filt = dict(dead_band=config.controls.knob_dead_band, smoothing_s=config.controls.knob_smoothing_s,
                    pickup=config.controls.knob_pickup)
        for spec in knob_specs(config):
            label = f"{spec.name.upper()} knob"
            if spec.adc_channel >= 0:
                adc = _claim(f"{label} (MCP3008 channel {spec.adc_channel})", f"SPI0 CE{config.gpio.adc_select}",
                             lambda: MCP3008(channel=spec.adc_channel, device=config.gpio.adc_select,
                                             pin_factory=self._factory))
                self._devices.append(adc)
                self._adc.append((spec, adc, KnobFilter(**filt)))
            else:
                a, b = spec.encoder
                enc = _claim(f"{label} (rotary encoder)", f"{a} and {b}", lambda: RotaryEncoder(
                    a, b, max_steps=0, bounce_time=None, pin_factory=self._factory))
                self._devices.append(enc)
                self._encoders[spec.name] = (spec, EncoderKnob(self._initial[spec.control],
                                                               config.controls.encoder_step))
                enc.when_rotated_clockwise = self._turn_handler(spec.name, +1)
                enc.when_rotated_counter_clockwise = self._turn_handler(spec.name, -1)
                if spec.push_pin >= 0:
                    push = _claim(f"{label}'s push switch", spec.push_pin, lambda: Button(
                        spec.push_pin, pull_up=pull_up, bounce_time=None, pin_factory=self._factory))
                    self._devices.append(push)
                    push.when_pressed = self._push_handler(spec.name)

    def _edge_handler(self, index: int, pressed: bool):
        def on_edge():
            self._bank.edge(index, pressed)
        return on_edge

    def _turn_handler(self, name: str, steps: int):
        def on_turn():
            self.turn(name, steps)
        return on_turn

    def _push_handler(self, name: str):
        def on_push():
            spec, knob = self._encoders[name]
            with self._lock:
                knob.sync(self._initial[spec.control])
                value = knob.value
            self._submit_counted(Action.make(ActionKind.SET, source=SOURCE, control=spec.control, value=value))
        return on_push

    # -- any thread: inputs ---------------------------------------------------------------------
    def edge(self, index: int, pressed: bool) -> None:
        """Switch ``index`` (in :attr:`switches` order) changed level (gpiozero's thread calls this)."""
        self._bank.edge(index, pressed)

    def turn(self, name: str, steps: int) -> None:
        spec, knob = self._encoders[name]
        with self._lock:
            value = knob.turn(steps)
        if value is not None:
            self._submit_counted(Action.make(ActionKind.SET, source=SOURCE, control=spec.control, value=value))

    def poll(self, now: float | None = None) -> None:
        """Fire the gestures whose time has come (long presses held, single presses not doubled)."""
        self._bank.poll(now)

    def read_knobs(self, now: float | None = None) -> None:
        """Read every ADC knob once; a knob that moved past the dead-band sends a SET."""
        now = self._clock() if now is None else now
        for spec, adc, filt in self._adc:
            try:
                reading = adc.value
            except Exception as e:  # a flaky SPI read must not kill the reader
                log.warning("reading the %s knob failed: %s", spec.name, e)
                continue
            with self._lock:
                value = filt.update(reading, now)
            if value is not None:
                self._submit_counted(Action.make(ActionKind.SET, source=SOURCE, control=spec.control, value=value))

    def sync(self, controls) -> None:
        """The session's controls (a ControlState) as they stand: encoders turn on from there, and
        with ``controls.knob_pickup`` a pot that no longer points at its control waits to reach it."""
        with self._lock:
            for spec, knob in self._encoders.values():
                knob.sync(getattr(controls, spec.control))
            for spec, _, filt in self._adc:
                filt.sync(getattr(controls, spec.control))

    @property
    def switches(self) -> list[SwitchSpec]:
        return self._bank.specs

    @property
    def knobs(self) -> list[KnobSpec]:
        return [spec for spec, _, _ in self._adc] + [spec for spec, _ in self._encoders.values()]

    # -- threads --------------------------------------------------------------------------------
    def start(self) -> None:
        self._bank.start()
        if self._adc and self._reader_thread is None:
            self._reader_thread = threading.Thread(target=self._reader, name="jambox-knobs", daemon=True)
            self._reader_thread.start()

    def _reader(self) -> None:
        period = 1.0 / self.poll_hz  # an ADC has no interrupt: this one loop has to poll
        while not self._stop.wait(period):
            self.read_knobs()

    def _submit_counted(self, action: Action) -> None:
        self.submitted += 1
        try:
            self._submit(action)
        except Exception:  # gpiozero's callback thread and our readers must survive it
            log.exception("submitting %s", action)

    def close(self) -> None:
        """Stop the threads and release every pin (safe to call twice, or after a failed start)."""
        self._bank.close()
        self._stop.set()
        if self._reader_thread is not None:
            self._reader_thread.join(timeout=2.0)
        for dev in reversed(self._devices):
            try:
                dev.close()
            except Exception as e:  # closing must go on for the other pins
                log.warning("closing %r failed: %s", dev, e)
        self._devices.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def make_status_leds(config, *, pin_factory=None, clock=time.monotonic):
    """The status LEDs on ``PWMLED``\\ s at the configured pins (a GpioError if a pin cannot be had)."""
    from gpiozero import PWMLED

    from jambox.controls.leds import StatusLeds

    pins = led_pins(config)
    dup = [p for p in pin_problems(config) if "led_" in p]
    if dup:
        raise GpioError(dup[0])
    outputs: dict = {}
    try:
        for name, pin in pins.items():
            outputs[name] = _claim(f"{name.upper()} LED", pin, lambda: PWMLED(pin, pin_factory=pin_factory))
    except BaseException:
        for led in outputs.values():
            led.close()
        raise
    return StatusLeds(outputs, clock=clock)


def make_controls(config, submit, *, pin_factory=None):
    """``(controls, leds)`` for ``jambox run``: the GPIO panel if ``controls.gpio``, else ``(None, NullStatusLeds())``."""
    from jambox.controls.leds import NullStatusLeds

    if not config.controls.gpio:
        return None, NullStatusLeds()
    leds = make_status_leds(config, pin_factory=pin_factory)
    try:
        return GpioControls(config, submit, pin_factory=pin_factory), leds
    except BaseException:
        leds.close()
        raise
