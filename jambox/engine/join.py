"""When the box comes in and when it drops out.

It waits until it has heard enough (a confident tempo and, by default, one pass of the loop), then
comes in on a downbeat; it stops after a configured number of silent bars and comes back when the
player starts again. Pure logic on the stream clock: no audio, no threads.
"""

from __future__ import annotations

from dataclasses import dataclass

from jambox.events import Heard

# Without a recognised loop, come in after this many bars of confident tempo.
BARS_WITHOUT_LOOP = 4


@dataclass
class JoinDecision:
    playing: bool
    join_at: int | None  # stream time of the downbeat the box comes in on (None while waiting)
    changed: str | None  # "joined" | "stopped" | None


def bar_samples(heard: Heard) -> float | None:
    if heard.beat_period is None:
        return None
    return heard.beat_period * heard.meter[0]


def next_downbeat(heard: Heard, after: int) -> int | None:
    """The first downbeat at or after ``after`` on the heard grid."""
    bar = bar_samples(heard)
    anchor = heard.downbeat if heard.downbeat is not None else heard.beat_phase
    if bar is None or anchor is None:
        return None
    k = -(-(after - anchor) // bar)  # ceil
    return int(round(anchor + k * bar))


class JoinPolicy:
    def __init__(self, join_after_loops: int = 1, stop_after_silent_bars: int = 2):
        self.join_after_loops = join_after_loops
        self.stop_after_silent_bars = stop_after_silent_bars
        self.playing = False
        self.join_at: int | None = None
        self._confident_since: int | None = None

    def stop(self) -> None:
        """Stop now (the input ended, or the box was told to); it comes back when the player plays again."""
        self.playing = False
        self.join_at = None
        self._confident_since = None

    def update(self, heard: Heard, now: int, *, enabled: bool = True, join_now: bool = False) -> JoinDecision:
        bar = bar_samples(heard)
        if self.playing:
            silent = heard.last_onset is None or (bar is not None and now - heard.last_onset > self.stop_after_silent_bars * bar)
            if not enabled or silent:
                self.stop()
                return JoinDecision(False, None, "stopped")
            return JoinDecision(True, self.join_at, None)
        if not enabled or heard.tempo_bpm is None or bar is None:
            self._confident_since = None
            return JoinDecision(False, None, None)
        if heard.last_onset is not None and now - heard.last_onset > self.stop_after_silent_bars * bar:
            return JoinDecision(False, None, None)  # tempo is remembered, but the player is silent
        if self._confident_since is None:
            self._confident_since = now
        ready = join_now or self.join_after_loops == 0
        if not ready and heard.loop_bars and heard.loop_start is not None:
            ready = now - heard.loop_start >= self.join_after_loops * heard.loop_bars * bar
        if not ready:
            ready = now - self._confident_since >= BARS_WITHOUT_LOOP * bar
        if not ready:
            return JoinDecision(False, None, None)
        self.join_at = next_downbeat(heard, now)
        if self.join_at is None:
            return JoinDecision(False, None, None)
        self.playing = True
        return JoinDecision(True, self.join_at, "joined")
