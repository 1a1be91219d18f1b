"""The live engine: one duplex stream, a logic thread and a renderer thread around one Chain.

Threads (see /work/shared/GUIDE.md):

- the audio callback (:class:`jambox.audio.stream.DuplexCallback`) only copies: input into
  ``input_ring``, ready accompaniment out of ``output_ring``, the dry bass mixed in;
- the **logic thread** reads the input ring one hop at a time and calls ``chain.feed(hop)``
  (listener, actions, generator planning ahead, notes handed to the performer);
- the **renderer thread** keeps ``output_ring`` filled ``audio.output_latency_blocks`` blocks ahead
  of the callback with ``chain.render(block, t)``.

Both threads sleep on a :class:`~jambox.audio.ring.Doorbell` the callback rings once per block, so
nothing polls.

Where the callback runs. A stream with a ``share(layout)`` method (``jambox run``'s
:class:`~jambox.audio.process_stream.ProcessStream`) runs the callback in an audio process of its
own: the rings and the callback's counters are built on the shared memory it returns, the doorbells
are rung from there, and this process's :attr:`LiveEngine.callback` is never called, only read (its
counters, times and clock mark are the audio process's, live). That keeps the callback off this
process's GIL, which the logic thread holds for whole aubio calls. Other streams (the in-memory
device, a plain SoundDeviceStream) call the callback in this process, as before.

One clock. Stream time is input frames since the stream started: ``chain.now`` is how much the
logic thread has heard. Output frame ``k`` (written by the callback that reads input frame ``k``)
leaves the converter one round trip later, when the player is playing stream time ``k + offset``,
where ``offset`` is the device's reported input + output latency in samples. So the renderer fills
output frame ``k`` with the accompaniment for stream time ``k + offset``: a drum hit planned on a
beat sounds with the note the player plays on that beat, and the dry bass in the output is the only
thing late (by the interface's round trip, as it must be).

Lifecycle: :meth:`LiveEngine.start` starts the renderer (which prefills the output ring), then the
logic thread, then the stream; :meth:`LiveEngine.stop` stops them in reverse, each in ``finally``.
A thread that dies or a stream that stops by itself sets :attr:`LiveEngine.stopped` with the reason.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from jambox.audio.ring import Doorbell, FrameRing
from jambox.audio.shared import Layout
from jambox.audio.stream import DuplexCallback, timing_figures
from jambox.errors import AudioDeviceError

log = logging.getLogger(__name__)

FLUID_GRID = 64  # render in multiples of FluidSynth's block so notes keep their exact grid line
SWITCH_INTERVAL_S = 0.001  # the GIL switch interval while a real device runs (see start)
STALL_S = 2.0  # no callback for this long while running: the device is gone
STALL_CHECK_S = 0.5
FIRST_SOUND_LEVEL = 0.01  # the plan records the first input sample above this (aligns recordings)


@dataclass
class LeadStats:
    """How far ahead of what the logic thread has heard the renderer is: the soonest a note planned now can sound."""

    count: int = 0
    min: int | None = None
    total: int = 0

    def add(self, lead: int) -> None:
        self.count += 1
        self.total += lead
        if self.min is None or lead < self.min:
            self.min = lead

    def mean(self) -> float | None:
        return self.total / self.count if self.count else None


class LiveEngine:
    """Run ``chain`` on ``stream`` (a SoundDeviceStream or a MemoryStream) until stopped."""

    def __init__(self, config, chain, stream, *, stop_event: threading.Event | None = None, on_hop=(),
                 realtime: bool = False):
        """``realtime``: move the renderer and logic threads to SCHED_FIFO where the process may
        (``jambox run``; the service's LimitRTPRIO allows it), via :mod:`jambox.appliance.realtime`."""
        a = config.audio
        self.config = config
        self.chain = chain
        self.stream = stream
        self.sample_rate = chain.sample_rate
        if stream.sample_rate != self.sample_rate:
            raise AudioDeviceError(f"the stream runs at {stream.sample_rate} Hz but the chain at {self.sample_rate} Hz")
        self.block = stream.block_size
        self.hop = chain.hop_size
        self.chunk = max(FLUID_GRID, -(-self.block // FLUID_GRID) * FLUID_GRID)  # frames rendered per call
        self.ahead = max(self.chunk, int(a.output_latency_blocks) * self.block)
        layout = Layout(max(2 * self.sample_rate, 16 * self.hop), 1, self.ahead + 4 * self.chunk + self.block, 2)
        share = getattr(stream, "share", None)  # a stream whose callback runs in another process
        if share is not None:
            shared = share(layout)
            self.input_ring, self.output_ring, callback_shared = shared.input_ring, shared.output_ring, shared.callback
        else:
            self.input_ring = FrameRing(layout.input_capacity, layout.input_channels)
            self.output_ring = FrameRing(layout.output_capacity, layout.output_channels)
            callback_shared = None
        self._logic_bell, self._render_bell, self._progress = Doorbell(), Doorbell(), Doorbell()
        self.callback = DuplexCallback(self.input_ring, self.output_ring, input_channel=a.input_channel,
                                       input_gain_db=a.input_gain_db, dry_level=a.dry_level,
                                       doorbells=(self._logic_bell, self._render_bell), shared=callback_shared,
                                       sample_rate=self.sample_rate)
        self.stopped = stop_event if stop_event is not None else threading.Event()
        self.stop_reason: str | None = None
        self.error: BaseException | None = None
        self.on_hop = list(on_hop)  # callables(chain) run by the logic thread after each hop (LEDs, watchdog)
        self.offset = 0  # stream samples between an output frame's index and the stream time it plays
        self.first_sound: int | None = None
        self.lead = LeadStats()
        self.hops = 0
        self.started_at: float | None = None
        self.realtime = realtime
        self._switch_interval: float | None = None
        self._rt_done: set[str] = set()
        self.stop_at: int | None = None  # stream time at which to stop (``--duration``)
        self._block_buf = np.zeros((self.chunk, 2), np.float32)
        self._quit = threading.Event()
        self._threads: list[threading.Thread] = []
        self._started: list[str] = []

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        """Open the stream, start renderer, logic thread and stream (in that order)."""
        self.stream.on_stopped = self._stream_stopped
        self.stream.open(self.callback)
        self._started.append("stream-open")
        # JACK's frames never skip: its late cycles are not re-synced (for a callback in the audio
        # process, that process decides the same)
        self.callback.follow_device_clock = not getattr(self.stream, "on_jack", False)
        in_lat, out_lat = self.stream.latency
        self.offset = int(round((in_lat + out_lat) * self.sample_rate))
        midi = getattr(self.chain.performer, "midi", None)
        if midi is not None:
            from jambox.perform.midi_out import StreamClock

            midi.stream_clock = StreamClock(self.sample_rate, self.offset, out_lat, source=lambda: self.callback.mark,
                                            block=self.block)
        if hasattr(self.stream, "ready"):
            self.stream.ready = self._ready_for_block
            self.stream.progress = self._progress
        if self.realtime:
            # The callback (in this process) and the renderer must take the GIL to run; a thread
            # holding it gives it up only at the switch interval (5 ms by default: two blocks of 128
            # frames). 1 ms keeps that wait short. A callback in its own process does not wait for
            # this one's GIL at all, but the renderer still does, and it has only
            # audio.output_latency_blocks blocks (10.7 ms by default) to hand each block over.
            self._switch_interval = sys.getswitchinterval()
            sys.setswitchinterval(SWITCH_INTERVAL_S)
        self._render_fill()  # prefill: the first callback finds its accompaniment ready
        self._spawn("jambox-render", self._render_loop)
        self._spawn("jambox-logic", self._logic_loop)
        self.stream.start()
        self._started.append("stream")
        self.started_at = time.monotonic()
        log.info("live: %d Hz, blocks of %d, hop %d, rendering %d frames ahead, latency compensation %d samples",
                 self.sample_rate, self.block, self.hop, self.ahead, self.offset)

    def _spawn(self, name: str, target) -> None:
        th = threading.Thread(target=self._guard, args=(name, target), name=name, daemon=True)
        th.start()
        self._threads.append(th)
        self._started.append(name)

    def stop(self) -> None:
        """Stop stream, logic thread and renderer (reverse of start); safe to call twice."""
        self._quit.set()
        try:
            if "stream" in self._started:
                self.stream.stop()
        finally:
            try:
                for bell in (self._logic_bell, self._render_bell, self._progress):
                    bell.ring()
                for th in reversed(self._threads):
                    th.join(timeout=5)
                    if th.is_alive():
                        log.error("%s did not stop within 5 s", th.name)
            finally:
                self._threads.clear()
                if self._switch_interval is not None:
                    sys.setswitchinterval(self._switch_interval)
                    self._switch_interval = None
                if "stream-open" in self._started:
                    self.stream.close()
                self._started.clear()
                for bell in (self._logic_bell, self._render_bell, self._progress):
                    bell.close()

    def run(self, duration_s: float | None = None) -> str:
        """Start, wait until stopped (signal, duration, device gone, a thread failed), stop. Returns why."""
        self.start()
        try:
            self.wait(duration_s)
        finally:
            self.stop()
        if self.error is not None:
            raise self.error
        return self.stop_reason or "stopped"

    def wait(self, duration_s: float | None = None) -> None:
        """Wait for :attr:`stopped`; with ``duration_s``, stop after that much stream time (tests, timed runs)."""
        if duration_s is not None:
            self.stop_at = int(duration_s * self.sample_rate)
            self._logic_bell.ring()
        last_blocks, last_change = -1, time.monotonic()
        while not self.stopped.wait(STALL_CHECK_S):
            # A device can vanish without PortAudio saying so (a JACK server killed under it): the
            # callback simply stops coming. A stream that has not called back for STALL_S is lost.
            blocks = self.callback.counters.blocks
            now = time.monotonic()
            if blocks != last_blocks:
                last_blocks, last_change = blocks, now
            elif now - last_change > STALL_S and getattr(self.stream, "realtime", True):
                mark_lost = getattr(self.stream, "mark_lost", None)
                if mark_lost is not None:
                    mark_lost()
                self._stop_because(f"device lost: the audio device stopped calling back ({blocks} blocks, "
                                   f"then nothing for {now - last_change:.1f} s)")

    def _stop_because(self, reason: str) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason
        self.stopped.set()

    def _stream_stopped(self) -> None:
        failure = getattr(self.stream, "failure", None)
        self._stop_because(f"device lost: {failure}" if failure else "input ended")

    @property
    def device_lost(self) -> bool:
        return bool(self.stop_reason and self.stop_reason.startswith("device lost"))

    def _guard(self, name: str, target) -> None:
        try:
            target()
        except BaseException as e:  # noqa: BLE001 - reported to the main thread, which re-raises
            log.exception("%s failed", name)
            self.error = e
            self._stop_because(f"{name} failed: {e}")

    def _maybe_realtime(self, name: str) -> None:
        """Once the callback has run: SCHED_FIFO for this thread, just below the callback's own priority.

        Only if the audio callback's thread is itself realtime (PortAudio's ALSA thread where allowed,
        a JACK server started with -R): a realtime helper above a normal-priority callback thread
        would preempt the very callback it feeds (JACK without -R, or no LimitRTPRIO)."""
        if name in self._rt_done:
            return
        tid = self.callback.thread_id
        if tid is None:
            return  # no callback yet: decide at the next wake-up
        self._rt_done.add(name)
        try:
            policy = os.sched_getscheduler(tid)
            cb_prio = os.sched_getparam(tid).sched_priority
        except (OSError, AttributeError) as e:
            log.info("%s stays at normal priority (cannot read the audio thread's: %s)", name, e)
            return
        if policy not in (os.SCHED_FIFO, os.SCHED_RR) or cb_prio < 3:
            log.info("%s stays at normal priority: the audio callback's thread is not realtime", name)
            return
        try:
            from jambox.appliance.realtime import LOGIC_PRIORITY, RENDERER_PRIORITY, make_realtime
        except ImportError as e:
            log.info("no realtime scheduling helper (%s)", e)
            return
        wanted = RENDERER_PRIORITY if name == "jambox-render" else LOGIC_PRIORITY
        below = cb_prio - (1 if name == "jambox-render" else 2)
        make_realtime(min(wanted, below), name)

    # -- logic thread -------------------------------------------------------------------------
    def _logic_loop(self) -> None:
        ring, hop, chain = self.input_ring, self.hop, self.chain
        performer = chain.performer
        set_tempo = getattr(performer, "set_tempo", None)
        while not self._quit.is_set():
            if self.realtime:
                self._maybe_realtime("jambox-logic")
            while ring.available() >= hop and not self._quit.is_set():
                buf = np.empty(hop, np.float32)  # a new array per hop: the listener may keep it
                ring.read_into(buf)
                if self.first_sound is None:
                    loud = np.flatnonzero(np.abs(buf) > FIRST_SOUND_LEVEL)
                    if len(loud):
                        self.first_sound = chain.now + int(loud[0])
                chain.feed(buf)
                self.hops += 1
                self.lead.add(self.output_ring.written + self.offset - chain.now)
                if set_tempo is not None:
                    h = chain.heard
                    set_tempo(h.tempo_bpm, h.beat_phase, h.meter)
                for hook in self.on_hop:
                    hook(chain)
                if self.stop_at is not None and chain.now >= self.stop_at:
                    self._stop_because(f"ran for {self.stop_at / self.sample_rate:g} s")
            self._progress.ring()
            self._logic_bell.wait(0.5)

    # -- renderer thread ----------------------------------------------------------------------
    def _render_loop(self) -> None:
        while not self._quit.is_set():
            if self.realtime:
                self._maybe_realtime("jambox-render")
            self._render_fill()
            self._progress.ring()
            self._render_bell.wait(0.5)

    def _render_fill(self) -> None:
        ring = self.output_ring
        buf = self._block_buf
        if ring.lag() < 0:  # the callback went on without us (an underrun): continue where it is
            ring.skip_to(ring.read)
        while ring.written < ring.read + self.ahead and not self._quit.is_set():
            buf.fill(0)
            self.chain.render(buf, ring.written + self.offset)
            ring.write(buf)

    def _ready_for_block(self, frames: int) -> bool:
        """For a MemoryStream running faster than real time: both threads are caught up."""
        return self.output_ring.available() >= self.ahead and self.input_ring.available() < self.hop

    # -- figures -------------------------------------------------------------------------------
    def counters(self) -> dict:
        c = self.callback.counters
        d = {
            "blocks": c.blocks,
            "stream_seconds": round(c.frames / self.sample_rate, 2),
            "xruns": c.xruns(),
            "underruns": c.underruns,
            "underrun_frames": c.underrun_frames,
            "input_overruns": c.input_overruns,
            "device_xrun_flags": c.input_overflow_flags + c.output_underflow_flags,
            "device_xruns": c.xrun_blocks,  # blocks flagged (JACK flags a late cycle as both overflow and underflow)
            "device_resyncs": c.resyncs,  # xruns that lost frames: the stream clock moved on with the device
            "device_dropped_frames": c.dropped_frames,
            "device_slip_frames": c.slip_frames,  # JACK: its wall clock past its frames at late cycles (not re-synced)
            "stale_output_frames": self.output_ring.stale,
            "latency_compensation_samples": self.offset,
            "render_ahead_frames": self.ahead,
            "render_lead_min_samples": self.lead.min,
        }
        d.update(timing_figures(self.callback.block_times_us()))
        counters = getattr(self.chain.performer, "counters", None)
        if counters is not None:
            d.update({f"performer_{k}": v for k, v in counters().items()})
        return d

    def plan(self) -> dict:
        """What the box planned, on the stream clock, for ``--record-plan`` (and the JACK test)."""
        rec = self.chain.record
        return {
            "sample_rate": self.sample_rate,
            "block_size": self.block,
            "latency_compensation": self.offset,
            "first_input_sample": self.first_sound,
            "first_input_level": FIRST_SOUND_LEVEL,
            "heard": {
                "tempo_bpm": self.chain.heard.tempo_bpm,
                "meter": list(self.chain.heard.meter),
                "beat_period": self.chain.heard.beat_period,
                "loop_bars": self.chain.heard.loop_bars,
            },
            "joins": [{"t": t, "event": e} for t, e in rec.joins],
            "beats": [{"t": b.time, "position": b.position} for b in rec.beats],
            "notes": [{"part": n.part, "time": n.time, "duration": n.duration, "pitch": n.pitch,
                       "velocity": n.velocity, "channel": n.channel, "planned_at": n.planned_at}
                      for n in rec.played],
            "counters": self.counters(),
        }

    def write_plan(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.plan(), indent=1))

