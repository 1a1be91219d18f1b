"""``jambox bench`` area ``controls``: how fast an input becomes an Action, and an action an LED flash.

Measured on this machine with gpiozero's mock pins (the software path: gpiozero's callback, the
gesture detector, the submit), a pipe for the keyboard and the StatusLeds thread writing to an
in-memory light. On a Pi, lgpio's edge detection adds its own latency before the first figure.
"""

from __future__ import annotations

import os
import queue
import statistics
import time


def _stats(prefix: str, samples_s: list[float], unit: float = 1e3, suffix: str = "ms") -> dict:
    xs = sorted(s * unit for s in samples_s)
    p99 = xs[min(len(xs) - 1, int(round(0.99 * (len(xs) - 1))))]
    return {f"{prefix}_median_{suffix}": round(statistics.median(xs), 3),
            f"{prefix}_p99_{suffix}": round(p99, 3), f"{prefix}_max_{suffix}": round(xs[-1], 3)}


def _button_to_submit(n: int) -> dict:
    from gpiozero.pins.mock import MockFactory

    from jambox.config.load import load_config
    from jambox.controls.gpio import GpioControls

    cfg = load_config(search=[]).with_overrides({"controls": {"knobs": "none", "debounce_ms": 0.0}})
    factory = MockFactory()
    stamps: list[float] = []
    with GpioControls(cfg, lambda a: stamps.append(time.perf_counter()), pin_factory=factory):
        pin = factory.pin(cfg.gpio.softer_pin)  # SOFTER: press fires on release when long is mapped
        samples = []
        for _ in range(n):
            pin.drive_low()
            t0 = time.perf_counter()
            pin.drive_high()
            samples.append(stamps[-1] - t0)
    factory.reset()
    return _stats("button_edge_to_submit", samples, 1e6, "us")


def _ack_to_led(n: int) -> dict:
    from jambox.controls.leds import LedTiming, StatusLeds

    class Light:
        def __init__(self):
            self.changed = queue.SimpleQueue()
            self._v = 0.0

        @property
        def value(self):
            return self._v

        @value.setter
        def value(self, v):
            self._v = v
            self.changed.put((time.perf_counter(), v))

    light = Light()
    samples = []
    with StatusLeds({"playing": light}, timing=LedTiming(ack_flash_s=0.002)) as leds:
        leds.set_playing(False)
        time.sleep(0.01)
        while not light.changed.empty():
            light.changed.get()
        for _ in range(n):
            t0 = time.perf_counter()
            leds.ack()
            t, v = light.changed.get(timeout=1.0)
            samples.append(t - t0)
            light.changed.get(timeout=1.0)  # the flash ends
    return _stats("ack_to_led", samples)


def _key_to_submit(n: int) -> dict:
    from jambox.controls.keyboard import KeyboardControls

    r, w = os.pipe()
    got: queue.SimpleQueue = queue.SimpleQueue()
    samples = []
    try:
        with KeyboardControls(lambda a: got.put(time.perf_counter()), fd=r):
            for _ in range(n):
                t0 = time.perf_counter()
                os.write(w, b"k")
                samples.append(got.get(timeout=1.0) - t0)
    finally:
        os.close(w)
        os.close(r)
    return _stats("key_to_submit", samples)


def _midi_mapping(n: int) -> dict:
    from jambox.controls.midi_in import MidiBinding, MidiMap, MidiMapper

    m = MidiMapper(MidiMap([MidiBinding("cc", 1, 7, "level"), MidiBinding("cc", 0, 64, "start_stop")]))
    msgs = [[0xB0, 7, i % 128] for i in range(n)]
    t0 = time.perf_counter()
    for msg in msgs:
        m.message(msg)
    return {"midi_message_to_action_us": round((time.perf_counter() - t0) / n * 1e6, 2)}


def _events_file(n: int) -> dict:
    import json
    import tempfile

    from jambox.controls.events_file import load_events

    entries = [{"t": i * 0.5, "action": "softer"} if i % 2 else
               {"t": i * 0.5, "action": "set", "control": "energy", "value": (i % 10) / 10} for i in range(n)]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(entries, f)
    try:
        t0 = time.perf_counter()
        load_events(f.name, 48000)
        return {f"events_file_{n}_entries_ms": round((time.perf_counter() - t0) * 1e3, 2)}
    finally:
        os.unlink(f.name)


def run(quick: bool) -> dict:
    n = 50 if quick else 500
    figures: dict = {}
    figures.update(_button_to_submit(n))
    figures.update(_ack_to_led(n))
    figures.update(_key_to_submit(n))
    figures.update(_midi_mapping(n * 20))
    figures.update(_events_file(1000))
    return figures
