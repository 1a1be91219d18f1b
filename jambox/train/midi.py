"""MIDI files as plain note lists, with times in seconds and in quarter notes (via mido)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from jambox.errors import InputFileError


@dataclass(frozen=True, slots=True)
class MidiNote:
    pitch: int
    velocity: int
    start: float  # seconds
    end: float  # seconds
    start_beats: float  # quarter notes from the file's start
    track: str


def read_notes(path: str | Path) -> tuple[list[MidiNote], list[tuple[int, int, float]]]:
    """All notes of a MIDI file and its tempo map [(tick, tempo µs/quarter, seconds at tick)].

    Raises InputFileError naming the file when mido cannot read it.
    """
    import mido

    try:
        mid = mido.MidiFile(str(path))
    except Exception as e:
        raise InputFileError(f"cannot read MIDI file {path}: {type(e).__name__}: {e}") from None
    tpb = mid.ticks_per_beat
    tempos: list[tuple[int, int]] = []
    for track in mid.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "set_tempo":
                tempos.append((tick, msg.tempo))
    tempos.sort()
    if not tempos or tempos[0][0] != 0:
        tempos.insert(0, (0, 500000))
    tmap: list[tuple[int, int, float]] = []
    sec = 0.0
    for i, (tick, tempo) in enumerate(tempos):
        if i:
            ptick, ptempo, psec = tmap[-1]
            sec = psec + (tick - ptick) * ptempo / 1e6 / tpb
        tmap.append((tick, tempo, sec))
    ticks = np.array([t[0] for t in tmap])

    def seconds(tick: int) -> float:
        i = int(np.searchsorted(ticks, tick, side="right") - 1)
        t0, tempo, s0 = tmap[i]
        return s0 + (tick - t0) * tempo / 1e6 / tpb

    notes: list[MidiNote] = []
    for track in mid.tracks:
        tick = 0
        open_notes: dict[tuple[int, int], list[tuple[int, int]]] = {}
        for msg in track:
            tick += msg.time
            if msg.type == "note_on" and msg.velocity > 0:
                open_notes.setdefault((msg.channel, msg.note), []).append((tick, msg.velocity))
            elif msg.type in ("note_off", "note_on"):
                stack = open_notes.get((msg.channel, msg.note))
                if stack:
                    on_tick, vel = stack.pop(0)
                    notes.append(MidiNote(msg.note, vel, seconds(on_tick), seconds(max(tick, on_tick + 1)),
                                          on_tick / tpb, track.name))
        for (ch, pitch), stack in open_notes.items():  # never released: end at the track's end
            for on_tick, vel in stack:
                notes.append(MidiNote(pitch, vel, seconds(on_tick), seconds(max(tick, on_tick + 1)), on_tick / tpb,
                                      track.name))
    notes.sort(key=lambda n: (n.start, n.pitch))
    return notes, tmap


def estimate_swing(beat_positions: np.ndarray) -> float:
    """Swing as the listener reports it: the share of the beat the first eighth takes (0.5 straight).

    From note positions in beats: the median fractional position of the notes that fall in the
    off-eighth region (0.4..0.71 of the beat: a straight 16th at 0.75 is not swing), clipped to
    0.5..0.7; 0.5 with too few such notes.
    """
    frac = np.asarray(beat_positions, dtype=np.float64) % 1.0
    off = frac[(frac > 0.4) & (frac < 0.71)]
    if len(off) < 8:
        return 0.5
    return float(np.clip(np.median(off), 0.5, 0.7))
