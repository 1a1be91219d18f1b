"""The performer: planned notes in, accompaniment audio out, every note on its planned stream sample.

Two threads use a Performer:

- the logic thread calls :meth:`schedule`, :meth:`set_level`, :meth:`set_tempo` and
  :meth:`all_notes_off`. None of them touches FluidSynth: they put a message on a
  :class:`queue.SimpleQueue` (or swap one float), so they never wait for the renderer;
- the renderer thread calls :meth:`render`, which drains that queue, keeps the pending note-ons and
  note-offs in a heap ordered by stream time, and renders FluidSynth in pieces split at those times.

Timing. FluidSynth computes audio in internal blocks of 64 frames and applies an event at the next
block it computes. The performer keeps the synth's blocks on a fixed grid and issues each event at
the grid line nearest its stream time, so a note starts within 32 samples (0.67 ms at 48 kHz) of its
planned sample, whatever the size of the blocks :meth:`render` is asked for (a finer placement is
not possible inside FluidSynth). ``timing_error_max`` counts the worst case seen.

Events planned for a time that is already rendered are played at the first sample not yet rendered,
keeping their length, and counted in ``late_notes`` / ``late_samples_max``.

The level control is an audio taper (``level ** 2``: 0.5 is about -12 dB), and a change is ramped
linearly over ``RAMP_MS`` so that knob moves do not click ("zipper noise").
"""

from __future__ import annotations

import ctypes
import heapq
import logging
import queue
from dataclasses import dataclass

import numpy as np

from jambox.errors import ValueRangeError
from jambox.events import DRUM_CHANNEL, PARTS, PlayedNote
from jambox.perform.fluid import FluidSynth

log = logging.getLogger(__name__)

FLUID_BLOCK = 64  # FluidSynth's internal block (FLUID_BUFSIZE, fixed when the library is built)
RAMP_MS = 20.0  # level changes are ramped over this long
_OFF, _ON = 0, 1  # heap order at equal times: a note-off before a note-on (re-triggers work)


def level_gain(level: float) -> float:
    """The amplitude factor for a 0..1 level control (an audio taper: 0.5 is about -12 dB)."""
    level = min(max(float(level), 0.0), 1.0)
    return level * level


def check_note(note: PlayedNote) -> None:
    """Raise :class:`ValueRangeError` naming the field, its value and what is allowed."""
    if note.part not in PARTS:
        raise ValueRangeError(f"note part must be one of {', '.join(PARTS)}, not {note.part!r}")
    if not 0 <= note.pitch <= 127:
        raise ValueRangeError(f"note pitch must be in range 0..127, not {note.pitch}")
    if not 1 <= note.velocity <= 127:
        raise ValueRangeError(f"note velocity must be in range 1..127, not {note.velocity}")
    if not 0 <= note.channel <= 15:
        raise ValueRangeError(f"note channel must be in range 0..15 (0-based), not {note.channel}")
    if note.part == "drums" and note.channel != DRUM_CHANNEL:
        raise ValueRangeError(f"drum notes must be on channel {DRUM_CHANNEL} (0-based), not {note.channel}")
    if note.time < 0:
        raise ValueRangeError(f"note time must be >= 0 samples, not {note.time}")
    if note.duration < 0:
        raise ValueRangeError(f"note duration must be >= 0 samples, not {note.duration}")


class _FloatWriter:
    """``fluid_synth_write_float`` into a float32 (frames, 2) buffer: no int16 round trip, no allocation.

    pyfluidsynth only wraps the int16 writer (which allocates a new buffer per call and dithers), so
    the performer binds the float writer itself, on the same library pyfluidsynth loaded.
    """

    def __init__(self, synth: FluidSynth):
        import fluidsynth

        self._handle = synth._synth.synth  # the fluid_synth_t* of the wrapped pyfluidsynth Synth
        self._write = fluidsynth.cfunc(
            "fluid_synth_write_float", ctypes.c_int,
            ("synth", ctypes.c_void_p, 1), ("len", ctypes.c_int, 1),
            ("lout", ctypes.c_void_p, 1), ("loff", ctypes.c_int, 1), ("lincr", ctypes.c_int, 1),
            ("rout", ctypes.c_void_p, 1), ("roff", ctypes.c_int, 1), ("rincr", ctypes.c_int, 1),
        )

    def __call__(self, buf: np.ndarray, start: int, frames: int) -> None:
        """Write the synth's next ``frames`` frames into rows ``start..start+frames`` of ``buf``."""
        if frames > 0:
            ptr = buf.ctypes.data + start * 8  # 2 float32 per frame
            self._write(self._handle, frames, ptr, 0, 2, ptr, 1, 2)


def volume_cc(db: float) -> int:
    """The CC7 (channel volume) value for a gain in dB: General MIDI's curve, gain = 40 log10(cc / 127)."""
    return max(1, min(127, round(127 * 10 ** (db / 40.0))))


@dataclass
class PerformerStats:
    """Counters the renderer updates (read them from any thread; each is one int)."""

    notes_scheduled: int = 0
    notes_started: int = 0
    late_notes: int = 0
    late_samples_max: int = 0
    timing_error_max: int = 0  # samples between a note's planned time and its FluidSynth grid line
    all_notes_off: int = 0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


class Performer:
    """FluidSynth driven on the stream clock; optionally the same notes out as MIDI."""

    def __init__(self, sample_rate: int, cfg, *, midi_out=None):
        """``cfg`` is ``config.performer``. ``midi_out`` overrides the port named in ``cfg.midi_out``
        (tests pass a :class:`jambox.perform.midi_out.MidiOut` on a virtual port)."""
        self.sample_rate = int(sample_rate)
        self.cfg = cfg
        self.keys_channel = int(cfg.midi_keys_channel) - 1
        if not 0 <= self.keys_channel <= 15:
            raise ValueRangeError(f"performer.midi_keys_channel must be in range 1..16, not {cfg.midi_keys_channel}")
        if self.keys_channel == DRUM_CHANNEL:
            raise ValueRangeError("performer.midi_keys_channel must not be 10, the General MIDI drum channel")
        self._synth = FluidSynth(cfg.soundfont, self.sample_rate, gain=cfg.gain, reverb=cfg.reverb)
        self._synth.program(DRUM_CHANNEL, int(cfg.drum_kit), bank=128)
        self._synth.program(self.keys_channel, int(cfg.keys_program), bank=0)
        self._synth.cc(self.keys_channel, 7, volume_cc(cfg.keys_volume_db))
        self._write = _FloatWriter(self._synth)
        self.stats = PerformerStats()

        self._inbox: queue.SimpleQueue = queue.SimpleQueue()  # logic thread -> renderer
        self._heap: list[tuple] = []  # (time, _OFF/_ON, seq, channel, pitch, velocity)
        self._seq = 0
        self._sounding: dict[tuple[int, int], int] = {}  # (channel, pitch) -> seq of the note-on sounding
        self._anchor: int | None = None  # stream time of synth frame 0
        self._next = 0  # the first stream sample not yet rendered
        self._scratch = np.zeros((0, 2), np.float32)
        self._gains = np.zeros(0, np.float32)
        self._ramp = np.zeros(0, np.float32)

        self._level = 1.0  # written by the logic thread (one float: a reference swap)
        self._gain = level_gain(self._level)  # the gain reached at the last sample rendered
        self._ramp_to = self._gain
        self._ramp_left = 0
        self._ramp_step = 0.0
        self._ramp_len = max(1, int(RAMP_MS * 1e-3 * self.sample_rate))

        self.midi = midi_out
        if self.midi is None and cfg.midi_out:
            from jambox.perform.midi_out import MidiOut

            self.midi = MidiOut.open(cfg.midi_out, self.sample_rate, clock=cfg.midi_clock)
        if self.midi is not None:
            self.midi.program(DRUM_CHANNEL, int(cfg.drum_kit))
            self.midi.program(self.keys_channel, int(cfg.keys_program))

    # -- logic thread ------------------------------------------------------------------------
    def schedule(self, notes: list[PlayedNote]) -> None:
        """Queue notes for the renderer (and MIDI out). Never waits; raises on a malformed note."""
        notes = list(notes)
        for n in notes:
            check_note(n)
        if not notes:
            return
        self._inbox.put(notes)
        if self.midi is not None:
            self.midi.schedule(notes)

    def set_level(self, level: float) -> None:
        """Master level 0..1; the renderer ramps to it over ``RAMP_MS``."""
        self._level = min(max(float(level), 0.0), 1.0)

    def set_tempo(self, tempo_bpm: float | None, beat_phase: int | None = None, meter=(4, 4)) -> None:
        """The listener's tempo, for the MIDI clock (the audio needs none: notes carry their samples)."""
        if self.midi is not None:
            self.midi.set_tempo(tempo_bpm, beat_phase, meter)

    def all_notes_off(self) -> None:
        """Release every sounding note and drop every pending one (the box stopped)."""
        self._inbox.put(None)
        if self.midi is not None:
            self.midi.all_notes_off()

    # -- renderer thread ---------------------------------------------------------------------
    def render(self, out: np.ndarray, start: int) -> None:
        """ADD the accompaniment for stream samples ``[start, start + len(out))`` to ``out`` (frames, 2)."""
        n = len(out)
        if n == 0:
            return
        if self._anchor is None or start != self._next:
            self._reanchor(start)
        self._drain(start)
        if len(self._scratch) < n:
            self._grow(n)
        end = start + n
        pos = start
        heap = self._heap
        written = start - self._anchor  # synth frames written so far
        while heap:
            t = heap[0][0]
            line = self._grid_line(t, written)
            at = line + self._anchor
            if at >= end:
                break
            if at > pos:
                self._write(self._scratch, pos - start, at - pos)
                written += at - pos
                pos = at
            self._apply(heapq.heappop(heap), at)
        if pos < end:
            self._write(self._scratch, pos - start, end - pos)
        self._next = end
        self._mix_into(out, n)

    def _grid_line(self, t: int, written: int) -> int:
        """The synth frame (a FluidSynth block boundary) at which an event for stream time ``t`` lands."""
        s = t - self._anchor
        nearest = (s + FLUID_BLOCK // 2) // FLUID_BLOCK * FLUID_BLOCK
        computed = -(-written // FLUID_BLOCK) * FLUID_BLOCK  # FluidSynth has computed up to here
        return max(nearest, computed)

    def _apply(self, ev: tuple, at: int) -> None:
        t, kind, seq, ch, pitch, vel = ev
        key = (ch, pitch)
        if kind == _ON:
            if key in self._sounding:
                self._synth.note_off(ch, pitch)  # re-trigger: end the earlier note first
            self._synth.note_on(ch, pitch, vel)
            self._sounding[key] = seq
            self.stats.notes_started += 1
            err = abs(at - t)
            if err > self.stats.timing_error_max:
                self.stats.timing_error_max = err
        elif self._sounding.get(key) == seq:  # a re-triggered note's own off would cut the newer one
            self._synth.note_off(ch, pitch)
            del self._sounding[key]

    def _drain(self, start: int) -> None:
        while True:
            try:
                item = self._inbox.get_nowait()
            except queue.Empty:
                return
            if item is None:
                self._heap.clear()
                self._sounding.clear()
                self._synth.all_off()
                self.stats.all_notes_off += 1
                continue
            for note in item:
                on = note.time
                if on < start:
                    late = start - on
                    self.stats.late_notes += 1
                    self.stats.late_samples_max = max(self.stats.late_samples_max, late)
                    on = start
                self._seq += 1
                heapq.heappush(self._heap, (on, _ON, self._seq, note.channel, note.pitch, note.velocity))
                heapq.heappush(self._heap, (on + note.duration, _OFF, self._seq, note.channel, note.pitch, 0))
                self.stats.notes_scheduled += 1

    def _reanchor(self, start: int) -> None:
        """Map stream time onto synth frames: at the first call, and if the caller skipped or rewound."""
        if self._anchor is not None:
            log.debug("performer asked for sample %d after %d: the synth continues from there", start, self._next)
            self._anchor = start - (self._next - self._anchor)  # synth frames continue where they were
        else:
            self._anchor = start
        self._next = start

    def _grow(self, n: int) -> None:
        self._scratch = np.zeros((n, 2), np.float32)
        self._gains = np.zeros(n, np.float32)
        self._ramp = np.arange(1, n + 1, dtype=np.float32)

    def _mix_into(self, out: np.ndarray, n: int) -> None:
        scratch = self._scratch[:n]
        target = level_gain(self._level)
        if target != self._ramp_to:
            self._ramp_to = target
            self._ramp_left = self._ramp_len
            self._ramp_step = (target - self._gain) / self._ramp_len
        if self._ramp_left == 0:
            if self._gain != 1.0:
                np.multiply(scratch, self._gain, out=scratch)
        else:
            k = min(n, self._ramp_left)
            gains = self._gains[:n]
            np.multiply(self._ramp[:k], self._ramp_step, out=gains[:k])
            gains[:k] += self._gain
            gains[k:] = self._ramp_to
            self._ramp_left -= k
            self._gain = self._ramp_to if self._ramp_left == 0 else float(gains[k - 1])
            np.multiply(scratch, gains[:, None], out=scratch)
        np.add(out, scratch, out=out)

    # -- any thread ------------------------------------------------------------------------
    def counters(self) -> dict:
        d = self.stats.as_dict()
        if self.midi is not None:
            d.update({f"midi_{k}": v for k, v in self.midi.counters().items()})
        return d

    def close(self) -> None:
        """Silence and free the synth, close MIDI out. Call after the renderer has stopped."""
        if self.midi is not None:
            self.midi.close()
            self.midi = None
        if self._synth is not None:
            self._synth.close()
            self._synth = None
