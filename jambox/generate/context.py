"""What the generator knows at one plan call: the bass at any step (heard, or predicted from one
loop earlier), the key, how each chord sits with the riff, and where the player's swing puts a step.

Built once per :meth:`Generator.plan` call from the latest Heard and read by every step planned in
that call; every look-up is a bisection in the listener's bounded note list, so a step costs the
same after an hour as after a bar.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

from jambox.events import Heard, Note
from jambox.generate.harmony import guess_key, riff_clash

LISTEN_MARGIN_S = 0.06  # how long after a note starts the listener has reported it
DRUM_NOTE_S = 0.08  # drum note length (GM drums mostly ignore note-off)
STRUM_S = 0.0015  # keys: spread of a chord's notes (a hand is never exactly together)


STRAIGHT_BELOW = 0.53  # a swing estimate below this is a straight player's timing noise
SWUNG_FROM = 0.58  # from here on the box swings exactly as much as the player


def played_swing(heard_swing: float) -> float:
    """The swing the box plays for the swing the listener reports: straight below
    :data:`STRAIGHT_BELOW` (a straight riff played by a human measures 0.52..0.55), the player's own
    from :data:`SWUNG_FROM`, and a ramp between, so a slightly uneven straight player does not get a
    lilting band and a swung one gets exactly their swing."""
    if heard_swing <= STRAIGHT_BELOW:
        return 0.5
    if heard_swing >= SWUNG_FROM:
        return heard_swing
    return 0.5 + (heard_swing - STRAIGHT_BELOW) * (SWUNG_FROM - 0.5) / (SWUNG_FROM - STRAIGHT_BELOW)


@dataclass
class BassAt:
    known: bool = False
    onset: bool = False
    velocity: float = 0.0
    offset: float = 0.0
    pitch: int | None = None


class PlanContext:
    """Per-plan-call look-ups over the latest Heard (built once per call, used by each step)."""

    def __init__(self, heard: Heard, sample_rate: int):
        self.sample_rate = sample_rate
        self.notes = heard.notes
        self.onsets = [n.onset for n in heard.notes]
        if heard.key_tonic is not None:
            self.key: tuple[int, bool] | None = (heard.key_tonic, heard.key_mode == "minor")
        else:
            self.key = guess_key(heard.notes)
        self.feel = heard.offset_ms * sample_rate / 1000.0
        self.swing = played_swing(heard.swing)
        self.margin = LISTEN_MARGIN_S * sample_rate
        self.drum_len = int(DRUM_NOTE_S * sample_rate)
        self.strum = STRUM_S * sample_rate
        self.loop_len = None
        if heard.loop_bars and heard.loop_start is not None and heard.beat_period:
            self.loop_len = heard.loop_bars * heard.meter[0] * heard.beat_period
        self.loop_start = heard.loop_start
        self.clash = riff_clash(heard.notes, self.key[0]) if self.key is not None and heard.notes else None

    @staticmethod
    def swing_shift(step_in_beat: int, steps_per_beat: int, period: float, swing: float) -> float:
        """Samples a step moves when the player swings: the beat's time warped so the off-beat
        eighth falls at ``swing`` of the beat (16ths in between move proportionally)."""
        f = step_in_beat / steps_per_beat
        if f == 0.0 or swing == 0.5:
            return 0.0
        warped = f / 0.5 * swing if f < 0.5 else swing + (f - 0.5) / 0.5 * (1.0 - swing)
        return (warped - f) * steps_per_beat * period

    def _window(self, lo: float, hi: float) -> Note | None:
        i = bisect.bisect_left(self.onsets, lo)
        if i < len(self.onsets) and self.onsets[i] < hi:
            return self.notes[i]
        return None

    def _sounding(self, t: float) -> Note | None:
        i = bisect.bisect_right(self.onsets, t) - 1
        if i < 0:
            return None
        n = self.notes[i]
        return n if n.offset is None or n.offset > t else None

    def bass_at(self, t: float, period: float, now: int, heard: Heard) -> BassAt:
        """The bass at the step starting at ``t``: heard if past, else predicted one loop back."""
        lo, hi = t - period / 2, t + period / 2
        if hi + self.margin <= now:
            return self._read(t, lo, hi, period, shift=0.0)
        if self.loop_len:
            k = math.ceil((hi + self.margin - now) / self.loop_len)  # loops back to reach heard time
            back = k * self.loop_len
            if t - back >= self.loop_start - period / 2 and self.onsets and \
                    self.onsets[0] <= t - back + period and self.onsets[-1] >= t - back - self.loop_len:
                return self._read(t - back, lo - back, hi - back, period, shift=back)
        return BassAt()

    def _read(self, t: float, lo: float, hi: float, period: float, shift: float) -> BassAt:
        n = self._window(lo, hi)
        sounding = n or self._sounding(t)
        pitch = None if sounding is None else sounding.pitch
        if n is None:
            return BassAt(True, False, 0.0, 0.0, pitch)
        return BassAt(True, True, n.velocity / 127.0, max(-0.5, min(0.5, (n.onset - t) / period)), pitch)
