"""Write the accompaniment as a Standard MIDI File: tracks ``drums`` (GM channel 10) and ``keys``.

Times come from stream samples at one tempo: tick = samples / sample_rate * quarters per second *
ticks per quarter, rounded (``TICKS_PER_BEAT`` = 960, so a tick is 0.6 ms at 100 bpm and rounding moves
an event by at most half of that). Tick 0 is stream sample 0, the first sample the box heard, so the
file lines up with the input recording in any DAW.
"""

from __future__ import annotations

from pathlib import Path

import mido

from jambox.errors import MidiError, ValueRangeError
from jambox.events import DRUM_CHANNEL, PARTS, PlayedNote
from jambox.perform.performer import check_note

TICKS_PER_BEAT = 960  # per quarter note


def quarter_bpm(tempo_bpm: float, meter: tuple[int, int]) -> float:
    """Quarters per minute for a tempo in notated beats (a quarter in x/4, an eighth in x/8)."""
    return float(tempo_bpm) * 4.0 / float(meter[1])


def samples_to_ticks(samples: int, sample_rate: int, qpm: float, tpb: int = TICKS_PER_BEAT) -> int:
    return int(round(samples * qpm * tpb / (60.0 * sample_rate)))


def _check(sample_rate: int, tempo_bpm: float, meter) -> tuple[int, int]:
    if not (isinstance(sample_rate, int) and sample_rate > 0):
        raise ValueRangeError(f"sample_rate must be a positive integer, not {sample_rate!r}")
    if not 20.0 <= float(tempo_bpm) <= 400.0:
        raise ValueRangeError(f"tempo_bpm must be in range 20..400, not {tempo_bpm!r}")
    try:
        num, den = int(meter[0]), int(meter[1])
    except (TypeError, ValueError, IndexError):
        raise ValueRangeError(f"meter must be (numerator, denominator), e.g. (4, 4), not {meter!r}") from None
    if not 1 <= num <= 32 or den not in (1, 2, 4, 8, 16, 32):
        raise ValueRangeError(f"meter must have numerator 1..32 and denominator 1, 2, 4, 8, 16 or 32, not {num}/{den}")
    return num, den


def _part_track(name: str, notes: list[PlayedNote], sample_rate: int, qpm: float,
                program: int | None, channel: int | None) -> mido.MidiTrack:
    """One track: note-ons and -offs at their ticks; an earlier note of the same pitch and channel
    that is still sounding when the same pitch starts again ends there (players would cut the new one)."""
    events: list[tuple[int, int, mido.Message]] = []  # (tick, 0 off / 1 on, message)
    ordered = sorted(notes, key=lambda n: (n.time, n.pitch))
    next_on: dict[int, int] = {}
    by_key: dict[tuple[int, int], list[int]] = {}
    for i, n in enumerate(ordered):
        by_key.setdefault((n.channel, n.pitch), []).append(i)
    for idx in by_key.values():
        for a, b in zip(idx, idx[1:]):
            next_on[a] = samples_to_ticks(ordered[b].time, sample_rate, qpm)
    for i, n in enumerate(ordered):
        on = samples_to_ticks(n.time, sample_rate, qpm)
        off = max(on + 1, samples_to_ticks(n.time + n.duration, sample_rate, qpm))
        if i in next_on:
            off = max(on, min(off, next_on[i]))
        events.append((on, 1, mido.Message("note_on", channel=n.channel, note=n.pitch, velocity=n.velocity)))
        events.append((off, 0, mido.Message("note_off", channel=n.channel, note=n.pitch, velocity=0)))
    events.sort(key=lambda e: (e[0], e[1]))
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("track_name", name=name, time=0))
    if program is not None and channel is not None:
        track.append(mido.Message("program_change", channel=channel, program=program, time=0))
    now = 0
    for tick, _, msg in events:
        track.append(msg.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=0))
    return track


def build_midi(notes: list[PlayedNote], sample_rate: int, tempo_bpm: float, meter=(4, 4), *,
               keys_program: int | None = 4, drum_kit: int | None = 0) -> mido.MidiFile:
    """The MIDI file as a :class:`mido.MidiFile` (type 1): the tempo map in ``drums``, then ``keys``."""
    num, den = _check(sample_rate, tempo_bpm, meter)
    for n in notes:
        check_note(n)
    qpm = quarter_bpm(tempo_bpm, (num, den))
    mid = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    by_part = {part: [n for n in notes if n.part == part] for part in PARTS}
    keys = by_part["keys"]
    keys_channel = keys[0].channel if keys else 0
    drums = _part_track("drums", by_part["drums"], sample_rate, qpm, drum_kit, DRUM_CHANNEL)
    # a type-1 file keeps its tempo map in the first track; a metronome click per notated beat
    drums.insert(1, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(qpm), time=0))
    drums.insert(2, mido.MetaMessage("time_signature", numerator=num, denominator=den,
                                     clocks_per_click=max(1, 96 // den), notated_32nd_notes_per_beat=8, time=0))
    mid.tracks.append(drums)
    mid.tracks.append(_part_track("keys", keys, sample_rate, qpm, keys_program, keys_channel))
    return mid


def write_midi(path: str | Path, notes: list[PlayedNote], sample_rate: int, tempo_bpm: float, meter=(4, 4), *,
               keys_program: int | None = 4, drum_kit: int | None = 0) -> Path:
    """Write ``notes`` (times in stream samples) to ``path``; returns the path."""
    mid = build_midi(notes, sample_rate, tempo_bpm, meter, keys_program=keys_program, drum_kit=drum_kit)
    path = Path(path)
    try:
        mid.save(str(path))
    except OSError as e:
        raise MidiError(f"cannot write MIDI file {path}: {e.strerror or e}") from None
    return path
