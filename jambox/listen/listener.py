"""The listener: one hop of bass in, the events decided in that hop out, and a snapshot of what it heard.

Streaming and causal: the same code runs live (a hop at a time from the input ring) and offline
(a file fed hop by hop). Stages, each in its own module:
notes (onsets, pitch, offsets) -> beat grid (tempo, phase, drift) -> meter/downbeat/loop, key, feel.
Per-hop work is bounded: every history is a fixed-size deque, the heavier estimates run on a
schedule (twice a second, once a beat), never over the whole session.
"""

from __future__ import annotations

from collections import deque
from dataclasses import replace

import numpy as np

from jambox.errors import ValueRangeError
from jambox.events import Beat, Heard, Note, Onset
from jambox.listen.feel import FeelTracker
from jambox.listen.key import KeyTracker
from jambox.listen.meter import MeterTracker
from jambox.listen.notes import NoteTracker
from jambox.listen.tempo import BeatTracker

RECENT_NOTES = 128  # kept for Heard.notes and for re-placing notes on a new grid (two 4-bar loops of 16ths)
HEARD_NOTES = 32  # notes handed to the generator at least; more when two passes of the loop hold more
DOWNBEAT_KEY_WEIGHT = 2.0  # a note on the one says more about the key
LOOP_START_KEY_WEIGHT = 2.0  # ... and one on the loop's first beat, more again
MIN_TEMPO_CONFIDENCE = 0.25
CUE_TOLERANCE_BEATS = 0.15  # a new riff's first note lies this close to its start, or after it
SILENCE_RESTART_S = 2.0  # a note after this much silence starts a new section


class Listener:
    def __init__(self, sample_rate: int, cfg):
        self.sample_rate = int(sample_rate)
        self.hop_size = int(cfg.hop_size)
        self.notes = NoteTracker(self.sample_rate, self.hop_size, cfg)
        self.grid = BeatTracker(self.sample_rate)
        self.meter = MeterTracker()
        self.key = KeyTracker()
        self.feel = FeelTracker()
        self.now = 0
        self.last_onset: int | None = None
        self._recent: deque[Note] = deque(maxlen=RECENT_NOTES)  # latest version of each note, by onset order
        self._grid_locks = 0
        self._last_beat: int | None = None
        self._section_start: int | None = None
        self.section_starts: deque[int] = deque(maxlen=64)  # every new riff heard (stream times)
        self._section_first: int | None = None  # onset of the first note after a silence
        self._heard = Heard(sample_rate=self.sample_rate)
        self._dirty = False
        self._notes_since_beat = False  # a new note heard since the last beat: the meter looks again
        self._key_weights: dict[int, float] = {}  # onset -> the weight a recent note gave the key

    # -- the stream -----------------------------------------------------------------------
    def process(self, hop: np.ndarray) -> list:
        """Hear exactly one hop (float32 mono); return the Onset, Note and Beat events decided in it."""
        if hop.ndim != 1 or len(hop) != self.hop_size:
            raise ValueRangeError(f"hop must be a 1-D array of {self.hop_size} samples, not shape {hop.shape}")
        hop = np.asarray(hop, dtype=np.float32)
        if not np.isfinite(hop.sum()):  # one NaN would poison the filters' state for good
            hop = np.nan_to_num(hop, nan=0.0, posinf=1.0, neginf=-1.0)
        out = []
        for ev in self.notes.process(hop):
            self._take(ev, out)
        self.now += self.hop_size
        if self.grid.locks != self._grid_locks:
            self._replace_notes()
        for t, index in self.grid.advance(self.now):
            if self._notes_since_beat:
                first = None if self._section_first is None else self.grid.beat_number(self._section_first)
                guess = self.meter.update(index, first)
            else:
                # no note since the last beat: the player rests. Bars of silence are no new riff and
                # no loop: meter, downbeat and loop stay as heard until the next note
                guess = replace(self.meter.guess, new_riff=False)
            self._notes_since_beat = False
            if guess.new_riff and guess.loop_start_beat is not None:
                self._section_start = max(0, int(round(self.grid.time_of(guess.loop_start_beat))))
                self.section_starts.append(self._section_start)
                self.key.new_section()
                for n in self._recent:  # the new riff's first note: the key's first-note cue
                    if n.onset >= self._section_start - CUE_TOLERANCE_BEATS * self.grid.period:
                        self.key.start_section(n.pitch)
                        break
            position = -1
            if guess.downbeat_beat is not None:
                position = (index - guess.downbeat_beat) % guess.meter[0]
            self._last_beat = t
            out.append(Beat(time=t, position=position, emitted_at=self.now))
        if out:
            self._dirty = True
        return out

    def finish(self) -> list:
        out = []
        for ev in self.notes.finish():
            self._take(ev, out)
        self._dirty = True
        return out

    def heard(self) -> Heard:
        """The current picture, rebuilt only when something changed (cheap enough for every hop)."""
        if self._dirty:
            self._heard = self._build_heard()
            self._dirty = False
        return self._heard

    # -- inside ---------------------------------------------------------------------------
    def _take(self, ev, out: list) -> None:
        out.append(ev)
        if isinstance(ev, Onset):
            self.last_onset = ev.time
            return
        if not isinstance(ev, Note):
            return
        if ev.offset is None and (not self._recent or self._recent[-1].onset != ev.onset):  # a new note
            if self._section_first is None or self._rest_before(ev.onset) > SILENCE_RESTART_S * self.sample_rate:
                self._section_first = ev.onset
                self.key.start_section(ev.pitch)
            weight = ev.velocity / 100.0
            self.grid.add_onset(ev.onset, weight)
            key_weight = weight
            if self.grid.locked:
                beat = self.grid.beat_number(ev.onset)
                self.meter.add(beat, ev.pitch, weight)
                self.feel.add(beat)
                g = self.meter.guess
                on_beat = abs(beat - round(beat)) < 0.15
                if on_beat and g.downbeat_beat is not None and (round(beat) - g.downbeat_beat) % g.meter[0] == 0:
                    key_weight *= DOWNBEAT_KEY_WEIGHT
                if on_beat and g.loop_start_beat is not None and g.loop_beats \
                        and (round(beat) - g.loop_start_beat) % g.loop_beats == 0:
                    key_weight *= LOOP_START_KEY_WEIGHT  # the riff's first note: usually its tonic
            self.key.add(ev.pitch, key_weight)
            if len(self._recent) == self._recent.maxlen:
                self._key_weights.pop(self._recent[0].onset, None)
            self._recent.append(ev)
            self._key_weights[ev.onset] = key_weight
            self._notes_since_beat = True
        else:  # the same note again: its offset, or its pitch revised
            for i in range(len(self._recent) - 1, -1, -1):
                if self._recent[i].onset == ev.onset:
                    old = self._recent[i]
                    self._recent[i] = ev
                    if old.pitch != ev.pitch:
                        # move all the weight the note was given (a downbeat's, a loop start's too):
                        # moving only its velocity's share left a wrong pitch class in the key
                        w = self._key_weights.get(ev.onset, ev.velocity / 100.0)
                        if ev.onset == self._section_first:
                            self.key.start_section(ev.pitch)  # the riff's first note, now heard right
                        self.key.revise(old.pitch, ev.pitch, w)
                        if self.grid.locked:
                            self.meter.revise(self.grid.beat_number(ev.onset), ev.pitch)
                    break

    def _rest_before(self, onset: int) -> int:
        """Samples of silence between the last note's end and ``onset`` (a long note is no rest)."""
        if not self._recent:
            return 0
        last = self._recent[-1]
        return onset - (last.offset if last.offset is not None else last.onset)

    def _replace_notes(self) -> None:
        """The grid re-locked: place the recent notes on the new grid."""
        self._grid_locks = self.grid.locks
        self.meter.reset()
        for n in self._recent:
            self.meter.add(self.grid.beat_number(n.onset), n.pitch, n.velocity / 100.0)

    def _heard_notes(self) -> tuple[Note, ...]:
        """The last two passes of the loop (at least HEARD_NOTES notes), for the generator to read ahead."""
        notes = list(self._recent)
        m, g = self.meter.guess, self.grid
        keep = HEARD_NOTES
        if m.loop_beats and g.locked:
            since = self.now - 2 * m.loop_beats * g.period
            keep = max(keep, sum(1 for n in notes if n.onset >= since))
        return tuple(notes[-keep:])

    def _build_heard(self) -> Heard:
        g = self.grid
        m = self.meter.guess
        base = dict(sample_rate=self.sample_rate, last_onset=self.last_onset, notes=self._heard_notes(),
                    key_tonic=self.key.tonic, key_mode=self.key.mode)
        if not g.locked:
            return Heard(**base)
        period = g.period
        confident = g.confidence >= MIN_TEMPO_CONFIDENCE
        downbeat = None
        if m.downbeat_beat is not None:
            last = g.next_index - 1
            k = last - ((last - m.downbeat_beat) % m.meter[0])
            downbeat = int(round(g.time_of(k)))
        loop_start = None if m.loop_start_beat is None else max(0, int(round(g.time_of(m.loop_start_beat))))
        section = self._section_start if self._section_start is not None else loop_start
        return Heard(
            **base,
            tempo_bpm=60.0 * self.sample_rate / period if confident else None,
            beat_period=period,
            beat_phase=self._last_beat if self._last_beat is not None else int(round(g.next_beat - period)),
            downbeat=downbeat,
            meter=m.meter,
            meter_confidence=m.confidence,
            loop_bars=m.loop_bars,
            loop_start=loop_start,
            section_start=section,
            swing=self.feel.swing,
            offset_ms=1000.0 * self.feel.offset_beats * period / self.sample_rate,
            tempo_confidence=float(g.confidence),
        )
