import pytest

from jambox.errors import ValueRangeError
from jambox.events import Note, PlayedNote
from jambox.generate.tension import chord_tension, group_attacks, harmonic_tension, interval_tension, scale_of


def keys(time: int, *pitches: int) -> list[PlayedNote]:
    return [PlayedNote("keys", time, 1000, p, 80, 0, 0) for p in pitches]


def bass(onset: int, pitch: int) -> Note:
    return Note(onset=onset, pitch=pitch, velocity=90, emitted_at=onset)


def test_interval_table_ranks_the_rough_intervals():
    assert interval_tension(60, 61) == interval_tension(60, 71) == 1.0  # m2 and M7
    assert interval_tension(60, 66) > interval_tension(60, 62) > interval_tension(60, 63)
    assert interval_tension(60, 67) == interval_tension(60, 72) == 0.0


def test_a_triad_over_its_root_in_key_is_calm_and_tensions_rank_as_a_musician_would():
    scale = scale_of(0, "major")
    triad = chord_tension([60, 64, 67], 0, scale)
    dom7 = chord_tension([55, 59, 62, 65], 7, scale)
    cluster = chord_tension([60, 61, 62, 66], 0, scale)
    off_key = chord_tension([61, 65, 68], 0, scale)  # Db major over a C bass in C major
    assert triad < 0.1
    assert triad < dom7 < cluster
    assert off_key > dom7


def test_harmonic_tension_averages_attacks_against_the_sounding_bass():
    b = [bass(0, 36), bass(10_000, 43)]
    calm = keys(100, 60, 64, 67) + keys(10_100, 55, 59, 62)  # C over C, G over G
    clash = keys(100, 61, 64, 67) + keys(10_100, 56, 59, 62)  # a semitone against each bass note
    assert harmonic_tension(calm, b, 0, "major") < harmonic_tension(clash, b, 0, "major")
    assert 0.0 <= harmonic_tension(clash, b, 0, "major") <= 1.0


def test_unknown_key_and_no_bass_still_measure_the_voices():
    assert harmonic_tension(keys(0, 60, 61), [], None, "major") > harmonic_tension(keys(0, 60, 67), [], None, "major")
    assert harmonic_tension([], [], None, "minor") == 0.0


def test_a_rolled_chord_is_one_attack():
    notes = keys(0, 60) + keys(200, 64) + keys(5000, 67)
    assert [len(a) for a in group_attacks(notes)] == [2, 1]


def test_minor_key_counts_the_leading_tone_as_in_key():
    a_minor = scale_of(9, "minor")
    assert 8 in a_minor and 7 in a_minor  # G# and G


def test_bad_key_values_are_named():
    with pytest.raises(ValueRangeError, match="key_mode"):
        harmonic_tension(keys(0, 60), [], 0, "dorian")
    with pytest.raises(ValueRangeError, match="0..11, not 12"):
        harmonic_tension(keys(0, 60), [], 12, "major")
