import json

import numpy as np
import pytest

from jambox.errors import ValueRangeError
from jambox.generate.features import KICK, SNARE
from jambox.generate.pattern import History, KeptPattern, best_rotation, merge_parts, part_of


def fill(h: History, pos: int, kick: bool, chord: int) -> None:
    row = h.slot()
    h.hits[row] = False
    h.hits[row, KICK] = kick
    h.hits[row, SNARE] = not kick
    h.velocity[row] = 0.5
    h.prob[row] = 0.9
    h.chord[row] = chord
    h.keys_hit[row] = pos % 4 == 0
    h.keys_velocity[row] = 0.6
    h.loop_pos[row] = pos
    h.commit()


def test_the_latest_occurrence_of_each_loop_step_is_kept_and_survives_json():
    h = History(capacity=64)
    for i in range(40):  # 5 loops of 8 steps; the last loop has chord 3 instead of 1
        fill(h, i % 8, kick=i % 2 == 0, chord=3 if i >= 32 else 1)
    p = h.pattern(8, (4, 4), [[0, 0], [4, 7]])
    p = json.loads(json.dumps(p))
    assert p["loop_steps"] == 8 and len(p["drums"]) == 8
    assert [step[0][0] for step in p["drums"]] == [KICK, SNARE] * 4
    assert all(k[0] == 3 for k in p["keys"])
    kept = KeptPattern.from_dict(p)
    assert kept.hits[0, KICK] and kept.hits[1, SNARE] and not kept.hits[0, SNARE]
    assert kept.keys_hit.tolist() == [True, False, False, False] * 2


def test_the_ring_never_grows():
    h = History(capacity=16)
    for i in range(1000):
        fill(h, i % 4, True, 1)
    assert h.written == 1000 and h.hits.shape[0] == 16
    assert h.pattern(4, (4, 4))["loop_steps"] == 4


def test_parts_split_and_merge():
    h = History(capacity=16)
    for i in range(8):
        fill(h, i, True, 1)
    p = h.pattern(8, (4, 4))
    drums, keys = part_of(p, "drums"), part_of(p, "keys")
    assert "keys" not in drums and "drums" not in keys
    assert KeptPattern.from_dict(drums).drums and not KeptPattern.from_dict(drums).keys
    assert merge_parts([drums, keys]) == p


@pytest.mark.parametrize("bad, match", [
    ({"version": 9}, "version"),
    ({"version": 1, "loop_steps": 0, "meter": [4, 4], "drums": []}, "loop_steps"),
    ({"version": 1, "loop_steps": 2, "meter": [4, 4], "drums": [[[12, 1, 0, 1, 0]], []]}, "drum voice"),
    ({"version": 1, "loop_steps": 2, "meter": [4, 4], "keys": [[0, 0, 1, 0.5, 1, 0]]}, "keys has 1 steps"),
    ({"version": 1, "loop_steps": 1, "meter": [4, 4], "keys": [["x", 0, 1, 0.5, 1, 0]]}, "malformed"),
    ("not a pattern", "expected a dict"),
])
def test_a_corrupt_pattern_is_named_not_played(bad, match):
    with pytest.raises(ValueRangeError, match=match):
        KeptPattern.from_dict(bad)


def test_a_recalled_pattern_lines_up_with_the_riff_heard_now():
    kept = ((0, 0), (3, 7), (8, 5))
    heard = [(s + 16, p) for s, p in kept]  # the same riff, the loop heard from its second bar
    assert best_rotation(kept, heard, 32) == 16
    assert best_rotation(kept, [], 32) == 0
    assert np.isscalar(best_rotation(kept, kept, 32))
