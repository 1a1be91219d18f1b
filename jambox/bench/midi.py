"""``jambox bench`` area ``midi``: what MIDI hot-plug costs and how soon a replugged device is back.

On JACK MIDI ports of a private dummy server (no MIDI hardware needed), with the port watch of
:mod:`jambox.midi_watch`:

- **look**: one :meth:`PortWatch.poll` while the port is there (``get_ports()`` and a name
  compare), the whole price of watching, paid once per ``controls.midi_poll_s``;
- **controller back**: from the controller's port coming back to the first Action from it, through
  :class:`jambox.controls.midi_in.MidiControls` (the controller sends a CC every 5 ms meanwhile);
- **synth back**: from the synth's port coming back to the first note-on it hears, through
  :class:`jambox.perform.midi_out.MidiOut` (the box schedules a note every 10 ms meanwhile).

Both "back" figures are dominated by the poll interval (on average half of it); they are measured
at ``controls.midi_poll_s``'s default and at 0.1 s.
"""

from __future__ import annotations

import queue
import shutil
import statistics
import time
from contextlib import contextmanager

from jambox.midi_watch import POLL_S

SR = 48000


@contextmanager
def _jack():
    from jambox.audio.jackd import JackServer

    with JackServer(SR, 256, sync=False, realtime=False) as server, server.as_default():
        yield server


def _controller():
    import rtmidi

    out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, "bench-pedal")
    out.open_virtual_port("fs-pedal")
    return out


def _look_us(n: int) -> dict:
    from jambox.midi_watch import open_watch

    pedal = _controller()
    watch = open_watch("input", "fs-pedal", api="jack", client="bench-watch", setting="controls.midi_in",
                       label="MIDI controller", port_name="in")
    try:
        t0 = time.perf_counter()
        for _ in range(n):
            watch.poll()
        return {"midi_port_look_us": round((time.perf_counter() - t0) / n * 1e6, 1)}
    finally:
        watch.close()
        pedal.delete()


def _controller_back_ms(rounds: int, poll_s: float) -> list[float]:
    from jambox.config.load import load_config
    from jambox.controls.midi_in import MidiBinding, MidiControls, MidiMap

    cfg = load_config(search=[]).with_overrides(
        {"controls": {"midi_api": "jack", "midi_in": "fs-pedal", "midi_poll_s": poll_s}})
    got: queue.SimpleQueue = queue.SimpleQueue()
    samples = []
    with MidiControls(cfg, lambda a: got.put(time.perf_counter()), midi_map=MidiMap([MidiBinding("cc", 1, 7, "level")])):
        for i in range(rounds):
            t0 = time.perf_counter()
            pedal = _controller()
            try:
                value = 0
                while got.empty() and time.perf_counter() - t0 < poll_s + 2.0:
                    pedal.send_message([0xB0, 7, value])
                    value = (value + 1) % 128  # every CC a change: every one that gets through is an Action
                    time.sleep(0.005)
                if not got.empty():
                    samples.append((got.get() - t0) * 1e3)
            finally:
                pedal.delete()
            time.sleep(poll_s * 1.5 + 0.05)  # seen gone
            while not got.empty():
                got.get()
    return samples


def _synth_back_ms(rounds: int, poll_s: float) -> list[float]:
    import rtmidi

    from jambox.events import DRUM_CHANNEL, PlayedNote
    from jambox.perform.midi_out import MidiOut

    out = MidiOut.open("drum-machine", SR, clock=False, api="jack", client="bench-out", poll_s=poll_s)
    samples = []
    try:
        for _ in range(rounds):
            heard: queue.SimpleQueue = queue.SimpleQueue()
            t0 = time.perf_counter()
            synth = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, "bench-synth")
            synth.set_callback(lambda ev, data=None: heard.put(time.perf_counter()) if ev[0][0] & 0xF0 == 0x90 else None)
            synth.open_virtual_port("drum-machine")
            try:
                while heard.empty() and time.perf_counter() - t0 < poll_s + 2.0:
                    out.schedule([PlayedNote("drums", 0, 100, 36, 100, DRUM_CHANNEL, 0)])  # no stream clock: at once
                    time.sleep(0.01)
                if not heard.empty():
                    samples.append((heard.get() - t0) * 1e3)
            finally:
                synth.close_port()
                synth.delete()
            time.sleep(poll_s * 1.5 + 0.05)
    finally:
        out.close()
    return samples


def _summary(prefix: str, samples: list[float], rounds: int) -> dict:
    if not samples:
        return {f"{prefix}_back": f"never within the poll interval + 2 s ({rounds} tries)"}
    return {f"{prefix}_median_ms": round(statistics.median(samples), 1), f"{prefix}_max_ms": round(max(samples), 1),
            f"{prefix}_missed": rounds - len(samples)}


def run(quick: bool) -> dict:
    if shutil.which("jackd") is None:
        return {"midi_hotplug": "not measured: jackd is not installed (Debian: jackd2)"}
    rounds = 3 if quick else 10
    figures: dict = {"midi_poll_s_default": POLL_S}
    with _jack():
        figures.update(_look_us(200 if quick else 2000))
        for poll_s, tag in ((0.1, "poll_0_1s"), (POLL_S, "poll_default")):
            if quick and poll_s == POLL_S:
                continue  # a second per round: the full run only
            figures.update(_summary(f"midi_controller_back_{tag}", _controller_back_ms(rounds, poll_s), rounds))
            figures.update(_summary(f"midi_synth_back_{tag}", _synth_back_ms(rounds, poll_s), rounds))
    return figures
