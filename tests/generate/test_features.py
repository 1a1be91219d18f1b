"""The model contract: mappings, chord tokens, meters, and the step vs sequence encoders agreeing."""

import numpy as np
import pytest

from jambox.errors import ValueRangeError
from jambox.generate import features as F

GROOVE_PITCHES = (36, 38, 40, 37, 48, 50, 45, 47, 43, 58, 46, 26, 42, 22, 44, 49, 55, 57, 52, 51, 59, 53)


def test_every_groove_pitch_maps_to_a_voice_and_voices_map_to_themselves():
    for p in GROOVE_PITCHES:
        assert 0 <= F.GROOVE_PITCH_MAP[p] < F.N_DRUMS
    for v, p in enumerate(F.DRUM_PITCHES):
        assert F.GROOVE_PITCH_MAP[p] == v
    assert F.GROOVE_PITCH_MAP[44] == F.CLOSED_HAT  # pedal hat keeps time like a closed hat
    assert F.GROOVE_PITCH_MAP[40] == F.SNARE  # rimshot


@pytest.mark.parametrize(
    "label, expected",
    [
        ("B:maj", (11, "maj", None)),
        ("E:min7", (4, "min7", None)),
        ("E:min7/b7", (4, "min7", 2)),
        ("C:sus4(b7)", (0, "sus", None)),
        ("A:hdim7", (9, "dim", None)),
        ("F:maj6", (5, "maj", None)),
        ("Bb:7", (10, "dom7", None)),
        ("C#:maj/3", (1, "maj", 5)),
    ],
)
def test_pop909_labels_parse(label, expected):
    root, q, bass = F.parse_chord_label(label)
    assert (root, F.CHORD_QUALITIES[q], bass) == expected


def test_no_chord_and_bad_labels():
    assert F.parse_chord_label("N") is None
    with pytest.raises(ValueRangeError, match="'C:wobble'"):
        F.parse_chord_label("C:wobble")
    with pytest.raises(ValueRangeError, match="'H'"):
        F.parse_chord_label("H:maj")


def test_chord_tokens_round_trip_and_cover_the_range():
    seen = set()
    for r in range(12):
        for q in range(F.N_QUALITIES):
            i = F.chord_index(r, q)
            assert F.chord_from_index(i) == (r, q)
            seen.add(i)
    assert seen == set(range(1, F.N_CHORDS))
    assert F.chord_from_index(F.NO_CHORD) is None
    with pytest.raises(ValueRangeError):
        F.chord_from_index(F.N_CHORDS)


def test_tension_orders_chords_as_a_musician_would():
    tonic = F.chord_index(0, F.CHORD_QUALITIES.index("maj"))
    dom = F.chord_index(7, F.CHORD_QUALITIES.index("dom7"))
    tritone_dim = F.chord_index(6, F.CHORD_QUALITIES.index("dim"))
    assert F.chord_tension(tonic, False, 0) == 0.0
    assert 0 < F.chord_tension(dom, False, 7) < F.chord_tension(tritone_dim, False, 6)
    assert F.chord_tension(tonic, False, 2) > F.chord_tension(tonic, False, 0)  # bass off the chord
    assert F.chord_tension(F.NO_CHORD, True, None) == 0.0


def test_voicing_classes():
    maj = F.CHORD_QUALITIES.index("maj")
    assert F.classify_voicing([60, 64, 67], 0, maj) == F.ROOT_POSITION
    assert F.classify_voicing([64, 67, 72], 0, maj) == F.FIRST_INVERSION
    assert F.classify_voicing([55, 60, 64], 0, maj) == F.SECOND_INVERSION
    assert F.classify_voicing([48, 55, 64], 0, maj) == F.OPEN


def test_meters_positions():
    m78 = F.meter_for(7, 8)
    assert (m78.steps_per_beat, m78.bar_steps) == (2, 14)
    table = m78.position_table()
    assert table.shape == (14, F.N_POS)
    assert [s for s in range(14) if table[s, F.POS_GROUP_START]] == [0, 4, 8]
    assert table[0, F.POS_DOWNBEAT] == 1 and table[1:, F.POS_DOWNBEAT].sum() == 0
    assert table[13, F.POS_TO_BAR_END] == 0 and table[12:, F.POS_LAST_BEAT].all()
    m44 = F.meter_for(4, 4)
    assert [s for s in range(16) if m44.position_table()[s, F.POS_GROUP_START]] == [0, 4, 8, 12]
    with pytest.raises(ValueRangeError, match="11/8"):
        F.meter_for(11, 8)


def test_step_encoders_match_sequence_encoders():
    rng = np.random.default_rng(1)
    meter = F.meter_for(5, 4)
    t = 50
    sib = np.arange(t) % meter.bar_steps
    onset = rng.random(t) < 0.4
    vel = rng.random(t).astype(np.float32)
    off = (rng.random(t) - 0.5).astype(np.float32)
    known = rng.random(t) < 0.8
    dctl = rng.random((t, 4)).astype(np.float32)
    hits = rng.random((t, F.N_DRUMS)) < 0.2
    hv = rng.random((t, F.N_DRUMS)).astype(np.float32)
    ho = (rng.random((t, F.N_DRUMS)) - 0.5).astype(np.float32)
    seq = F.encode_drum_sequence(meter, sib, 97.0, 0.6, onset, vel, off, known, dctl, hits, hv, ho)
    row = np.zeros((1, F.DRUM_IN), dtype=np.float32)
    for i in range(t):
        ph = hits[i - 1].astype(np.float32) if i else np.zeros(F.N_DRUMS, np.float32)
        pv = hv[i - 1] * ph if i else np.zeros(F.N_DRUMS, np.float32)
        po = ho[i - 1] * ph if i else np.zeros(F.N_DRUMS, np.float32)
        nxt = bool(onset[i + 1]) if i + 1 < t else False
        F.encode_drum_step(row, meter, int(sib[i]), 97.0, 0.6, bool(onset[i]), float(vel[i]), float(off[i]),
                           bool(known[i]), nxt, *dctl[i], ph, pv, po)
        np.testing.assert_allclose(row[0], seq[i], atol=1e-6, err_msg=f"drum step {i}")

    pcs = rng.integers(-1, 12, t)
    minor = np.full(t, 1.0, np.float32)
    hctl = rng.random((t, 3)).astype(np.float32)
    chords = rng.integers(0, F.N_CHORDS, t)
    voic = rng.integers(0, F.N_VOICINGS, t)
    kh = rng.random(t) < 0.3
    kv = rng.random(t).astype(np.float32)
    seq = F.encode_harm_sequence(meter, sib, 97.0, 0.6, onset, vel, known, pcs, minor, hctl, chords, voic, kh, kv)
    row = np.zeros((1, F.HARM_IN), dtype=np.float32)
    for i in range(t):
        nxt = bool(onset[i + 1]) if i + 1 < t else False
        F.encode_harm_step(row, meter, int(sib[i]), 97.0, 0.6, bool(onset[i]), float(vel[i]), bool(known[i]), nxt,
                           None if pcs[i] < 0 else int(pcs[i]), True, *hctl[i],
                           int(chords[i - 1]) if i else 0, int(voic[i - 1]) if i else 0,
                           bool(kh[i - 1]) if i else False, float(kv[i - 1]) if i else 0.0)
        np.testing.assert_allclose(row[0], seq[i], atol=1e-6, err_msg=f"harm step {i}")


def test_bar_controls_measure_what_they_say():
    m = F.meter_for(4, 4)
    quiet = np.zeros((16, F.N_DRUMS), bool)
    quiet[[0, 8], F.KICK] = True
    quiet[[4, 12], F.SNARE] = True
    busy = quiet.copy()
    busy[:, F.CLOSED_HAT] = True
    busy[[3, 7, 11], F.KICK] = True
    e0, s0, b0 = F.drum_bar_controls(quiet, np.full((16, F.N_DRUMS), 0.5), m)
    e1, s1, b1 = F.drum_bar_controls(busy, np.full((16, F.N_DRUMS), 0.8), m)
    assert e1 > e0 and s1 > s0 and b1 > b0
    assert s0 == 0.0 and b0 == 0.0 and b1 == 1.0
    assert F.drum_bar_controls(np.zeros((16, F.N_DRUMS), bool), np.zeros((16, F.N_DRUMS)), m) == (0.0, 0.0, 0.0)

    tonic = F.chord_index(0, 0)
    tense = F.chord_index(6, F.CHORD_QUALITIES.index("dim"))
    d0, k0, _ = F.harm_bar_controls(np.full(16, tonic), np.zeros(16, int), False, np.zeros(16, bool), 4, 0.5)
    d1, k1, _ = F.harm_bar_controls(np.full(16, tense), np.zeros(16, int), False, np.ones(16, bool), 4, 0.5)
    assert d0 == 0.0 and d1 > 0.5 and k1 == 1.0 and k0 == 0.0


def test_step_encoder_allocates_nothing_and_checks_nothing_extra():
    row = np.zeros((1, F.DRUM_IN), dtype=np.float32)
    z = np.zeros(F.N_DRUMS, np.float32)
    out = F.encode_drum_step(row, F.meter_for(4, 4), 3, 120, 0.5, True, 0.5, 0.1, True, False, 0.5, 0.2, 0.3, 0.0,
                             z, z, z)
    assert out is row
    assert row[0, F.D_BASS_ONSET] == 1 and row[0, F.POS_STEP_IN_BEAT.start + 3] == 1
