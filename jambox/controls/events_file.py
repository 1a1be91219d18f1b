"""The ``--events`` file: timed actions for offline runs, read into :class:`Action` values.

The file is a JSON list; each entry has a time ``t`` in seconds from the start of the input and an
``action`` name, and ``set`` entries also a ``control`` and a ``value``::

    [{"t": 8.0, "action": "softer"},
     {"t": 20.0, "action": "set", "control": "energy", "value": 0.3}]

Times become stream samples (``at = round(t * sample_rate)``), the one clock everything else uses,
so an offline run applies each action on the same hop a live press at that moment would reach.
Every bad entry is reported at once, each with its index, the value and what is allowed: a player
editing the file by hand fixes it in one go rather than one error per run.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from jambox.controls.actions import Action, ActionKind, action_kind
from jambox.errors import InputFileError, JamboxError, UnknownActionError

SOURCE = "events"
KEYS = ("t", "action", "control", "value")
SET_ONLY_KEYS = ("control", "value")


def load_events(path: str | Path, sample_rate: int) -> list[Action]:
    """The actions in the events file at ``path``, in time order, timed in samples at ``sample_rate``.

    Raises :class:`InputFileError` for a missing, unreadable or invalid file and for bad entries;
    :class:`UnknownActionError` when every problem is an unknown action or control name. Either
    carries ``problems``: one line per bad entry.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputFileError(f"events file {path} does not exist") from None
    except UnicodeDecodeError:
        raise InputFileError(f"events file {path} is not text (expected a JSON list of actions)") from None
    except OSError as e:
        raise InputFileError(f"cannot read events file {path}: {e.strerror or e}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputFileError(f"events file {path} is not valid JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    return parse_events(data, sample_rate, source=str(path))


def parse_events(data, sample_rate: int, *, source: str = "events") -> list[Action]:
    """Decoded JSON (a list of entries) into actions; see :func:`load_events`."""
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate <= 0:
        raise InputFileError(f"sample rate must be a positive integer, not {sample_rate!r}")
    if not isinstance(data, list):
        raise InputFileError(f"{source} must hold a JSON list of actions like "
                             f'[{{"t": 8.0, "action": "softer"}}], not a {_json_type(data)}')
    actions: list[Action] = []
    problems: list[str] = []
    only_names = True  # every problem is an unknown action or control name
    for index, entry in enumerate(data):
        try:
            actions.append(_entry(entry, sample_rate))
        except _EntryProblems as e:
            problems += [f"entry {index}: {p}" for p in e.problems]
            only_names = only_names and e.only_names
    if problems:
        raise _error(problems, source, UnknownActionError if only_names else InputFileError)
    actions.sort(key=lambda a: a.at)  # stable: entries at the same time keep the file's order
    return actions


class _EntryProblems(Exception):
    def __init__(self, problems: list[str], only_names: bool):
        self.problems = problems
        self.only_names = only_names


def _entry(entry, sample_rate: int) -> Action:
    if not isinstance(entry, dict):
        raise _EntryProblems([f"must be an object like {{\"t\": 8.0, \"action\": \"softer\"}}, not {entry!r}"], False)
    problems: list[str] = []
    only_names = True
    for key in entry:
        if key not in KEYS:
            from jambox.errors import did_you_mean

            problems.append(f"unknown key {key!r}{did_you_mean(str(key), KEYS)}; expected: {', '.join(KEYS)}")
            only_names = False
    t = entry.get("t")
    if "t" not in entry:
        problems.append("needs a time \"t\" in seconds (a number >= 0)")
        only_names = False
    elif isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t) or t < 0:
        problems.append(f"t must be a number of seconds >= 0, not {t!r}")
        only_names = False
    name = entry.get("action")
    kind = None
    if "action" not in entry:
        problems.append(f"needs an \"action\": one of {', '.join(k.value for k in ActionKind)}")
        only_names = False
    elif not isinstance(name, str):
        problems.append(f"action must be a string, one of {', '.join(k.value for k in ActionKind)}; not {name!r}")
        only_names = False
    else:
        try:
            kind = action_kind(name)
        except UnknownActionError as e:
            problems.append(str(e))
    if kind is not None and kind is not ActionKind.SET:
        extra = [k for k in SET_ONLY_KEYS if k in entry]
        if extra:
            problems.append(f"{' and '.join(extra)} only go with action \"set\", not {name!r}")
            only_names = False
    action = None
    if kind is ActionKind.SET:
        control, value = entry.get("control"), entry.get("value")
        if control is None or value is None:
            problems.append('action "set" needs a "control" and a "value", e.g. '
                            '{"t": 20.0, "action": "set", "control": "energy", "value": 0.3}')
            only_names = False
        elif not isinstance(control, str):
            problems.append(f"control must be a string, not {control!r}")
            only_names = False
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.append(f"value of control {control!r} must be a number in 0.0..1.0, not {value!r}")
            only_names = False
        else:
            try:
                action = Action.make(ActionKind.SET, source=SOURCE, control=control, value=value)
            except UnknownActionError as e:
                problems.append(str(e))
            except JamboxError as e:  # value out of range
                problems.append(str(e))
                only_names = False
    if problems:
        raise _EntryProblems(problems, only_names)
    at = round(t * sample_rate)
    if action is None:
        return Action(kind, SOURCE, None, None, at)
    return Action(action.kind, SOURCE, action.control, action.value, at)


def _error(problems: list[str], source: str, cls: type[JamboxError]) -> JamboxError:
    if len(problems) == 1:
        err = cls(f"{source}: {problems[0]}")
    else:
        lines = "\n  ".join(problems)
        err = cls(f"{len(problems)} bad entries in {source}:\n  {lines}")
    err.problems = problems
    return err


def _json_type(value) -> str:
    return {dict: "JSON object", str: "string", int: "number", float: "number", bool: "boolean",
            type(None): "null"}.get(type(value), type(value).__name__)


def dump_events(actions, sample_rate: int) -> list[dict]:
    """Actions as events-file entries (the inverse of :func:`parse_events`), e.g. to replay a live
    session's feedback offline with ``jambox accompany --events``. Actions without a time are left out."""
    entries = []
    for a in sorted((a for a in actions if a.at is not None), key=lambda a: a.at):
        entry = {"t": round(a.at / sample_rate, 6), "action": a.kind.value}
        if a.kind is ActionKind.SET:
            entry.update(control=a.control, value=a.value)
        entries.append(entry)
    return entries


def save_events(path: str | Path, actions, sample_rate: int) -> None:
    """Write :func:`dump_events` to ``path`` as JSON, one entry a line."""
    entries = dump_events(actions, sample_rate)
    text = "[\n" + ",\n".join("  " + json.dumps(e) for e in entries) + ("\n]\n" if entries else "]\n")
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as e:
        raise InputFileError(f"cannot write events file {path}: {e.strerror or e}") from None
