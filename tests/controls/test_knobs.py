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


def test_jump_mode_ignores_sync():
    f = KnobFilter(dead_band=0.02, smoothing_s=0.0)
    f.update(0.2, 0.0)
    f.sync(0.8)  # the keyboard set the control to 0.8
    assert not f.waiting
    assert f.update(0.25, 0.1) == 0.25  # the next turn jumps the control to the pot


def test_pickup_waits_until_the_pot_reaches_the_control_from_below():
    f = KnobFilter(dead_band=0.02, smoothing_s=0.0, pickup=True)
    f.update(0.2, 0.0)
    f.sync(0.6)
    assert f.waiting
    assert [f.update(x, 0.1 * i) for i, x in enumerate([0.3, 0.4, 0.5, 0.55], 1)] == [None] * 4
    assert f.update(0.63, 0.5) == 0.63  # passed it: the pot has the control again
    assert not f.waiting
    assert f.update(0.7, 0.6) == 0.7


def test_pickup_from_above_and_within_the_dead_band():
    f = KnobFilter(dead_band=0.02, smoothing_s=0.0, pickup=True)
    f.update(0.9, 0.0)
    f.sync(0.4)
    assert f.update(0.6, 0.1) is None
    assert f.update(0.41, 0.2) == 0.41  # close enough counts as reached


def test_a_sync_of_the_value_the_knob_sent_does_not_wait():
    f = KnobFilter(dead_band=0.02, smoothing_s=0.0, pickup=True)
    f.update(0.2, 0.0)
    assert f.update(0.5, 0.1) == 0.5
    f.sync(0.5)  # the session applied what the knob sent
    assert not f.waiting
    assert f.update(0.55, 0.2) == 0.55


def test_pickup_before_the_first_reading():
    f = KnobFilter(dead_band=0.02, smoothing_s=0.0, pickup=True)
    f.sync(0.5)
    f.update(0.1, 0.0)  # the pot sits below the control
    assert f.update(0.3, 0.1) is None
    assert f.update(0.52, 0.2) == 0.52
