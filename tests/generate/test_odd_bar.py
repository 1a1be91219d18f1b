"""The odd bar's groupings, and the generator playing one: accents and stabs on the groups' starts, the pulse kept."""

import pytest

from jambox.errors import ValueRangeError
from jambox.generate import features as F
from jambox.generate.features import meter_for
from jambox.generate.model import load_model
from jambox.generate.odd_bar import ODD_GROUPS, group_at, group_starts, odd_groups
from tests.generate.test_generator import BAR, STEP, drums, keys, play_variation


@pytest.fixture(scope="module")
def model():
    return load_model(None)


@pytest.mark.parametrize("meter", F.METERS)
def test_every_meter_has_an_odd_grouping_that_fills_its_bar_and_is_not_its_own(meter):
    m = meter_for(*(int(x) for x in meter.split("/")))
    groups = odd_groups(m)
    assert sum(groups) == m.bar_steps and len(groups) >= 2
    own = {sum(m.groups[:i]) * m.steps_per_beat for i in range(len(m.groups))}  # the meter's beat-group starts
    assert set(group_starts(m)) - own  # at least one accent off the meter's own groups


def test_the_groupings_a_musician_would_name():
    assert ODD_GROUPS[(4, 4)] == (6, 6, 4)  # 3+3+2 eighths
    assert ODD_GROUPS[(7, 8)] == (6, 4, 4)  # 3+2+2 instead of 2+2+3
    assert ODD_GROUPS[(3, 4)] == (6, 6)  # 3+3: the bar as 6/8
    m = meter_for(4, 4)
    assert [group_at(m, s) for s in (0, 6, 12)] == [6, 6, 4] and group_at(m, 4) is None


def test_a_meter_without_a_grouping_is_named():
    with pytest.raises(ValueRangeError, match="an odd bar is written for .*not 11/8"):
        odd_groups(F.Meter(11, 8, (3, 3, 3, 2)))


@pytest.mark.parametrize("seed", [1, 2])
def test_the_generator_plays_the_accents_and_stabs_on_the_groups_and_the_pulse_on_the_beats(model, seed):
    notes = play_variation(model, "odd_bar", seed)  # over bar 7 (4/4, 120 bpm, straight)
    odd = [n for n in drums(notes) + keys(notes) if 7 * BAR - STEP / 2 <= n.time < 8 * BAR - STEP / 2]
    starts = {0, 6, 12}

    def steps(pred):
        return {round((n.time - 7 * BAR) / STEP) for n in odd if pred(n)}

    accents = steps(lambda n: n.part == "drums" and n.pitch != 42)
    assert accents == starts  # kick and snare on 1, the "and" of 2, and 4: nothing else
    assert steps(lambda n: n.part == "drums" and n.pitch == 36) == starts
    assert steps(lambda n: n.part == "drums" and n.pitch == 42) == {0, 4, 8, 12}  # the bar's own beats
    assert steps(lambda n: n.part == "keys") == starts  # the chord stabs
    # the next downbeat is where it always is, with a crash
    after = {n.pitch for n in drums(notes) if abs(n.time - 8 * BAR) < STEP / 2}
    assert {36, 49} <= after
