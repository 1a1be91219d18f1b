"""One exception hierarchy for jambox.

Every error subclasses :class:`JamboxError` and the built-in exception it is closest to, so that
callers may catch either. Messages say what was wrong and what is allowed, e.g.
``"channel must be in range 1..16, not 17"``.
"""

from __future__ import annotations


class JamboxError(Exception):
    """Base of every error jambox raises on purpose. The CLI prints these as one line."""

    exit_code = 1


class ConfigError(JamboxError, ValueError):
    """The configuration is invalid. ``problems`` lists every problem found, one line each."""

    exit_code = 2

    def __init__(self, problems: list[str] | str, source: str | None = None):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.source = source
        where = f" in {source}" if source else ""
        if len(self.problems) == 1:
            msg = f"configuration error{where}: {self.problems[0]}"
        else:
            lines = "\n  ".join(self.problems)
            msg = f"{len(self.problems)} configuration errors{where}:\n  {lines}"
        super().__init__(msg)


class InputFileError(JamboxError, ValueError):
    """An input file is missing, empty, truncated or not audio/MIDI."""

    exit_code = 3


class UnknownActionError(JamboxError, ValueError):
    """An action or control name that jambox does not know."""

    exit_code = 2


class ValueRangeError(JamboxError, ValueError):
    """A value outside its allowed range."""

    exit_code = 2


class ModelError(JamboxError, RuntimeError):
    """The generator model is missing, corrupt or does not match what jambox expects."""

    exit_code = 4


class SoundfontError(JamboxError, RuntimeError):
    """The soundfont is missing or FluidSynth cannot load it."""

    exit_code = 4


class AudioDeviceError(JamboxError, OSError):
    """No audio device, a busy device, a refused sample rate, or a device that went away."""

    exit_code = 5


class MidiError(JamboxError, OSError):
    """A MIDI port could not be opened or a MIDI message is invalid."""

    exit_code = 5


class MidiPortAbsentError(MidiError):
    """No MIDI port matches the name or index asked for (not plugged in, or switched off, yet)."""


class GpioError(JamboxError, OSError):
    """GPIO pins are busy, missing or misconfigured."""

    exit_code = 5


class StateError(JamboxError, OSError):
    """The state file cannot be opened or written."""

    exit_code = 6


class TrainingError(JamboxError, RuntimeError):
    """Training or export failed (missing data, missing torch, ...)."""

    exit_code = 7


def did_you_mean(value: str, choices: list[str] | tuple[str, ...]) -> str:
    """A ``" (did you mean 'x'?)"`` suffix, or ``""`` when nothing is close."""
    import difflib

    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
