import pytest

from jambox.controls.knobs import EncoderKnob, KnobFilter
from jambox.errors import ValueRangeError


def test_the_first_reading_is_only_a_reference():
    f = KnobFilter(dead_band=0.02, smoothing_s=0.0)
    assert f.update(0.4, 0.0) is None
    assert f.value == 0.4


def test_noise_inside_the_dead_band_sends_nothing():
    f = KnobFilter(dead_band=0.02, smoothing_s=0.0)
    f.update(0.5, 0.0)
    assert [f.update(0.5 + d, 0.01 * i) for i, d in enumerate([0.01, -0.015, 0.019, -0.01], 1)] == [None] * 4


def test_a_move_past_the_dead_band_sends_the_value_once():
    f = KnobFilter(dead_band=0.02, smoothing_s=0.0)
    f.update(0.5, 0.0)
    assert f.update(0.53, 0.01) == 0.53
    assert f.update(0.54, 0.02) is None  # within the band of what was sent
    assert f.update(0.56, 0.03) == 0.56


def test_the_ends_of_the_travel_are_exact():
    f = KnobFilter(dead_band=0.05, smoothing_s=0.0)
    f.update(0.03, 0.0)
    assert f.update(0.001, 0.01) == 0.0  # inside the dead-band, but the end always gets through
    assert f.update(0.0, 0.02) is None
    f.update(0.97, 0.03)
    assert f.update(0.999, 0.04) == 1.0


def test_smoothing_follows_a_step_with_its_time_constant():
    f = KnobFilter(dead_band=0.0, smoothing_s=0.1)
    f.update(0.0, 0.0)
    f.update(1.0, 0.1)  # one time constant later: 1 - 1/e of the way
    assert f.value == pytest.approx(1 - 2.718281828 ** -1, abs=1e-6)


def test_nan_and_out_of_range_readings():
    f = KnobFilter(smoothing_s=0.0)
    f.update(0.5, 0.0)
    assert f.update(float("nan"), 0.01) is None
    assert f.update(1.7, 0.02) == 1.0  # clipped


def test_bad_parameters_are_clear():
    with pytest.raises(ValueRangeError, match="dead_band must be a number in range 0..0.5, not 2"):
        KnobFilter(dead_band=2)
    with pytest.raises(ValueRangeError, match="step must be a number in range 0..1, not -0.1"):
        EncoderKnob(step=-0.1)


def test_encoder_steps_clamp_at_the_ends():
    k = EncoderKnob(0.9, step=0.05)
    assert k.turn(1) == 0.95
    assert k.turn(3) == 1.0
    assert k.turn(1) is None
    assert k.turn(-2) == 0.9
    k.sync(0.1)
    assert k.turn(-1) == 0.05
