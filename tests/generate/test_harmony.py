import numpy as np

from jambox.events import Note
from jambox.generate import features as F
from jambox.generate.harmony import chord_tension_table, guess_key, riff_clash, substitute


def chord(root: int, quality: str) -> int:
    return F.chord_index(root, F.CHORD_QUALITIES.index(quality))


def notes(*pitches: int) -> list[Note]:
    return [Note(i * 1000, p, 90, i * 1000) for i, p in enumerate(pitches)]


def test_substitutions_are_the_usual_ones():
    assert substitute(chord(0, "min")) == chord(3, "maj")  # relative major
    assert substitute(chord(7, "dom7")) == chord(1, "dom7")  # tritone substitute
    assert substitute(chord(0, "maj")) == chord(9, "min")
    assert substitute(F.NO_CHORD) == F.NO_CHORD


def test_a_chord_that_rubs_against_the_riff_is_marked_and_one_that_fits_is_not():
    e_minor_riff = notes(40, 40, 43, 45, 47, 38, 40, 43)  # E E G A B D E G
    clash = riff_clash(e_minor_riff, 4)
    assert clash[chord(0, "maj")] > 0.2  # E major's G# against the riff's G (and A)
    assert clash[chord(0, "min")] == 0.0 and clash[chord(3, "maj")] == 0.0  # Em, G
    assert clash[F.NO_CHORD] == 0.0


def test_the_tension_table_ranks_chords_as_the_measure_does():
    t = chord_tension_table()
    tonic_over_root = t[chord(0, "min"), 1, 0]
    dominant7_over_root = t[chord(7, "dom7"), 1, 7]
    semitone_up = t[chord(1, "maj"), 1, 0]  # F major over E in E minor
    assert tonic_over_root < dominant7_over_root < semitone_up
    assert not t.flags.writeable and t.shape == (F.N_CHORDS, 2, 13)


def test_the_key_is_guessed_from_the_riff_when_the_listener_has_none():
    assert guess_key(notes(40, 40, 43, 47, 40)) == (4, True)  # E, with G over G#: minor
    assert guess_key(notes(36, 40, 43, 36)) == (0, False)
    assert guess_key([]) is None
    assert np.isscalar(guess_key(notes(40))[0])
