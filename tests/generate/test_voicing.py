import pytest

from jambox.errors import ValueRangeError
from jambox.generate.tension import chord_tension
from jambox.generate.voicing import COLOUR_STEPS, KEYS_HIGH, KEYS_LOW, QUALITY_INTERVALS, chord_tones, voice


@pytest.mark.parametrize("quality", sorted(QUALITY_INTERVALS))
def test_colour_tones_make_every_quality_rougher_as_dissonance_rises(quality):
    levels = [0.0] + [s + 0.01 for s in COLOUR_STEPS]
    tensions = [chord_tension(chord_tones(quality, d), 0, None) for d in levels]
    assert all(b >= a - 1e-9 for a, b in zip(tensions, tensions[1:])), tensions
    assert tensions[-1] > tensions[0]


def test_every_quality_the_model_names_is_voiced_as_features_defines_it():
    from jambox.generate import features

    for q in features.CHORD_QUALITIES:
        assert QUALITY_INTERVALS[q] == features.QUALITY_INTERVALS[q]


def test_low_dissonance_plays_plain_triads():
    assert chord_tones("maj7", 0.0) == (0, 4, 7)
    assert chord_tones("min7", 0.05) == (0, 3, 7)
    assert 10 in chord_tones("min7", 0.3)


@pytest.mark.parametrize("voicing", ["root", "first", "second", "open"])
@pytest.mark.parametrize("dissonance", [0.0, 0.5, 1.0])
def test_voicings_stay_in_the_keys_register(voicing, dissonance):
    for root in range(12):
        notes = voice(root, "min7", dissonance, voicing)
        assert notes == tuple(sorted(notes)) and len(set(notes)) == len(notes)
        assert KEYS_LOW <= notes[0] and notes[-1] <= KEYS_HIGH
        if voicing == "root" and dissonance < 0.9:
            assert notes[0] % 12 == root  # the root is the lowest voice


def test_inversions_put_the_third_or_fifth_at_the_bottom():
    assert voice(0, "maj", 0.0, "root")[0] % 12 == 0
    assert voice(0, "maj", 0.0, "first")[0] % 12 == 4
    assert voice(0, "maj", 0.0, "second")[0] % 12 == 7


def test_voice_leading_stays_near_the_previous_chord():
    c = voice(0, "maj", 0.0, "root", previous=(64, 67, 72))
    far = voice(0, "maj", 0.0, "root", previous=(48, 52, 55))
    assert sum(c) / 3 > sum(far) / 3
    f = voice(5, "maj", 0.0, "second", previous=c)
    assert abs(sum(f) / 3 - sum(c) / 3) <= 6


def test_bad_input_is_named():
    with pytest.raises(ValueRangeError, match="unknown chord quality 'mjr'"):
        chord_tones("mjr", 0.2)
    with pytest.raises(ValueRangeError, match="dissonance"):
        chord_tones("maj", 1.5)
    with pytest.raises(ValueRangeError, match="root_pc"):
        voice(12, "maj", 0.0, "root")
