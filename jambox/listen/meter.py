"""Meter, downbeat and loop, from the notes placed on the beat grid.

Each note is kept as a step on the grid (a sixteenth of a beat's four) with its pitch and weight.
Every beat, the recent steps are compared with themselves shifted by L beats: the riff's loop is the
shortest L at which the line repeats. The loop's length in beats, the accents within it (strong,
low notes on a beat) and how often the line moves off the beat decide the meter and where the bar
begins: a bass player states the one.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace

import numpy as np

from jambox.listen.feel import OFFBEAT_HIGH, OFFBEAT_LOW

STEPS = 4  # grid steps per beat
HISTORY_BEATS = 48
MAX_LOOP_BEATS = 16
MIN_SIMILARITY = 0.6
PARTIAL_MATCH = 0.25  # a note a loop later with another pitch: the rhythm repeats, the line does not
SURE_LOOP_SIMILARITY = 0.7  # only a loop heard this clearly can be left for a new riff
NEW_RIFF_SIMILARITY = 0.4  # the last loop matched the one before this badly: a new riff
# beats per bar -> (meter, allowed bars per loop)
METERS = {3: ((3, 4), (1, 2, 4)), 4: ((4, 4), (1, 2, 4)), 5: ((5, 4), (1, 2)), 6: ((6, 8), (1, 2)),
          7: ((7, 8), (1, 2))}
LOOP_LENGTHS = sorted({bpb * bars for bpb, (_, bars_ok) in METERS.items() for bars in bars_ok
                       if bpb * bars <= MAX_LOOP_BEATS})
OFFBEAT_SHARE = 0.3  # more onsets than this off the beat: the beat is a quarter (x/4)
SWUNG_POSITION = 0.56  # their median this late: the line swings (a quarter beat: x/4)
MIN_SWUNG_NOTES = 6
FIRST_NOTE_BONUS = 0.6  # accent units: how much the riff's first note says "this is the one"


@dataclass(frozen=True)
class MeterGuess:
    meter: tuple[int, int]
    confidence: float
    loop_beats: int | None
    loop_bars: int | None
    downbeat_beat: int | None  # a running beat number that is a downbeat
    loop_start_beat: int | None  # running beat number where the current loop began
    new_riff: bool


class MeterTracker:
    def __init__(self):
        # (step, pitch, weight, position within the beat 0..1 before the step rounds it)
        self._steps: deque[tuple[int, int, float, float]] = deque(maxlen=HISTORY_BEATS * STEPS)
        self.guess = MeterGuess((4, 4), 0.0, None, None, None, None, False)
        self._loop_since: int | None = None
        self._floor = -(1 << 40)  # steps before this belong to an earlier riff
        self._section_beat: int | None = None  # running beat number where the current riff began
        self._loop_similarity = 0.0

    def add(self, beat: float, pitch: int, weight: float) -> None:
        self._steps.append((int(round(beat * STEPS)), int(pitch), float(weight), float(beat - np.floor(beat))))

    def revise(self, beat: float, pitch: int) -> None:
        step = int(round(beat * STEPS))
        for i in range(len(self._steps) - 1, -1, -1):
            if self._steps[i][0] == step:
                self._steps[i] = (step, int(pitch), *self._steps[i][2:])
                break

    def reset(self) -> None:
        self._steps.clear()
        self._loop_since = None
        self._floor = -(1 << 40)
        self._section_beat = None

    def update(self, beat_index: int, first_beat: float | None = None) -> MeterGuess:
        """Re-decide after beat ``beat_index`` (running number) has passed."""
        end = beat_index * STEPS
        start = max(end - HISTORY_BEATS * STEPS, self._floor)
        recent = [s for s in self._steps if start <= s[0] < end]
        if len(recent) < 6:
            if self.guess.new_riff:
                self.guess = replace(self.guess, new_riff=False)  # news once
            return self.guess
        n = end - start
        onset = np.zeros(n)
        pitch = np.full(n, -1)
        for step, p, w, _ in recent:
            i = step - start
            onset[i] = max(onset[i], w)
            pitch[i] = p if pitch[i] < 0 else min(pitch[i], p)
        first = min(s[0] for s in recent) - start
        changed = self._new_riff(onset, pitch, first, start)
        if changed is not None:
            return changed
        loop = self._find_loop(onset, pitch, first)
        offbeat = float(np.mean([s[0] % STEPS != 0 for s in recent]))
        if self._swung(recent):
            offbeat = 1.0  # a swung line moves between quarter beats: eighths are never swung in x/8
        start_rot = None
        if first_beat is not None:
            start_rot = int(round(first_beat)) - start // STEPS
        if self._section_beat is not None:
            start_rot = self._section_beat - start // STEPS  # a new riff starts on its one
        bpb, meter, bars, downbeat_rot, conf = self._meter(loop, onset, pitch, first, offbeat, start_rot)
        downbeat_beat = None
        if downbeat_rot is not None:
            downbeat_beat = start // STEPS + downbeat_rot
        loop_start = None
        if loop is not None:
            span = self._loop_span(onset, pitch, first, loop[0])
            begin = start // STEPS + span
            if downbeat_beat is not None:
                begin -= (begin - downbeat_beat) % bpb  # the bar it falls in
            if self._loop_since is None or self.guess.loop_beats != loop[0]:
                self._loop_since = begin
            loop_start = self._loop_since
        self._loop_similarity = loop[1] if loop else 0.0
        self.guess = MeterGuess(meter, conf, loop[0] if loop else None, bars, downbeat_beat, loop_start, False)
        return self.guess

    @staticmethod
    def _swung(recent) -> bool:
        """The notes between the beats sit late, nearer two thirds of the beat than half of it."""
        between = [s[3] for s in recent if OFFBEAT_LOW <= s[3] <= OFFBEAT_HIGH]
        return len(between) >= MIN_SWUNG_NOTES and float(np.median(between)) >= SWUNG_POSITION

    def _new_riff(self, onset, pitch, first, start) -> MeterGuess | None:
        """The last two whole bars both differ from the bars a loop earlier: a new riff began.

        It began at the first of those bars; the history before it is dropped, so the new loop is
        learned from the new riff alone. One odd bar (a fill, a slip) is not a new riff.
        """
        g = self.guess
        if g.loop_beats is None or g.downbeat_beat is None or self._loop_similarity < SURE_LOOP_SIMILARITY:
            return None
        L = g.loop_beats * STEPS
        bar = g.meter[0] * STEPS
        n = len(onset)
        end_bar = n - (start + n - g.downbeat_beat * STEPS) % bar  # the latest bar line
        older, latest = end_bar - 2 * bar, end_bar - bar
        if older - L < first:
            return None

        def differs(b):
            # a bar that matches the loop a beat early or late is the same riff on a grid that
            # slipped a beat (a drifting player), not a new riff
            a = np.arange(b - L, b + bar - L)
            return all(self._match(onset, pitch, a, L + shift) < NEW_RIFF_SIMILARITY
                       for shift in (0, -STEPS, STEPS) if a[-1] + L + shift < n)

        if not (differs(older) and differs(latest)):
            return None
        self._floor = start + older
        self._section_beat = self._floor // STEPS
        self._loop_since = None
        self._loop_similarity = 0.0
        self.guess = MeterGuess(g.meter, g.confidence, None, None, g.downbeat_beat, self._section_beat, True)
        return self.guess

    @staticmethod
    def _similarity(onset, pitch, first, lag_steps, stop=None) -> float:
        """How well the line from ``first`` matches itself ``lag_steps`` later (Dice over notes).

        A note matches one of the same pitch a loop later, give or take a step: a grid that was
        a little off when the note was placed must not break the loop.
        """
        stop = len(onset) if stop is None else stop
        if stop - first < 2 * lag_steps:
            return 0.0
        return MeterTracker._match(onset, pitch, np.arange(first, stop - lag_steps), lag_steps)

    @staticmethod
    def _match(onset, pitch, a, lag_steps) -> float:
        """Dice similarity of the notes at steps ``a`` with those ``lag_steps`` later (a step's grace)."""
        on_a = onset[a] > 0
        on_b = onset[a + lag_steps] > 0
        count = on_a.sum() + on_b.sum()
        if count < 4:
            return 0.0
        same = np.zeros(len(a), bool)
        any_on = np.zeros(len(a), bool)
        for shift in (0, -1, 1):
            j = np.clip(a + lag_steps + shift, 0, len(onset) - 1)
            hit = on_a & (onset[j] > 0)
            any_on |= hit
            same |= hit & (pitch[j] == pitch[a])
        score = same.sum() + PARTIAL_MATCH * (any_on & ~same).sum()
        return float(min(1.0, 2.0 * score / count))

    def _find_loop(self, onset, pitch, first) -> tuple[int, float] | None:
        """The shortest loop length (beats) that a whole number of bars of some meter fills."""
        sims = {}
        for lag in LOOP_LENGTHS:
            if len(onset) - first < 2 * lag * STEPS:
                break
            sims[lag] = self._similarity(onset, pitch, first, lag * STEPS)
        if not sims:
            return None
        best = max(sims.values())
        if best < MIN_SIMILARITY:
            return None
        for lag, s in sims.items():
            if s >= 0.92 * best:
                return lag, s
        return None

    def _loop_span(self, onset, pitch, first, lag_beats) -> int:
        """Beats (from the window start) where the repetition at this lag began."""
        L = lag_beats * STEPS
        pos = len(onset) - L  # the latest whole loop starts here; walk back while loops match
        while pos - L >= first:
            if self._similarity(onset, pitch, pos - L, L, stop=pos + L) < MIN_SIMILARITY:
                break
            pos -= L
        return max(pos, first) // STEPS

    def _meter(self, loop, onset, pitch, first, offbeat, start_rot=None):
        beats = len(onset) // STEPS
        accent = np.zeros(beats)
        valid = pitch >= 0
        low = pitch[valid].min() if valid.any() else 0
        for b in range(first // STEPS, beats):
            i = b * STEPS
            if onset[i] > 0:
                accent[b] = onset[i] + (1.0 if pitch[i] <= low + 2 else 0.0) + 0.3
        if loop is not None:
            L = loop[0]
            cands = []
            for bpb, (meter, bars_ok) in METERS.items():
                if L % bpb == 0 and L // bpb in bars_ok:
                    cands.append((bpb, L // bpb))
        else:
            cands = [(b, None) for b in METERS]
        best = None
        for bpb, bars in cands:
            for rot in range(bpb):
                idx = np.arange(first // STEPS + ((rot - first // STEPS) % bpb), beats, bpb)
                if len(idx) == 0:
                    continue
                on = accent[idx].mean()
                rest = (accent[first // STEPS:].sum() - accent[idx].sum()) / max(1, beats - first // STEPS - len(idx))
                score = on - rest + (0.15 if bpb == 4 else 0.0)
                if start_rot is not None and (start_rot - rot) % bpb == 0:
                    score += FIRST_NOTE_BONUS  # players start a riff on the one
                if best is None or score > best[0]:
                    best = (score, bpb, bars, rot)
        if best is None:
            return 4, (4, 4), None, None, 0.0
        score, bpb, bars, rot = best
        meter = METERS[bpb][0]
        moving = offbeat > OFFBEAT_SHARE  # the line moves between the beats: the beat is a quarter
        if bpb == 6 and moving:
            bpb, meter, bars, rot = 3, (3, 4), (bars * 2 if bars else None), rot % 3
        elif bpb == 3 and not moving and (loop is None or loop[0] % 6 == 0):
            bpb, meter, bars = 6, (6, 8), (bars // 2 if bars else None)
        elif bpb == 7 and moving:
            meter = (7, 4)
        conf = float(np.clip(score / 2.0, 0.0, 1.0))
        return bpb, meter, bars, rot, conf
