"""The baselines: the drum machine's preset choice, the n-gram's probabilities, the bass-triad rule."""

import numpy as np
import pytest

from jambox.generate import features as F
from jambox.train.baselines import NGram, PatternBank, bass_triads, f1, pattern_bar


def test_the_preset_that_fits_the_rhythm_is_chosen():
    bank = PatternBank()
    sib = np.arange(64) % 16
    disco = pattern_bar("disco", 16)
    rhythm = (disco[:, F.KICK] | disco[:, F.SNARE])[sib]
    assert bank.choose(rhythm, sib, 16) == "disco"
    assert pattern_bar("rock", 12).shape == (12, F.N_DRUMS)  # 3/4: the bar less its last beat
    assert pattern_bar("rock", 20)[16:].tolist() == pattern_bar("rock", 16)[:4].tolist()


def test_pattern_bank_likelihood_prefers_its_own_pattern():
    bank = PatternBank()
    grid = pattern_bar("rock", 16)
    assert bank.nll(grid, grid).sum() < bank.nll(grid, pattern_bar("jazz", 16)).sum()


def test_ngram_distributions_are_normalised_and_learn_the_context():
    rng = np.random.default_rng(0)
    ctx = rng.integers(0, 3, 2000)
    tokens = (ctx * 2 + (rng.random(2000) < 0.1)) % 6  # the context nearly decides the token
    ng = NGram(6).fit(tokens, [ctx, np.zeros(2000, np.int64)])
    for c in range(3):
        p = ng.distribution((c, 0))
        assert p.sum() == pytest.approx(1.0) and p.min() > 0
        assert p.argmax() == (2 * c) % 6
    unseen = ng.distribution((99, 0))  # backs off to the unconditioned level
    assert unseen.sum() == pytest.approx(1.0) and unseen.max() < 0.5


def test_bass_triads_follow_the_scale_and_hold_through_silence():
    chords = bass_triads(np.array([0, -1, 9, 7, 11]), np.zeros(5, bool))
    names = [F.chord_from_index(int(c)) for c in chords]
    q = F.CHORD_QUALITIES.index
    assert names == [(0, q("maj")), (0, q("maj")), (9, q("min")), (7, q("maj")), (11, q("dim"))]


def test_f1():
    assert f1([1, 1, 0, 0], [1, 0, 1, 0]) == pytest.approx(0.5)
    assert f1([0, 0], [1, 1]) == 0.0
