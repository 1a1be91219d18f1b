"""The vocabulary of feedback: the actions a player can take, and the continuous controls (knobs).

Every input (buttons, foot-switch, keyboard, MIDI controller, ``--events`` file) is translated into
:class:`Action` values; nothing else crosses from the inputs to the session.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from jambox.errors import UnknownActionError, ValueRangeError, did_you_mean


class ActionKind(str, Enum):
    KEEP = "keep"  # lock what plays now for this riff; adopt a pending suggestion
    SOFTER = "softer"  # pull back the most prominent element one step
    SOFTER_ALL = "softer_all"  # the whole accompaniment one step softer (long press)
    MORE_DISSONANCE = "more_dissonance"  # raise tension one step and hold it
    RESOLVE = "resolve"  # back to consonance, release the hold (long press)
    LET_GO = "let_go"  # drop a pending suggestion or a kept pattern
    START_STOP = "start_stop"  # foot-switch: start or stop the accompaniment
    JOIN_NOW = "join_now"  # come in at the next downbeat without waiting for a full loop
    TAP = "tap"  # tap tempo (fallback)
    SET = "set"  # set a continuous control (a knob): needs ``control`` and ``value``


# Continuous controls, each 0.0..1.0. "tension" is the knob's name for dissonance.
CONTROLS = ("energy", "dissonance", "surprise", "level", "drums_level", "keys_level")
CONTROL_ALIASES = {"tension": "dissonance", "volume": "level", "drums": "drums_level", "keys": "keys_level"}


def control_name(name: str) -> str:
    """The canonical control name for ``name`` (aliases allowed), or a clear error."""
    key = name.strip().lower().replace("-", "_")
    key = CONTROL_ALIASES.get(key, key)
    if key not in CONTROLS:
        allowed = ", ".join(CONTROLS + tuple(CONTROL_ALIASES))
        raise UnknownActionError(
            f"unknown control {name!r}{did_you_mean(key, CONTROLS + tuple(CONTROL_ALIASES))}; "
            f"expected one of: {allowed}"
        )
    return key


def control_value(name: str, value: float | str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueRangeError(f"control {name} must be a number in 0.0..1.0, not {value!r}") from None
    if not 0.0 <= v <= 1.0:
        raise ValueRangeError(f"control {name} must be in range 0.0..1.0, not {v:g}")
    return v


def action_kind(name: str) -> ActionKind:
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return ActionKind(key)
    except ValueError:
        names = [k.value for k in ActionKind]
        raise UnknownActionError(
            f"unknown action {name!r}{did_you_mean(key, names)}; expected one of: {', '.join(names)}"
        ) from None


@dataclass(frozen=True, slots=True)
class Action:
    """One piece of feedback. ``at`` is the stream time (samples) it applies from; None = as soon as possible."""

    kind: ActionKind
    source: str = "unknown"  # "gpio", "keyboard", "midi", "events", "suggestion", ...
    control: str | None = None  # for SET
    value: float | None = None  # for SET
    at: int | None = None

    @classmethod
    def make(cls, kind: str | ActionKind, *, source: str = "unknown", control: str | None = None,
             value: float | str | None = None, at: int | None = None) -> "Action":
        k = kind if isinstance(kind, ActionKind) else action_kind(kind)
        if k is ActionKind.SET:
            if control is None or value is None:
                raise UnknownActionError("action 'set' needs a control name and a value, e.g. energy=0.7")
            c = control_name(control)
            return cls(k, source, c, control_value(c, value), at)
        return cls(k, source, None, None, at)
