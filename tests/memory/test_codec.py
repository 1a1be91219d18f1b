import json

import numpy as np

from jambox.controls.actions import ActionKind
from jambox.controls.state import ControlState
from jambox.memory.codec import dumps, loads, meter_of, plain, tempo_of


def test_control_state_enums_tuples_and_numpy_become_plain_json():
    value = {"state": ControlState(voice_levels=(("kick", 0.5),)), "kind": ActionKind.SOFTER,
             "vec": np.array([0.25, 0.5]), "x": np.float32(0.5), 3: (1, 2)}
    p = plain(value)
    assert p["state"]["voice_levels"] == [["kick", 0.5]] and p["kind"] == "softer"
    assert p["vec"] == [0.25, 0.5] and p["x"] == 0.5 and p["3"] == [1, 2]
    assert loads(dumps(value)) == json.loads(json.dumps(p))


def test_unknown_objects_are_stored_as_text_and_empty_as_an_empty_dict():
    assert plain(object)  # a class: its repr, not a crash
    assert loads(dumps(None)) == {} and loads("") == {} and loads(None) == {}


def test_meter_and_tempo_parsers():
    assert meter_of([6, 8]) == (6, 8) and meter_of("x") is None and meter_of(None) is None
    assert tempo_of(120) == 120.0 and tempo_of(0) is None and tempo_of(True) is None and tempo_of("90") is None
