"""The accompaniment as MIDI, through python-rtmidi: the same notes as the synth, at the same moments, and MIDI clock.

A :class:`MidiOut` owns one sender thread. The logic thread only queues (notes, tempo, all-notes-off
on a :class:`queue.SimpleQueue`); the sender keeps the messages in a heap by stream time and sleeps
until the next one is due. "Due" comes from a stream clock (:class:`StreamClock`, kept by the live
engine from the audio callback): a message for stream time ``t`` goes out when the box's audio for
``t`` leaves the sound card, so an external synth and FluidSynth play together. Without a clock (a
bare Performer, offline) messages go out as soon as they are queued.

MIDI clock (0xF8, 24 per quarter note) follows the listener's tempo and beat phase: tick ``k`` is
at ``beat_phase + k * quarter / 24`` on the stream clock, so a drum machine slaved to the box stays
on the bass player's grid; Start (0xFA) goes with the first tick once a tempo is known, Stop (0xFC)
when the box stops or closes.

Hot-plug. :meth:`MidiOut.open` watches for the synth's port (:mod:`jambox.midi_watch`): a synth
switched on after the box, or unplugged and plugged back, is picked up within a poll interval, the
sender thread doing the looking between messages (it owns the rtmidi object). While the port is
away nothing is sent and whatever is scheduled is dropped (counted in ``dropped``), so a synth
that comes back hears no burst of stale notes: it gets all-notes-off on every channel, the
programs the box set, and then MIDI clock on the current tempo with a fresh Start.
"""

from __future__ import annotations

import heapq
import logging
import queue
import threading
import time
from typing import Callable

from jambox import midi_ports
from jambox.errors import MidiError
from jambox.midi_watch import POLL_S, PortWatch

log = logging.getLogger(__name__)

CLOCK, START, STOP = 0xF8, 0xFA, 0xFC
PPQ = 24
_OFF, _ON = 0, 1


class StreamClock:
    """Maps stream time to ``time.perf_counter()`` seconds from the audio callback's last block.

    ``mark(frames, t_ns)`` is called by whoever knows when output frame ``frames`` was handed to the
    device (the live engine, from the callback's counters); ``out_latency_s`` is the device's output
    latency and ``offset`` the engine's latency compensation (stream time of output frame 0)."""

    def __init__(self, sample_rate: int, offset: int = 0, out_latency_s: float = 0.0,
                 source: Callable[[], tuple[int, int]] | None = None, block: int = 0):
        self.sample_rate = int(sample_rate)
        self.block = int(block)  # frames per callback; 0 = unknown (no check that a frame was handed over)
        self.offset = int(offset)
        self.out_latency_s = float(out_latency_s)
        self._source = source  # () -> (output frames handed over, perf_counter_ns when that was)

    def wall_time(self, t: int) -> float | None:
        """When stream time ``t`` is heard (perf_counter seconds), or None before the stream runs."""
        if self._source is None:
            return None
        frames, at_ns = self._source()
        if at_ns == 0:
            return None
        return at_ns * 1e-9 + (t - self.offset - frames) / self.sample_rate + self.out_latency_s

    def handed_over(self, t: int) -> bool:
        """Whether the audio for stream time ``t`` has gone to the device yet.

        :meth:`wall_time` beyond the latest block assumes the device keeps real time; one that runs
        slow (a loaded JACK dummy driver, a drifting clock) would see MIDI run ahead of its audio.
        Holding each message until its block has gone out keeps MIDI on the audio's own clock."""
        if self._source is None or self.block <= 0:
            return True
        frames, at_ns = self._source()
        return at_ns != 0 and t - self.offset < frames + self.block


def open_rtmidi_out(api: str = "", client: str = "jambox"):
    """An ``rtmidi.MidiOut`` on ``api`` ("alsa", "jack"; empty: ALSA, then JACK), or a MidiError."""
    return midi_ports.open_rtmidi("output", api, client)


def find_output_port(ports: list[str], wanted: str) -> int:
    """The index of the synth's port named by ``wanted``: an index, or a name substring."""
    return midi_ports.find_port(ports, wanted, kind="output", setting="performer.midi_out")


class MidiOut:
    """Timed MIDI out on an open ``rtmidi.MidiOut`` (or anything with ``send_message(list[int])``), or
    on the port a :class:`jambox.midi_watch.PortWatch` keeps open (``watch``; ``port`` is then None),
    looked at every ``poll_s`` seconds by the sender thread."""

    def __init__(self, port, sample_rate: int, *, clock: bool = True, stream_clock: StreamClock | None = None,
                 name: str = "(given)", watch: PortWatch | None = None, poll_s: float = POLL_S):
        if watch is not None and not poll_s > 0:
            watch.close()
            raise MidiError(f"MIDI poll interval must be > 0 s, not {poll_s!r}")
        self._watch = watch
        self._port = watch.port if watch is not None else port
        self._given_name = name
        self.poll_s = float(poll_s)
        self._next_look = time.monotonic() + self.poll_s
        self._programs: dict[int, int] = {}  # channel -> program, sent again to a synth that comes back
        self.sample_rate = int(sample_rate)
        self.send_clock = bool(clock)
        self.stream_clock = stream_clock
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._wake = threading.Event()
        self._closed = False
        self._heap: list[tuple] = []  # (stream time, _OFF/_ON, seq, bytes)
        self._seq = 0
        self._sounding: dict[tuple[int, int], int] = {}
        self._tempo: tuple[float, int, tuple[int, int]] | None = None  # (quarter samples, phase, meter)
        self._next_tick: int | None = None  # stream time of the next clock tick (index on the grid)
        self._running = False
        self.sent = 0
        self.late = 0
        self.clock_ticks = 0
        self.errors = 0
        self.dropped = 0  # notes scheduled while the port was away
        self.reconnects = 0
        self._connected = watch is None or watch.connected
        if watch is not None:
            watch.on_open, watch.on_close = self._port_opened, self._port_lost
            if self._connected:
                self._port_opened(watch.port)  # opened by the first look, before these callbacks were set
        self._thread = threading.Thread(target=self._run, name="jambox-midi-out", daemon=True)
        self._thread.start()

    @classmethod
    def open(cls, wanted: str, sample_rate: int, *, clock: bool = True, api: str = "",
             client: str = "jambox", poll_s: float = POLL_S, wait: bool = True) -> "MidiOut":
        """MIDI out on the port ``wanted`` names, watched for: open now if it is there, else from when
        it appears (``wait``; without it an absent port is a MidiError). A missing MIDI system is
        always a MidiError."""
        watch = PortWatch(open_rtmidi_out(api, client), wanted, kind="output", setting="performer.midi_out",
                          port_name=f"{client} out", label="MIDI out")
        watch.poll()
        if not watch.connected and not wait:
            why = watch.waiting_for
            watch.close()
            raise MidiError(why)
        return cls(None, sample_rate, clock=clock, watch=watch, poll_s=poll_s)

    @property
    def name(self) -> str | None:
        """The port as listed while it is open (None while it is waited for)."""
        return self._given_name if self._watch is None else self._watch.name

    @property
    def connected(self) -> bool:
        return self._connected

    def describe(self) -> str:
        """``"on PORT"`` or ``"waiting for port 'X' (why)"``."""
        return f"on {self._given_name}" if self._watch is None else self._watch.describe()

    # -- logic thread --------------------------------------------------------------------------
    def program(self, channel: int, program: int) -> None:
        self._inbox.put(("now", [0xC0 | channel, program & 0x7F]))
        self._wake.set()

    def schedule(self, notes) -> None:
        self._inbox.put(("notes", list(notes)))
        self._wake.set()

    def set_tempo(self, tempo_bpm: float | None, beat_phase: int | None, meter=(4, 4)) -> None:
        if not self.send_clock:
            return
        if tempo_bpm is None or beat_phase is None or tempo_bpm <= 0:
            if self._tempo is not None:
                self._inbox.put(("tempo", None))
                self._wake.set()
            return
        quarter = 60.0 * self.sample_rate / float(tempo_bpm) * (meter[1] / 4.0)
        self._inbox.put(("tempo", (quarter, int(beat_phase), tuple(meter))))
        self._wake.set()

    def all_notes_off(self) -> None:
        self._inbox.put(("all_off", None))
        self._wake.set()

    # -- the sender thread ----------------------------------------------------------------------
    def _send(self, msg) -> None:
        if not self._connected:
            return
        try:
            self._port.send_message(msg)
            self.sent += 1
        except Exception as e:  # noqa: BLE001 - a vanished port must not kill the sender
            self.errors += 1
            if self.errors == 1:
                log.warning("MIDI out on %s failed: %s", self.name, e)

    def _drain(self) -> None:
        while True:
            try:
                kind, item = self._inbox.get_nowait()
            except queue.Empty:
                return
            if kind == "notes":
                if not self._connected:  # nobody to play them to, and stale by the time someone is
                    self.dropped += len(item)
                    continue
                for n in item:
                    self._seq += 1
                    heapq.heappush(self._heap, (n.time, _ON, self._seq, n.channel, n.pitch, n.velocity))
                    heapq.heappush(self._heap, (n.time + n.duration, _OFF, self._seq, n.channel, n.pitch, 0))
            elif kind == "now":
                if item[0] & 0xF0 == 0xC0:
                    self._programs[item[0] & 0x0F] = item[1]
                self._send(item)
            elif kind == "tempo":
                self._set_grid(item)
            elif kind == "all_off":
                self._heap.clear()
                for ch, pitch in list(self._sounding):
                    self._send([0x80 | ch, pitch, 0])
                self._sounding.clear()
                self._send_all_notes_off()

    def _send_all_notes_off(self) -> None:
        for ch in range(16):
            self._send([0xB0 | ch, 123, 0])

    # -- hot-plug (the watch's callbacks, run by poll() on this thread, or by open() before it starts) --
    def _look(self) -> float:
        """Look at the ports if it is time; seconds until the next look."""
        now = time.monotonic()
        if now >= self._next_look:
            self._watch.poll()
            self._next_look = now + self.poll_s
        return self._next_look - now

    def _port_lost(self, _port) -> None:
        """The synth went away: forget what it was playing and what was planned for it."""
        self._connected = False
        dropped = sum(1 for ev in self._heap if ev[1] == _ON)
        self.dropped += dropped
        self._heap.clear()
        self._sounding.clear()
        self._running = False  # a synth that comes back gets a fresh Start
        self._next_tick = None

    def _port_opened(self, _port) -> None:
        """The synth is (back) on: no hung notes, its programs, and the clock from the next tick."""
        self._connected = True
        if self._watch is not None and self._watch.connects > 1:
            self.reconnects += 1
        self._heap.clear()
        self._sounding.clear()
        self._send_all_notes_off()
        for ch, program in self._programs.items():
            self._send([0xC0 | ch, program])
        self._running = False
        self._next_tick = None  # the clock picks up on the current tempo's grid at "now"

    def _set_grid(self, tempo) -> None:
        if tempo is None:
            if self._running:
                self._send([STOP])
                self._running = False
            self._tempo = None
            self._next_tick = None
            return
        quarter, phase, _ = tempo
        self._tempo = tempo
        interval = quarter / PPQ
        if self._next_tick is None:
            return  # placed on the grid when the first tick is due (needs the clock's "now")
        # keep counting from where we are, re-aligned to the new grid
        k = round((self._next_tick - phase) / interval)
        self._next_tick = int(round(phase + k * interval))

    def _now_stream(self) -> float | None:
        """The stream time being heard now (inverse of the stream clock), or None without one."""
        c = self.stream_clock
        if c is None:
            return None
        w0 = c.wall_time(0)
        if w0 is None:
            return None
        return (time.perf_counter() - w0) * self.sample_rate

    def _due(self, t: int, now_w: float) -> tuple[bool, float]:
        """(due now?, seconds until due)."""
        c = self.stream_clock
        w = c.wall_time(t) if c is not None else None
        if w is None:
            return True, 0.0
        if not c.handed_over(t):  # the audio for t has not gone out yet: look again within a block
            return False, max(0.0005, min(w - now_w, c.block / c.sample_rate / 2))
        return w <= now_w + 0.0005, w - now_w

    def _apply(self, ev) -> None:
        t, kind, seq, ch, pitch, vel = ev
        key = (ch, pitch)
        if kind == _ON:
            if key in self._sounding:
                self._send([0x80 | ch, pitch, 0])
            self._send([0x90 | ch, pitch, vel])
            self._sounding[key] = seq
        elif self._sounding.get(key) == seq:
            self._send([0x80 | ch, pitch, 0])
            del self._sounding[key]

    def _run(self) -> None:
        while not self._closed:
            self._drain()
            now_w = time.perf_counter()
            wait = 0.5
            while self._heap:
                due, left = self._due(self._heap[0][0], now_w)
                if not due:
                    wait = min(wait, left)
                    break
                ev = heapq.heappop(self._heap)
                if left < -0.005 and ev[1] == _ON:
                    self.late += 1
                self._apply(ev)
            if self._tempo is not None and self.send_clock and self._connected:
                wait = min(wait, self._clock_ticks(now_w))
            if self._watch is not None:
                wait = min(wait, self._look())
            self._wake.wait(max(0.0, wait))
            self._wake.clear()

    def _clock_ticks(self, now_w: float) -> float:
        """Send the clock ticks that are due; seconds until the next one."""
        quarter, phase, _ = self._tempo
        interval = quarter / PPQ
        if self._next_tick is None:
            now_s = self._now_stream()
            if now_s is None:
                return 0.5
            k = int((now_s - phase) // interval) + 1
            self._next_tick = int(round(phase + k * interval))
        for _ in range(PPQ * 4):  # never more than a bar's ticks at once (a stalled clock source)
            due, left = self._due(self._next_tick, now_w)
            if not due:
                return left
            if not self._running:
                self._send([START])
                self._running = True
            self._send([CLOCK])
            self.clock_ticks += 1
            k = round((self._next_tick - phase) / interval) + 1
            self._next_tick = int(round(phase + k * interval))
        return 0.0

    # -- any thread ------------------------------------------------------------------------------
    def counters(self) -> dict:
        return {"sent": self.sent, "late": self.late, "clock_ticks": self.clock_ticks, "errors": self.errors,
                "dropped": self.dropped, "reconnects": self.reconnects, "connected": int(self._connected)}

    def close(self) -> None:
        """Notes off, Stop, and the port closed (after the queued messages that are due)."""
        if self._closed:
            return
        self.all_notes_off()
        self._inbox.put(("tempo", None))
        self._closed = True
        self._wake.set()
        self._thread.join(timeout=2)
        self._drain()
        if self._watch is not None:
            self._watch.close()
            return
        try:
            close_port = getattr(self._port, "close_port", None)
            if close_port is not None:
                close_port()
        finally:
            delete = getattr(self._port, "delete", None)
            if delete is not None:
                delete()
