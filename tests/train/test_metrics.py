"""The metrics' descriptors on material of known character."""

import numpy as np

from jambox.generate import features as F
from jambox.train.metrics import in_key_share, mean_tension, variety


def test_variety_tells_a_loop_from_noise():
    rng = np.random.default_rng(0)
    bar = rng.random((16, F.N_DRUMS)) < 0.3
    looped = np.tile(bar, (16, 1))[None]
    noise = (rng.random((1, 256, F.N_DRUMS)) < 0.3)
    mask = np.ones((1, 256), bool)
    v_loop, v_noise = variety(looped, mask), variety(noise, mask)
    assert v_loop == {"distinct_bars_per_16": 1.0, "bar_to_bar_similarity": 1.0}
    assert v_noise["distinct_bars_per_16"] == 16.0 and v_noise["bar_to_bar_similarity"] < 0.3
    assert variety(looped[:, :64], mask[:, :64])["distinct_bars_per_16"] is None  # too short to say


def test_tension_and_key_share_of_diatonic_and_chromatic_chords():
    q = F.CHORD_QUALITIES.index
    diatonic = np.array([[F.chord_index(0, q("maj")), F.chord_index(5, q("maj")), F.chord_index(7, q("maj"))] * 4])
    chromatic = np.array([[F.chord_index(1, q("dim")), F.chord_index(6, q("dom7")), F.chord_index(3, q("maj7"))] * 4])
    bass = np.array([[0, 5, 7] * 4])
    minor = np.zeros((1, 12), bool)
    mask = np.ones((1, 12), bool)
    assert mean_tension(diatonic, bass, minor, mask) == 0.0
    assert mean_tension(chromatic, bass, minor, mask) > 0.5
    assert in_key_share(diatonic, minor, mask) == 1.0
    assert in_key_share(chromatic, minor, mask) < 0.5
