"""Groove MIDI to step grids: a synthetic file of known hits, and a real performance from the data."""

from pathlib import Path

import mido
import numpy as np
import pytest

from jambox.generate import features as F
from jambox.train.groove import load_groove, load_performance, read_index
from tests.train.conftest import DATA


def _write_midi(path: Path, bpm: float, hits: list[tuple[float, int, int]]) -> None:
    """hits: (time in quarter notes, GM pitch, velocity)."""
    mid = mido.MidiFile(ticks_per_beat=480)
    tr = mido.MidiTrack()
    mid.tracks.append(tr)
    tr.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0))
    events = []
    for q, pitch, vel in hits:
        events.append((round(q * 480), "note_on", pitch, vel))
        events.append((round(q * 480) + 60, "note_off", pitch, 0))
    events.sort()
    now = 0
    for tick, kind, pitch, vel in events:
        tr.append(mido.Message(kind, note=pitch, velocity=vel, channel=9, time=tick - now))
        now = tick
    mid.save(str(path))


def test_known_hits_land_on_their_steps_with_offsets_and_mapped_voices(tmp_path):
    # kick on 1 (8 ms late at 120 bpm = 0.064 steps), pedal hat (44) on the "e", rimshot (40) on beat 2
    _write_midi(tmp_path / "t.mid", 120, [(0.008 * 2, 36, 100), (0.25, 44, 50), (1.0, 40, 127), (1.0, 38, 60)])
    row = {"id": "t", "style": "rock", "split": "train", "beat_type": "beat", "time_signature": "4-4",
           "midi_filename": "t.mid"}
    p = load_performance(tmp_path, row)
    assert p.bpm == pytest.approx(120, abs=0.01)
    assert p.hits[0, F.KICK] and p.hits[1, F.CLOSED_HAT] and p.hits[4, F.SNARE]
    assert p.hits.sum() == 3  # rimshot and snare in one step: one snare hit, the louder
    assert p.velocity[4, F.SNARE] == pytest.approx(1.0)
    assert p.offset[0, F.KICK] == pytest.approx(round(0.016 * 480) / 120, abs=1e-6)  # 8 ticks = 1/15 step
    assert p.velocity[1, F.CLOSED_HAT] == pytest.approx(50 / 127)


def test_unplayable_meter_is_skipped(tmp_path):
    _write_midi(tmp_path / "t.mid", 100, [(0, 36, 100)])
    row = {"id": "t", "style": "x", "split": "train", "beat_type": "beat", "time_signature": "11-8",
           "midi_filename": "t.mid"}
    assert load_performance(tmp_path, row) is None


def test_real_performances_have_sane_grids():
    perfs = load_groove(DATA / "groove", limit=8, progress=False)
    assert {p.split for p in perfs} == {"train", "validation"}
    for p in perfs:
        assert p.hits.shape == (p.steps, F.N_DRUMS)
        assert p.hits.any()
        assert np.all(np.abs(p.offset) <= 0.5) and np.all((p.velocity >= 0) & (p.velocity <= 1))
        assert np.all(p.velocity[~p.hits] == 0)
        assert 40 < p.bpm < 300 and 0.5 <= p.swing <= 0.7
    rows = read_index(DATA / "groove")
    assert len(rows) > 1000
