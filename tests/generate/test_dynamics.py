import math

import pytest

from jambox.controls.state import ControlState
from jambox.generate.dynamics import REFERENCE_LEVEL, density_bias, keeps, logit, part_gain, sigmoid, velocity_scale


def test_the_reference_levels_play_the_model_as_it_is():
    c = ControlState(level=REFERENCE_LEVEL["level"], drums_level=REFERENCE_LEVEL["drums"],
                     keys_level=REFERENCE_LEVEL["keys"], energy=0.6)
    assert part_gain(c, "drums") == pytest.approx(1.0) and part_gain(c, "keys") == pytest.approx(1.0)
    assert density_bias(1.0, 0.6) == pytest.approx(0.0) and velocity_scale(1.0, 0.6) == pytest.approx(1.0)


def test_lower_levels_and_energy_mean_fewer_and_softer_hits():
    assert density_bias(0.5, 0.6) < 0 < density_bias(1.2, 0.6)
    assert density_bias(1.0, 0.2) < 0 < density_bias(1.0, 1.0)
    assert velocity_scale(0.5, 0.6) < 1.0 < velocity_scale(1.0, 1.0)
    assert density_bias(0.0, 0.6) == -math.inf  # a silent part plays nothing
    half_master = part_gain(ControlState(level=0.4), "drums")
    half_drums = part_gain(ControlState(drums_level=0.4), "drums")
    assert half_drums < half_master < 1.0  # the master level counts at half strength
    assert part_gain(ControlState(), "drums", voice_trim=0.5) == pytest.approx(0.5 * part_gain(ControlState(), "drums"))


def test_thinning_a_kept_pattern_drops_the_unlikely_hits_first_and_always_the_same_ones():
    assert keeps(0.3, 0.99, 0.0) and not keeps(0.9, 0.0, -math.inf)
    strong = sum(keeps(0.95, u / 100, -1.5) for u in range(100))
    weak = sum(keeps(0.3, u / 100, -1.5) for u in range(100))
    assert weak < strong
    assert [keeps(0.5, 0.4, -1.0) for _ in range(3)] == [keeps(0.5, 0.4, -1.0)] * 3


def test_logit_and_sigmoid_are_inverses_and_safe_at_the_ends():
    assert sigmoid(logit(0.3)) == pytest.approx(0.3)
    assert math.isfinite(logit(0.0)) and math.isfinite(logit(1.0))
    assert sigmoid(-800.0) == 0.0 and sigmoid(800.0) == 1.0
