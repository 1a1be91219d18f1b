"""The MIDI file read back with mido: tracks, channels, tempo map, and every event at its time."""

import mido
import numpy as np
import pytest

from jambox.errors import MidiError, ValueRangeError
from jambox.events import DRUM_CHANNEL, PlayedNote
from jambox.perform.midi_file import TICKS_PER_BEAT, write_midi

SR = 48000


def notes_at_random(seed=1, n=60):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        t = int(rng.integers(0, SR * 20))
        if rng.random() < 0.5:
            out.append(PlayedNote("drums", t, int(rng.integers(100, 4800)), int(rng.choice([36, 38, 42])),
                                  int(rng.integers(40, 127)), DRUM_CHANNEL, t))
        else:
            out.append(PlayedNote("keys", t, int(rng.integers(2400, 48000)), int(rng.integers(48, 72)),
                                  int(rng.integers(40, 127)), 0, t))
    return out


def absolute_events(track, mid):
    """(seconds, message) for each channel message of one track, using the file's own tempo map."""
    tempo = next(m.tempo for m in mid.tracks[0] if m.type == "set_tempo")
    ticks, out = 0, []
    for msg in track:
        ticks += msg.time
        if not msg.is_meta and msg.type in ("note_on", "note_off"):
            out.append((mido.tick2second(ticks, mid.ticks_per_beat, tempo), msg))
    return out


def test_tracks_channels_and_meta(tmp_path):
    path = write_midi(tmp_path / "a.mid", notes_at_random(), SR, 100.0, (4, 4))
    mid = mido.MidiFile(str(path))
    assert mid.type == 1 and mid.ticks_per_beat == TICKS_PER_BEAT
    assert [t.name for t in mid.tracks] == ["drums", "keys"]
    meta = {m.type: m for m in mid.tracks[0] if m.is_meta}
    assert mido.tempo2bpm(meta["set_tempo"].tempo) == pytest.approx(100.0, abs=1e-3)
    assert (meta["time_signature"].numerator, meta["time_signature"].denominator) == (4, 4)
    drum_channels = {m.channel for m in mid.tracks[0] if not m.is_meta}
    key_channels = {m.channel for m in mid.tracks[1] if not m.is_meta}
    assert drum_channels == {DRUM_CHANNEL} and key_channels == {0}
    programs = [m for m in mid.tracks[1] if m.type == "program_change"]
    assert programs and programs[0].program == 4


@pytest.mark.parametrize("tempo, meter", [(100.0, (4, 4)), (133.7, (3, 4)), (180.0, (6, 8))])
def test_every_event_is_at_its_sample(tmp_path, tempo, meter):
    notes = notes_at_random(seed=int(tempo))
    mid = mido.MidiFile(str(write_midi(tmp_path / "b.mid", notes, SR, tempo, meter)))
    qpm = tempo * 4 / meter[1]
    half_tick = 60.0 / qpm / TICKS_PER_BEAT / 2
    for track, part in zip(mid.tracks, ("drums", "keys")):
        ons = sorted(t for t, m in absolute_events(track, mid) if m.type == "note_on" and m.velocity > 0)
        want = sorted(n.time / SR for n in notes if n.part == part)
        assert len(ons) == len(want)
        assert np.max(np.abs(np.array(ons) - np.array(want))) <= half_tick + 1e-9
    ts = next(m for m in mid.tracks[0] if m.type == "time_signature")
    assert (ts.numerator, ts.denominator) == meter


def test_note_offs_at_note_ends(tmp_path):
    n = PlayedNote("keys", 4800, 24000, 60, 90, 0, 0)
    mid = mido.MidiFile(str(write_midi(tmp_path / "c.mid", [n], SR, 120.0)))
    ev = absolute_events(mid.tracks[1], mid)
    assert [(m.type, round(t, 4)) for t, m in ev] == [("note_on", 0.1), ("note_off", 0.6)]


def test_a_repeated_pitch_ends_the_earlier_note_first(tmp_path):
    a = PlayedNote("keys", 0, 48000, 60, 90, 0, 0)
    b = PlayedNote("keys", 24000, 24000, 60, 90, 0, 0)
    mid = mido.MidiFile(str(write_midi(tmp_path / "d.mid", [b, a], SR, 120.0)))
    ev = [(round(t, 4), m.type) for t, m in absolute_events(mid.tracks[1], mid)]
    assert ev == [(0.0, "note_on"), (0.5, "note_off"), (0.5, "note_on"), (1.0, "note_off")]


def test_no_notes_still_makes_a_valid_file(tmp_path):
    mid = mido.MidiFile(str(write_midi(tmp_path / "e.mid", [], SR, 90.0)))
    assert [t.name for t in mid.tracks] == ["drums", "keys"]


@pytest.mark.parametrize("kwargs, words", [
    ({"tempo_bpm": 0.0}, "tempo_bpm must be in range 20..400, not 0.0"),
    ({"meter": (4, 3)}, "denominator 1, 2, 4, 8, 16 or 32, not 4/3"),
    ({"meter": "4/4"}, "meter must"),
    ({"sample_rate": 0}, "sample_rate must be a positive integer, not 0"),
])
def test_bad_arguments_are_named(tmp_path, kwargs, words):
    args = {"sample_rate": SR, "tempo_bpm": 100.0, "meter": (4, 4)} | kwargs
    with pytest.raises(ValueRangeError, match=words):
        write_midi(tmp_path / "f.mid", notes_at_random(n=3), **args)


def test_unwritable_path_is_a_midi_error(tmp_path):
    with pytest.raises(MidiError, match="cannot write MIDI file"):
        write_midi(tmp_path / "no" / "such" / "dir.mid", [], SR, 100.0)
