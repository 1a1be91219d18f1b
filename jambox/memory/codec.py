"""Dicts to JSON text and back, for the state file's settings, patterns and info columns."""

from __future__ import annotations

import dataclasses
import enum
import json


def plain(value):
    """``value`` as JSON-able data: dataclasses (ControlState), enums, tuples are turned into plain types."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return value.tolist()
    return str(value)


def dumps(value) -> str:
    return json.dumps(plain(value if value is not None else {}), separators=(",", ":"), sort_keys=True)


def loads(text: str | None):
    return json.loads(text) if text else {}


def meter_of(value) -> tuple[int, int] | None:
    """``value`` as a (beats, note value) meter, or None."""
    try:
        num, den = value
        return int(num), int(den)
    except (TypeError, ValueError):
        return None


def tempo_of(value) -> float | None:
    """``value`` as a positive tempo in bpm, or None."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else None
