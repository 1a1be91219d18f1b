"""POP909 to step grids: the bass is the piano's lowest voice, chords and key from the annotations."""

import numpy as np

from jambox.generate import features as F
from jambox.train.pop909 import load_song, read_index, split_of
from tests.train.conftest import DATA


def _song(sid: str):
    row = next(r for r in read_index(DATA / "pop909") if r["song_id"] == sid)
    return load_song(DATA / "pop909", row)


def test_song_001_grid_matches_its_annotations():
    segs = _song("001")
    assert segs and all(s.meter == (4, 4) for s in segs)
    s = max(segs, key=lambda s: s.steps)
    assert s.steps % 16 == 0 and s.steps >= 512
    assert abs(s.bpm - 90) < 1  # beat_midi.txt rows are 0.667 s apart
    assert set(np.unique(s.tonic)) == {6}  # key_audio.txt: Gb:maj
    assert not s.minor.any()
    labelled = s.chord_root >= 0
    assert labelled.mean() > 0.9
    # the first labelled chord after the intro is B:maj per chord_midi.txt
    assert s.chord_root[np.argmax(labelled)] == 11 and F.CHORD_QUALITIES[s.chord_quality[np.argmax(labelled)]] == "maj"
    # the bass sounds most of the time, below middle C; onsets carry velocities
    assert (s.bass_pc >= 0).mean() > 0.6
    assert s.bass_onset.sum() > 50 and np.all(s.bass_velocity[s.bass_onset] > 0)
    assert np.all(s.bass_velocity[~s.bass_onset] == 0)
    # the keys comp: attacks with velocities, voicings in range
    assert s.keys_hit.sum() > 100
    assert set(np.unique(s.voicing[s.keys_hit])) <= set(range(F.N_VOICINGS))


def test_bass_notes_are_mostly_chord_tones():
    """A check of the whole extraction: the lowest voice should agree with the chord annotations."""
    s = max(_song("002"), key=lambda s: s.steps)
    on = s.bass_onset & (s.chord_root >= 0) & (s.bass_pc >= 0)
    agree = [
        (int(s.bass_pc[i]) - int(s.chord_root[i])) % 12 in F.QUALITY_INTERVALS[F.CHORD_QUALITIES[s.chord_quality[i]]]
        for i in np.nonzero(on)[0]
    ]
    assert np.mean(agree) > 0.7


def test_held_out_songs_are_every_tenth():
    assert split_of("010") == "validation" and split_of("859") == "train"
    ids = [r["song_id"] for r in read_index(DATA / "pop909")]
    assert 80 <= sum(split_of(i) == "validation" for i in ids) <= 90
