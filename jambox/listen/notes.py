"""Notes from the bass, hop by hop: an Onset the moment aubio's onset detector fires, the Note once
its pitch is sure, and the Note again with its offset when it stops sounding.

The input is conditioned once (a high-pass that removes DC and rumble under B0, a low-pass that
keeps the fundamentals and the first harmonics) and decimated to about 12 kHz, where both the onset
detector and the pitch estimate run: the low end needs long windows, not high rates.

A note begins where an energy onset raises the level (a pluck, a slap, a pick), or where the level
stays but a new steady pitch follows an onset of either detector (aubio's specflux, and its
``complex`` domain for soft attacks), or, with no onset at all, where the pitch of a note that was
steady past its attack moves to another steady pitch: fretless and synth lines are played legato,
and a musician hears each new pitch as a new note.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import aubio
import numpy as np
from scipy.signal import butter

from jambox.events import Note, Onset
from jambox.listen.pitch import SegmentPitch, midi_to_hz

ANALYSIS_RATE = 12000.0  # Hz, about; the stream rate divided by a whole factor
ONSET_METHOD = "specflux"  # aubio's spectral flux: steady on fingered, picked and slapped bass alike
ONSET_HOP_S = 0.0053  # aubio onset hop: 64 samples at 12 kHz
ONSET_WINDOW_S = 0.021  # aubio onset window (rounded to a power of two samples): 256 at 12 kHz
RING_S = 1.5  # seconds of conditioned signal kept for pitch analysis
SETTLE_S = 0.010  # the attack's first milliseconds are skipped: noise and pitch bend, not the note
PITCH_AGREE = 2  # consecutive estimates that must agree (within half a semitone) before a Note
PITCH_CENTRED = 0.3  # ... the last of them this close to a semitone, or one more must agree (see _try_pitch)
MIN_PERIODICITY = 0.6  # YIN 1 - d'(T) below this is not a pitch (attacks read 0.6..0.7 at E1)
MAX_PITCH_WAIT_S = 0.35  # an onset still without pitch after this long was not a note (a click, a thump)
RELEASE_DB = 30.0  # a note has ended once its level falls this far below its peak
WINDOW_PERIODS = 2.2  # the pitch window, in periods of the lowest note
MAX_REVISIONS = 1  # a note's pitch is corrected at most once, past its attack
RECHECK_EVERY_HOPS = 3
FOLLOW_EVERY_HOPS = 6  # once the pitch is heard again, it is followed this often for a legato change
RECHECK_SKIP_S = 0.08  # the re-check looks only past the attack
RECHECK_UNTIL_S = 0.4  # ... and only this long into the note
STREAM_SETTLE_S = 0.06  # an onset while the stream starts is a note only once its level falls
START_CHANGE_DB = 3.0  # this much below its peak: a hum or an offset present from sample 0 is steady
RISE_DB = 1.5  # while a note sounds, a new onset must raise the level this much over the last hops
RISE_HOPS = 8
LEVEL_HOPS = 4  # the level is the mean energy of this many hops (21 ms at 48 kHz / 256)
SOFT_METHOD = "complex"  # a second detector for soft attacks: it only proposes candidates (a new pitch confirms)
SOFT_THRESHOLD = 0.3
ATTACK_S = 0.08  # a second onset this soon after the last is the same attack (a 16th at 180 bpm is 83 ms)
CANDIDATE_WAIT_S = 0.12  # an onset with no level rise waits this long for a new pitch to confirm it
LEGATO_DROP_DB = 12.0  # a new pitch heard this far below the note's peak is the floor's (noise, a hum), not a legato note
CHANGE_SEMITONES = 0.6  # a legato note's pitch lies this far from the sounding note's, or more
DIP_DB = 10.0  # the level falling this much and rising as much again, quickly, is a new note
DIP_BACK_S = 0.015  # ... which began about this long before its level (over a period of the lowest note) bottomed
GATE_DB = 12.0  # out of silence to this far above the silence line, with no onset fired: a note began
# aubio compensates its onset detector's delay; on the rendered bass the remaining bias is a few ms
# (finger and pick attacks read 10-20 ms late, see the bench), so nothing more is taken off
ONSET_DELAY_S = 0.0


@dataclass
class _Pending:
    onset: int  # stream samples, delay compensated
    onset_d: int  # the same, in decimated samples
    velocity: int
    pitch: int | None = None
    emitted_at: int | None = None
    peak_db: float = -120.0
    last_estimate: float | None = None
    agree: int = 0
    revisions: int = 0
    hops: int = 0
    held: bool = False  # heard as the stream started: not reported until its level moves
    held_onset: Onset | None = None
    estimate: float | None = None  # the pitch (fractional MIDI) it was given
    confirmed: bool = False  # its pitch was heard again past the attack: a new pitch now is a new note
    change_from: int | None = None  # decimated sample where the window that first read a new pitch began


@dataclass
class _Candidate:
    """An onset that fired inside a sounding note with no level rise: a legato new note if a new
    pitch follows it (a fretless slide, a synth's soft re-attack), a flux peak inside the note if not."""

    onset: int  # stream samples
    onset_d: int  # decimated samples
    heard: int  # stream samples at which it fired
    last_estimate: float | None = None
    agree: int = 0


class NoteTracker:
    """``process(hop)`` -> Onset and Note events decided in that hop."""

    def __init__(self, sample_rate: int, hop_size: int, cfg):
        self.sample_rate = int(sample_rate)
        self.hop_size = int(hop_size)
        self.factor = max(1, int(round(sample_rate / ANALYSIS_RATE)))
        while self.hop_size % self.factor:
            self.factor -= 1
        self.rate = self.sample_rate / self.factor
        self.dhop = self.hop_size // self.factor
        self.silence_db = float(cfg.silence_db)
        lowest_hz = midi_to_hz(cfg.lowest_note - 0.5)
        highest_hz = midi_to_hz(cfg.highest_note + 0.5)
        nyq = 0.5 * self.sample_rate
        lp = min(0.45 * self.rate, 4000.0)
        sos = np.vstack([
            butter(2, min(0.8 * lowest_hz, 20.0) / nyq, "highpass", output="sos"),
            butter(8, lp / nyq, "lowpass", output="sos"),
        ])
        # aubio's biquads (C, double-precision state) cost a third of scipy's sosfilt per hop
        self._biquads = []
        for b0, b1, b2, _, a1, a2 in sos:
            f = aubio.digital_filter(3)
            f.set_biquad(float(b0), float(b1), float(b2), float(a1), float(a2))
            self._biquads.append(f)
        window = 1 << int(round(np.log2(ONSET_WINDOW_S * self.rate)))
        # the detector's peak picking counts frames: its hop is fixed in time whatever the stream hop
        self._onset_hop = max(1, int(round(ONSET_HOP_S * self.rate)))
        self._onset = aubio.onset(ONSET_METHOD, max(window, self._onset_hop), self._onset_hop, int(self.rate))
        self._soft = aubio.onset(SOFT_METHOD, max(window, self._onset_hop), self._onset_hop, int(self.rate))
        self._soft.set_threshold(SOFT_THRESHOLD)
        self._soft.set_silence(self.silence_db)
        self._soft.set_minioi_ms(float(cfg.min_note_ms))
        self._pending = np.zeros(self._onset_hop + self.dhop, np.float32)
        self._pending_n = 0
        self._onset.set_threshold(float(cfg.onset_threshold))
        self._onset.set_silence(self.silence_db)
        self._onset.set_minioi_ms(float(cfg.min_note_ms))  # no two onsets closer than the shortest note
        self.onset_delay = int(ONSET_DELAY_S * self.sample_rate)
        self._min_gap = int(float(cfg.min_note_ms) / 1000.0 * self.sample_rate)
        self._attack = max(self._min_gap, int(ATTACK_S * self.sample_rate))
        self._pitch = SegmentPitch(self.rate, lowest_hz, highest_hz)
        self._min_segment = self._pitch.min_samples(cfg.highest_note)
        self._window = int(WINDOW_PERIODS * self._pitch.max_lag)
        self._settle = int(SETTLE_S * self.rate)
        self._max_wait = int(MAX_PITCH_WAIT_S * self.sample_rate)
        self._settling = int(STREAM_SETTLE_S * self.sample_rate)
        self._energies = [0.0] * LEVEL_HOPS  # Python floats: numpy's reductions cost more than the sums on 4 values
        # the dip detector's level spans a period of the lowest note, or it sees each period's swing
        self._slow_energies = [0.0] * max(LEVEL_HOPS, int(np.ceil(1.1 * self.sample_rate / lowest_hz / self.hop_size)))
        self._hops = 0
        self._recheck_skip = int(RECHECK_SKIP_S * self.rate)
        self._recheck_until = int(RECHECK_UNTIL_S * self.sample_rate)
        size = 1 << int(np.ceil(np.log2(RING_S * self.rate)))
        self._ring = np.zeros(size, np.float32)
        self._mask = size - 1
        self._written = 0  # decimated samples written so far
        self.now = 0  # stream samples heard so far
        self._note: _Pending | None = None
        self._candidate: _Candidate | None = None
        self._candidate_wait = int(CANDIDATE_WAIT_S * self.sample_rate)
        self._dip_back = int(DIP_BACK_S * self.sample_rate)
        self._dip_high = self._dip_low = -120.0
        self._dip_low_at = 0
        self.level_db = -120.0
        self._levels = np.full(RISE_HOPS + 1, -120.0)  # recent hop levels, a ring indexed by hop count

    # -- per hop --------------------------------------------------------------------------
    def process(self, hop: np.ndarray) -> list:
        events: list = []
        y = np.ascontiguousarray(hop, dtype=np.float32)
        for f in self._biquads:
            y = f(y)
        d = y[:: self.factor].astype(np.float32)
        start = self._written & self._mask
        end = start + len(d)
        if end <= len(self._ring):
            self._ring[start:end] = d
        else:
            cut = len(self._ring) - start
            self._ring[start:] = d[:cut]
            self._ring[: end - len(self._ring)] = d[cut:]
        self._written += len(d)
        self.now += len(hop)
        energy = float(np.dot(d, d)) / max(1, len(d))
        self._energies[self._hops % LEVEL_HOPS] = energy
        self._slow_energies[self._hops % len(self._slow_energies)] = energy
        self._hops += 1
        # over several hops: a hop can be shorter than one period of a low note (or of mains hum)
        self.level_db = 10.0 * math.log10(sum(self._energies) / LEVEL_HOPS + 1e-12)
        self._levels[(self._hops - 1) % len(self._levels)] = self.level_db
        fired = False
        self._pending[self._pending_n:self._pending_n + len(d)] = d
        self._pending_n += len(d)
        soft = None
        while self._pending_n >= self._onset_hop:
            chunk = self._pending[:self._onset_hop]
            if self._onset(chunk)[0] > 0:
                fired = True
                last = int(self._onset.get_last())
            if self._soft(chunk)[0] > 0:
                soft = int(self._soft.get_last())
            rest = self._pending_n - self._onset_hop
            self._pending[:rest] = self._pending[self._onset_hop:self._pending_n]
            self._pending_n = rest
        t = None
        held = False
        if fired and self._note is not None and last * self.factor - self._note.onset < self._attack:
            # the gate below heard this attack already, or the attack is still settling: some
            # attacks (a clipped synth's, a soft one's rising level) fire twice, and the second is
            # not a new note
            fired = False
        if not fired and self._note is None and self.level_db > self.silence_db + GATE_DB \
                and float(self._levels.min()) < self.silence_db:
            # out of silence with no onset fired: aubio's detector misses an attack in its first
            # frames (a note at sample 0) and some soft ones (fretless, synth): the level gate hears it
            fired = True
            last = max(0, self.now - 2 * len(hop)) // self.factor
        if self._dipped() and not fired and self.now > self._settling \
                and self.level_db > self.silence_db + GATE_DB \
                and (self._note is None or self.now - self._note.onset >= self._attack):
            # the level fell and came back: a re-attack that no detector marked (the same pitch
            # played again, where the old voice's release and the new attack cancel; a note
            # after a short rest in noise). The new note began about where the level bottomed
            fired = True
            last = max(0, self._dip_low_at - self._dip_back) // self.factor
        if fired:
            at = max(0, last * self.factor - self.onset_delay)
            if self.now <= self._settling:
                # the stream is starting: a note, or a hum or an offset present from sample 0? held
                # back until its level moves (see _confirm)
                t, held = (at, True) if self._note is None else (None, False)
            elif self.level_db > self.silence_db and self._rose():
                t = at
            elif self.level_db > self.silence_db and self._note is not None and self._note.pitch is not None:
                self._candidate = _Candidate(onset=at, onset_d=at // self.factor, heard=self.now)
        if t is not None:
            self._candidate = None
            self._end_note(t, events)
            vel = velocity_from_db(self.level_db)
            self._note = _Pending(onset=t, onset_d=t // self.factor, velocity=vel, held=held)
            onset = Onset(time=t, velocity=vel, emitted_at=self.now)
            if held:
                self._note.held_onset = onset
            else:
                events.append(onset)
        if soft is not None and not fired and t is None and self._candidate is None and self._note is not None \
                and self._note.pitch is not None and self.level_db > self.silence_db \
                and soft * self.factor - self._note.onset >= self._attack:
            at = max(0, soft * self.factor - self.onset_delay)
            self._candidate = _Candidate(onset=at, onset_d=at // self.factor, heard=self.now)
        if self._candidate is not None and t is None:
            self._check_candidate(events)
        note = self._note
        if note is not None:
            note.peak_db = max(note.peak_db, self.level_db)
            if note.held:
                self._confirm(note, events)
            if note.pitch is None:
                self._try_pitch(note, events)
            elif self._candidate is None and (
                    note.confirmed or (note.revisions < MAX_REVISIONS and self.now - note.onset <= self._recheck_until)):
                self._recheck_pitch(note, events)
            sounded = note.peak_db > self.silence_db  # an attack starts below the silence line
            if self._note is not None and sounded and (self.level_db < self.silence_db
                                                       or self.level_db < note.peak_db - RELEASE_DB):
                self._end_note(self.now, events)
        return events

    def finish(self) -> list:
        events: list = []
        self._end_note(self.now, events)
        return events

    # -- inside ---------------------------------------------------------------------------
    def _try_pitch(self, note: _Pending, events: list) -> None:
        if self.now - note.onset > self._max_wait:
            self._note = None  # never periodic: a click or a thump, not a note
            return
        first = note.onset_d + self._settle
        n = min(self._written - first, self._window)
        if n < self._min_segment:
            return
        seg = self._segment(self._written - n, self._written)
        r = self._pitch.estimate(seg)
        if r is None or r[1] < MIN_PERIODICITY or self._written - first < self._pitch.min_samples(r[0]):
            note.last_estimate, note.agree = None, 0
            return
        if note.last_estimate is not None and abs(r[0] - note.last_estimate) < 0.5:
            note.agree += 1
        else:
            note.agree = 1
        note.last_estimate = r[0]
        # an attack's estimate half way between two semitones (27.45 for an E1 whose YIN window is
        # still half a period) rounds either way: one more agreeing estimate, 5 ms on, usually sits
        # on the note, where rounding now costs a revision past the attack (about 140 ms)
        if note.agree >= PITCH_AGREE + (abs(r[0] - round(r[0])) > PITCH_CENTRED):
            note.pitch = int(round(r[0]))
            note.estimate = r[0]
            note.emitted_at = self.now
            note.velocity = max(note.velocity, velocity_from_db(note.peak_db))  # the attack's peak, heard by now
            if not note.held:
                events.append(Note(onset=note.onset, pitch=note.pitch, velocity=note.velocity, emitted_at=self.now))

    def _recheck_pitch(self, note: _Pending, events: list) -> None:
        """Past the attack, look again, for as long as the note sounds.

        Until the note's pitch is heard again past its attack, a different steady pitch is a
        revision (some basses ring an octave low for their first 100 ms): the same note (same onset)
        with the new pitch and the time it became known; the chain keeps the latest version of each
        note. Once it was heard again, a different steady pitch is a new note played legato (a
        fretless slide, a synth's soft re-attack), which no energy onset may mark.
        """
        note.hops += 1
        if note.hops % (FOLLOW_EVERY_HOPS if note.confirmed else RECHECK_EVERY_HOPS):
            return
        first = note.onset_d + self._recheck_skip
        n = min(self._written - first, self._window)
        if n < self._min_segment:
            return
        r = self._pitch.estimate(self._segment(self._written - n, self._written))
        if r is None or r[1] < MIN_PERIODICITY or n < self._pitch.min_samples(r[0]):
            return
        p = int(round(r[0]))
        if p == note.pitch:
            note.last_estimate = None
            note.confirmed = True
            return
        if note.last_estimate is None or int(round(note.last_estimate)) != p:
            note.last_estimate = r[0]
            note.change_from = self._written - n
            return
        note.last_estimate = None
        if note.confirmed:
            if abs(r[0] - note.estimate) >= CHANGE_SEMITONES and not note.held \
                    and self.level_db >= note.peak_db - LEGATO_DROP_DB:
                # YIN reads the new pitch once the first part of its window is past the change
                at = max(note.onset + self._min_gap, (note.change_from - self._settle) * self.factor)
                self._start_legato(at, r[0], events)
            return
        note.pitch = p
        note.estimate = r[0]
        note.emitted_at = self.now
        note.revisions += 1
        events.append(Note(onset=note.onset, pitch=p, velocity=note.velocity, emitted_at=self.now))

    def _start_legato(self, onset: int, estimate: float, events: list) -> None:
        """A new note whose pitch is already known: the sounding one ends where it begins."""
        self._end_note(onset, events)
        vel = velocity_from_db(self.level_db)
        self._note = _Pending(onset=onset, onset_d=onset // self.factor, velocity=vel, pitch=int(round(estimate)),
                              emitted_at=self.now, estimate=estimate, peak_db=self.level_db)
        events.append(Onset(time=onset, velocity=vel, emitted_at=self.now))
        events.append(Note(onset=onset, pitch=self._note.pitch, velocity=vel, emitted_at=self.now))

    def _check_candidate(self, events: list) -> None:
        """A candidate onset becomes a note once a steady pitch other than the sounding note's follows it."""
        c, note = self._candidate, self._note
        if note is None or note.pitch is None or self.now - c.heard > self._candidate_wait:
            self._candidate = None
            return
        first = c.onset_d + self._settle
        n = min(self._written - first, self._window)
        if n < self._min_segment:
            return
        r = self._pitch.estimate(self._segment(self._written - n, self._written))
        if r is None or r[1] < MIN_PERIODICITY or n < self._pitch.min_samples(r[0]):
            c.last_estimate, c.agree = None, 0
            return
        c.agree = c.agree + 1 if c.last_estimate is not None and abs(r[0] - c.last_estimate) < 0.5 else 1
        c.last_estimate = r[0]
        if c.agree < PITCH_AGREE:
            return
        self._candidate = None
        current = note.estimate if note.estimate is not None else float(note.pitch)
        if abs(r[0] - current) < CHANGE_SEMITONES or int(round(r[0])) == note.pitch \
                or self.level_db < note.peak_db - LEGATO_DROP_DB:
            return  # the same pitch: a peak inside the note
        self._start_legato(c.onset, r[0], events)

    def _confirm(self, note: _Pending, events: list) -> None:
        """A note heard as the stream starts is one once its level falls: a hum's does not."""
        if note.peak_db <= self.silence_db or self.level_db > note.peak_db - START_CHANGE_DB:
            return
        note.held = False
        events.append(Onset(time=note.onset, velocity=note.velocity, emitted_at=self.now))
        if note.pitch is not None:
            note.emitted_at = self.now
            events.append(Note(onset=note.onset, pitch=note.pitch, velocity=note.velocity, emitted_at=self.now))

    def _end_note(self, t: int, events: list) -> None:
        note = self._note
        self._note = None
        if note is not None and note.held and note.pitch is not None and t < self.now \
                and not _is_mains(note.estimate):
            # held since the stream started and ended by the next onset before its level fell:
            # a sustained (synth, fretless) first note played legato, not a hum; a hum is held back
            # by its pitch, which is the mains frequency's or a harmonic's, not a tuned note's
            note.held = False
            events.append(Onset(time=note.onset, velocity=note.velocity, emitted_at=self.now))
            events.append(Note(onset=note.onset, pitch=note.pitch, velocity=note.velocity, emitted_at=self.now))
        if note is None or note.pitch is None or note.held:  # never confirmed: it was no note
            return
        offset = max(t, note.onset + 1)
        events.append(Note(onset=note.onset, pitch=note.pitch, velocity=note.velocity,
                           emitted_at=note.emitted_at, offset=offset))

    def _dipped(self) -> bool:
        """Has the level fallen DIP_DB from a high and risen DIP_DB again, the rise within RISE_HOPS?"""
        level = 10.0 * math.log10(sum(self._slow_energies) / len(self._slow_energies) + 1e-12)
        if level >= self._dip_high:
            self._dip_high = self._dip_low = level
            self._dip_low_at = self.now
            return False
        if level < self._dip_low:
            self._dip_low, self._dip_low_at = level, self.now
            return False
        if self.now - self._dip_low_at > RISE_HOPS * self.hop_size:
            self._dip_high = self._dip_low = level  # a slow swell, not a re-attack: start again from here
            self._dip_low_at = self.now
            return False
        if self._dip_high - self._dip_low >= DIP_DB and level - self._dip_low >= DIP_DB:
            self._dip_high = self._dip_low = level
            return True
        return False

    def _rose(self) -> bool:
        """A re-attack raises the level; flux peaks inside a steady note (beating partials) do not."""
        if self._note is None:
            return True
        return self.level_db - float(self._levels.min()) >= RISE_DB

    def _segment(self, a: int, b: int) -> np.ndarray:
        idx = np.arange(a, b) & self._mask
        return self._ring[idx]




MAINS_HZ = (50.0, 60.0)
MAINS_CENTS = 15.0  # a tuned note sits this far from the mains frequency or more (G1 is 35 cents under 50 Hz)


def _is_mains(estimate: float | None) -> bool:
    """Is this pitch (fractional MIDI) the mains frequency or one of its first harmonics?"""
    if estimate is None:
        return True
    for f in MAINS_HZ:
        for k in (1, 2, 3):
            if abs(estimate - (69.0 + 12.0 * np.log2(k * f / 440.0))) * 100.0 < MAINS_CENTS:
                return True
    return False


def velocity_from_db(level_db: float) -> int:
    """MIDI velocity from the level at the attack: -50 dBFS and below is 1, -6 dBFS and above is 127."""
    return int(np.clip(round(1 + 126 * (level_db + 50.0) / 44.0), 1, 127))
