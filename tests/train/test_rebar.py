"""Re-barring: odd-meter bars cut from or extended past real 4/4 bars, each starting on a real downbeat."""

import numpy as np
import pytest

from jambox.errors import TrainingError
from jambox.generate import features as F
from jambox.train.rebar import REBARS, rebar_index


@pytest.mark.parametrize("target", list(REBARS))
def test_every_target_bar_starts_on_a_source_downbeat_and_has_the_meter_length(target):
    n = 16 * 6
    idx = rebar_index(n, target)
    bar = F.meter_for(*target).bar_steps
    assert len(idx) % bar == 0 and len(idx) > 0
    starts = idx[::bar]
    assert np.all(starts % 16 == 0)  # each bar begins on a real downbeat
    assert np.all(idx < n)


def test_seven_eight_is_a_bar_less_an_eighth_and_five_four_borrows_a_beat():
    assert rebar_index(32, (7, 8)).tolist() == list(range(14)) + list(range(16, 30))
    assert rebar_index(48, (5, 4)).tolist() == list(range(16)) + [16, 17, 18, 19] + list(range(16, 32)) + [32, 33, 34, 35]
    assert len(rebar_index(32, (7, 4))) == 28  # needs the next bar: one bar out of two


def test_unsupported_target():
    with pytest.raises(TrainingError, match="6/8"):
        rebar_index(64, (6, 8))
