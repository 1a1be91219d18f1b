import json

import pytest

from jambox.controls.actions import Action, ActionKind
from jambox.controls.events_file import load_events, parse_events
from jambox.errors import InputFileError, JamboxError, UnknownActionError

SR = 48000


def write(tmp_path, data, name="events.json"):
    p = tmp_path / name
    p.write_text(data if isinstance(data, str) else json.dumps(data))
    return p


def test_the_documented_example_reads_into_timed_actions(tmp_path):
    p = write(tmp_path, [{"t": 8.0, "action": "softer"}, {"t": 12.0, "action": "more_dissonance"},
                         {"t": 16.0, "action": "keep"},
                         {"t": 20.0, "action": "set", "control": "energy", "value": 0.3}])
    actions = load_events(p, SR)
    assert actions == [
        Action(ActionKind.SOFTER, "events", None, None, 8 * SR),
        Action(ActionKind.MORE_DISSONANCE, "events", None, None, 12 * SR),
        Action(ActionKind.KEEP, "events", None, None, 16 * SR),
        Action(ActionKind.SET, "events", "energy", 0.3, 20 * SR),
    ]


def test_times_round_to_the_nearest_sample_and_come_back_sorted(tmp_path):
    p = write(tmp_path, [{"t": 2.5, "action": "keep"}, {"t": 1.00001, "action": "tap"},
                         {"t": 1.00001, "action": "let_go"}, {"t": 0, "action": "start_stop"}])
    actions = load_events(p, 44100)
    assert [a.at for a in actions] == [0, round(1.00001 * 44100), round(1.00001 * 44100), round(2.5 * 44100)]
    # same time: the file's order is kept
    assert [a.kind for a in actions][1:3] == [ActionKind.TAP, ActionKind.LET_GO]
    assert all(a.source == "events" for a in actions)


def test_aliases_and_spelling_variants_are_accepted(tmp_path):
    p = write(tmp_path, [{"t": 1, "action": "More-Dissonance"},
                         {"t": 2, "action": "set", "control": "tension", "value": 1}])
    a, b = load_events(p, SR)
    assert a.kind is ActionKind.MORE_DISSONANCE
    assert (b.control, b.value) == ("dissonance", 1.0)


def test_an_empty_list_is_no_actions(tmp_path):
    assert load_events(write(tmp_path, []), SR) == []


def test_every_bad_entry_is_reported_at_once_with_index_value_and_allowed(tmp_path):
    p = write(tmp_path, [
        {"t": 1.0, "action": "keep"},
        {"t": -1, "action": "keep"},
        {"t": "soon", "action": "softer"},
        {"action": "keep"},
        {"t": 3, "action": "sofer"},
        {"t": 4, "action": "set", "control": "energy", "value": 1.5},
        {"t": 5, "action": "set", "control": "enrgy", "value": 0.5},
        {"t": 6, "action": "set", "control": "energy"},
        {"t": 7, "action": "keep", "value": 0.2},
        {"t": 8, "action": "keep", "when": 3},
        "keep",
    ])
    with pytest.raises(InputFileError) as e:
        load_events(p, SR)
    problems = e.value.problems
    msg = str(e.value)
    assert len(problems) == 10
    assert "entry 0" not in msg
    assert "entry 1: t must be a number of seconds >= 0, not -1" in msg
    assert "entry 2: t must be a number of seconds >= 0, not 'soon'" in msg
    assert 'entry 3: needs a time "t"' in msg
    assert "entry 4: unknown action 'sofer' (did you mean 'softer'?); expected one of: keep, softer" in msg
    assert "entry 5: control energy must be in range 0.0..1.0, not 1.5" in msg
    assert "entry 6: unknown control 'enrgy' (did you mean 'energy'?)" in msg
    assert 'entry 7: action "set" needs a "control" and a "value"' in msg
    assert 'entry 8: value only go with action "set"' in msg
    assert "entry 9: unknown key 'when'" in msg
    assert "entry 10: must be an object" in msg


def test_only_unknown_names_raise_unknown_action_error(tmp_path):
    p = write(tmp_path, [{"t": 1, "action": "kep"}, {"t": 2, "action": "set", "control": "x", "value": 0.1}])
    with pytest.raises(UnknownActionError) as e:
        load_events(p, SR)
    assert len(e.value.problems) == 2
    assert "did you mean 'keep'" in str(e.value)


def test_missing_file_is_one_clear_line(tmp_path):
    with pytest.raises(InputFileError) as e:
        load_events(tmp_path / "nope.json", SR)
    assert str(e.value) == f"events file {tmp_path / 'nope.json'} does not exist"


@pytest.mark.parametrize("text, expected", [
    ('[{"t": 1, "action": "keep"', "is not valid JSON"),
    ("", "is not valid JSON"),
    ('{"t": 1, "action": "keep"}', "must hold a JSON list of actions"),
    ("42", "not a number"),
])
def test_invalid_json_is_one_clear_line(tmp_path, text, expected):
    with pytest.raises(InputFileError) as e:
        load_events(write(tmp_path, text), SR)
    assert expected in str(e.value)
    assert "\n" not in str(e.value)


def test_binary_garbage_is_a_clear_error(tmp_path):
    p = tmp_path / "events.json"
    p.write_bytes(b"\xff\xfe\x00\x81garbage")
    with pytest.raises(InputFileError, match="not text|not valid JSON"):
        load_events(p, SR)


def test_a_directory_is_a_clear_error(tmp_path):
    with pytest.raises(JamboxError, match="cannot read events file"):
        load_events(tmp_path, SR)


def test_bad_sample_rate_is_rejected():
    with pytest.raises(InputFileError, match="sample rate must be a positive integer, not 0"):
        parse_events([], 0)


def test_nan_and_infinite_times_are_rejected(tmp_path):
    p = write(tmp_path, '[{"t": NaN, "action": "keep"}, {"t": Infinity, "action": "keep"}]')
    with pytest.raises(InputFileError) as e:
        load_events(p, SR)
    assert len(e.value.problems) == 2


def test_saved_events_load_back_the_same(tmp_path):
    from jambox.controls.events_file import save_events

    actions = [Action(ActionKind.KEEP, "gpio", None, None, 96000),
               Action(ActionKind.SET, "midi", "level", 0.4, 48001),
               Action(ActionKind.TAP, "keyboard")]  # no time: not replayable, left out
    path = tmp_path / "played.json"
    save_events(path, actions, SR)
    back = load_events(path, SR)
    assert [(a.kind, a.control, a.value, a.at) for a in back] == [
        (ActionKind.SET, "level", 0.4, 48001), (ActionKind.KEEP, None, None, 96000)]
    assert json.loads(path.read_text())[0] == {"t": round(48001 / SR, 6), "action": "set", "control": "level",
                                               "value": 0.4}
