import numpy as np
import pytest

from jambox.errors import ValueRangeError
from jambox.generate.sampling import Sampler, temperature, top_p


def test_surprise_raises_temperature_and_nucleus():
    assert temperature(0.0) < temperature(0.5) < temperature(1.0)
    assert top_p(0.0) < top_p(1.0) <= 1.0
    assert temperature(0.0) > 0.0  # never a pure argmax
    with pytest.raises(ValueRangeError, match="surprise"):
        temperature(1.2)


def test_same_seed_same_draws_and_other_seed_other_draws():
    logits = np.linspace(0, 2, 20).astype(np.float32)
    a = [Sampler(7).categorical(logits, 1.0, 0.95) for _ in range(1)]
    s1, s2, s3 = Sampler(7), Sampler(7), Sampler(8)
    d1 = [s1.categorical(logits, 1.0, 0.95) for _ in range(50)]
    d2 = [s2.categorical(logits, 1.0, 0.95) for _ in range(50)]
    d3 = [s3.categorical(logits, 1.0, 0.95) for _ in range(50)]
    assert d1 == d2 and d1 != d3 and a[0] == d1[0]


def test_top_p_keeps_the_tail_out_and_temperature_spreads_choices():
    logits = np.array([4.0, 3.5, 0.0, -1.0, -2.0], np.float32)
    s = Sampler(1)
    narrow = [s.categorical(logits, 0.55, 0.75) for _ in range(400)]
    wide = [s.categorical(logits, 1.25, 0.97) for _ in range(400)]
    assert set(narrow) <= {0, 1}
    assert len(set(wide)) > len(set(narrow))


def test_bias_moves_the_distribution():
    logits = np.zeros(4, np.float32)
    bias = np.array([0.0, 0.0, 0.0, 6.0])
    s = Sampler(3)
    draws = [s.categorical(logits, 1.0, 0.9, bias) for _ in range(100)]
    assert draws.count(3) > 90


def test_hit_probability_follows_logit_and_bias():
    s = Sampler(5)
    low = sum(s.hit(-2.0, 1.0)[0] for _ in range(1000))
    high = sum(s.hit(2.0, 1.0)[0] for _ in range(1000))
    damped = sum(s.hit(2.0, 1.0, bias=-4.0)[0] for _ in range(1000))
    assert low < 250 < 750 < high
    assert damped < 250
