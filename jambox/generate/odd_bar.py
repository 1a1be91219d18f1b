"""The odd bar: one bar whose accents group the pulse unevenly, the way a band plays a cross-rhythm.

A bar of 4/4 played as 3+3+2 eighths (the tresillo a band hits together), 3/4 as 3+3 eighths (the
bar felt in 6/8: the hemiola of "America"), 6/8 the other way round as 2+2+2 (three quarters
across it), 7/8 as 3+2+2 instead of its usual 2+2+3, 9/8 as 2+2+2+3 (the aksak nine of Balkan and
Turkish music). The accents (kick and snare together) and the keys' chord stabs fall on the
groups' starts; the time-keeping (a closed hi-hat on every notated beat) stays on the bar's own
beats, and the bar keeps its length, so a player who does not follow the figure is never
knocked off the "one": the listener's grid stays the authority and the next downbeat lands where
it always would (with a crash, as after a fill, to say so).

The groupings are in generator steps (16ths, two to an eighth in every meter jambox plays); each
adds up to the bar and differs from the meter's own beat groups (a test checks both).
"""

from __future__ import annotations

from functools import lru_cache

from jambox.errors import ValueRangeError
from jambox.generate.features import Meter

# (numerator, denominator) -> the odd bar's groups, in steps.
ODD_GROUPS: dict[tuple[int, int], tuple[int, ...]] = {
    (2, 4): (3, 3, 2),  # 3+3+2 sixteenths: the tresillo in half the space
    (3, 4): (6, 6),  # 3+3 eighths: the bar as 6/8 (hemiola)
    (4, 4): (6, 6, 4),  # 3+3+2 eighths
    (5, 4): (6, 6, 4, 4),  # 3+3+2+2 eighths
    (6, 4): (6, 6, 6, 6),  # four dotted quarters: 12/8 across 6/4
    (7, 4): (6, 6, 6, 6, 4),  # 3+3+3+3+2 eighths
    (5, 8): (4, 6),  # 2+3 instead of 3+2
    (6, 8): (4, 4, 4),  # 2+2+2: three quarters across 6/8 (hemiola)
    (7, 8): (6, 4, 4),  # 3+2+2 instead of 2+2+3
    (9, 8): (4, 4, 4, 6),  # 2+2+2+3, the aksak nine
    (12, 8): (4, 4, 4, 4, 4, 4),  # six quarters across four dotted quarters
}

ACCENT_VELOCITY = 0.9  # kick and snare together on a group's start (0..1)
FIRST_ACCENT_VELOCITY = 1.0  # the first group's, the strongest
PULSE_VELOCITY = 0.4  # the closed hi-hat on each notated beat: the bar's own pulse, under the accents
STAB_VELOCITY = 0.75  # the keys' chord stabs are at least this loud (0..1)


def odd_groups(meter: Meter) -> tuple[int, ...]:
    """The odd bar's groups for ``meter``, in steps."""
    try:
        return ODD_GROUPS[(meter.numerator, meter.denominator)]
    except KeyError:
        meters = ", ".join(f"{n}/{d}" for n, d in ODD_GROUPS)
        raise ValueRangeError(f"an odd bar is written for {meters}, not {meter.name}") from None


@lru_cache(maxsize=None)
def _starts(groups: tuple[int, ...]) -> dict[int, int]:
    out, at = {}, 0
    for g in groups:
        out[at] = g
        at += g
    return out


def group_at(meter: Meter, step_in_bar: int) -> int | None:
    """The length (steps) of the odd bar's group starting at ``step_in_bar``, or None if none starts there."""
    return _starts(odd_groups(meter)).get(step_in_bar)


def group_starts(meter: Meter) -> tuple[int, ...]:
    """The steps of the bar on which the odd bar's groups start."""
    return tuple(_starts(odd_groups(meter)))
