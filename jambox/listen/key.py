"""Key (tonic and mode) from the bass notes so far.

The tonic: Krumhansl-Kessler key profiles correlated with the pitch-class weights of the notes,
where a note on a downbeat or at the loop's start counts more (a bass line states the root there)
and the note a riff starts on gets a bonus. The mode: with the tonic chosen, the third above it
(minor or major), then the sixth and the seventh; the profiles decide only when those are silent.

A new riff is a hypothesis, not a new key: the meter calls one when a grid slip or a fill makes two
bars differ from the loop, and the note it then takes for the riff's first is often not its tonic.
So the key heard so far holds, while the new riff's notes are gathered on their own; once there are
enough of them, they either fit the held key (no change: the evidence was one riff all along) or
contradict it (another key fits them clearly better, and they put weight outside the held key's
scale), and then the new riff's notes and its first note decide from there on.
"""

from __future__ import annotations

import numpy as np

MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
DECAY = 0.995  # per note: old notes fade, so a new riff in a new key takes over within a few bars
MIN_WEIGHT = 4.0  # no key before this much evidence
SECTION_KEEP = 0.2  # share of the old evidence kept when a new riff turns out to be in a new key
FIRST_NOTE_BONUS = 0.3  # correlation units for the key whose tonic the riff began on
SECTION_EVIDENCE = 20.0  # weight a new riff needs to be judged (about two bars; a downbeat counts double)
KEY_CHANGE_MARGIN = 0.1  # correlation by which the new riff's own best key must beat the held one
OUT_OF_KEY_SHARE = 0.15  # ... and the share of its notes' weight outside the held key's scale
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10, 11)  # natural minor and the leading tone minor keys borrow


def _profiles() -> np.ndarray:
    rows = []
    for mode in (MAJOR, MINOR):
        for tonic in range(12):
            p = np.roll(mode, tonic)
            rows.append((p - p.mean()) / p.std())
    return np.array(rows)


PROFILES = _profiles()  # 24 x 12: C major .. B major, C minor .. B minor


def key_scores(weights: np.ndarray, first_pc: int | None = None) -> np.ndarray | None:
    """Correlation of ``weights`` with each of the 24 profiles (the riff's first note's keys lifted)."""
    if weights.std() == 0:
        return None
    r = PROFILES @ ((weights - weights.mean()) / weights.std()) / 12.0
    if first_pc is not None:
        r[first_pc] += FIRST_NOTE_BONUS
        r[12 + first_pc] += FIRST_NOTE_BONUS
    return r


class _Evidence:
    """Pitch-class weights that fade note by note, and the pitch class the riff began on."""

    def __init__(self):
        self.weights = np.zeros(12)
        self.total = 0.0
        self.first_pc: int | None = None

    def add(self, pc: int, weight: float) -> None:
        self.weights *= DECAY
        self.total = self.total * DECAY + weight
        self.weights[pc] += weight

    def move(self, old_pc: int, new_pc: int, weight: float) -> None:
        moved = min(weight, self.weights[old_pc])
        self.weights[old_pc] -= moved
        self.weights[new_pc] += moved


class KeyTracker:
    def __init__(self):
        self.tonic: int | None = None
        self.mode = "major"
        self.confidence = 0.0
        self._heard = _Evidence()  # everything, the basis of the answer
        self._new_riff: _Evidence | None = None  # a riff that may be in a new key, on its own

    def start_section(self, pitch: int) -> None:
        """The first note after a silence, or of a new riff: a riff usually starts on its tonic."""
        (self._new_riff or self._heard).first_pc = pitch % 12

    def new_section(self) -> None:
        """A new riff began: gather its notes apart until they show whether the key changed."""
        if self.tonic is None:  # nothing held yet: start over
            self._heard.weights *= SECTION_KEEP
            self._heard.total *= SECTION_KEEP
            self._heard.first_pc = None
            return
        if self._new_riff is None:  # a second call before the first was judged: the same riff
            self._new_riff = _Evidence()

    def revise(self, old: int, new: int, weight: float) -> None:
        """A note's pitch was corrected: move its weight."""
        self._heard.move(old % 12, new % 12, weight)
        if self._new_riff is not None:
            self._new_riff.move(old % 12, new % 12, weight)
        self._decide()

    def add(self, pitch: int, weight: float) -> None:
        self._heard.add(pitch % 12, weight)
        if self._new_riff is not None:
            self._new_riff.add(pitch % 12, weight)
        self._decide()

    def _judge_new_riff(self) -> None:
        """Enough of the new riff heard: does it contradict the held key? Its first note is left
        out of that test (it is where the meter put the riff's start, and may be any note)."""
        riff = self._new_riff
        if riff is None or riff.total < SECTION_EVIDENCE:
            return
        self._new_riff = None
        r = key_scores(riff.weights)
        if r is None:
            return
        held = self.tonic if self.mode == "major" else 12 + self.tonic
        scale = [(self.tonic + d) % 12 for d in (MAJOR_SCALE if self.mode == "major" else MINOR_SCALE)]
        outside = 1.0 - riff.weights[scale].sum() / max(riff.weights.sum(), 1e-9)
        if r[held] < r.max() - KEY_CHANGE_MARGIN and outside >= OUT_OF_KEY_SHARE:  # a new key
            riff.weights += SECTION_KEEP * self._heard.weights
            riff.total += SECTION_KEEP * self._heard.total
            self._heard = riff

    def _decide(self) -> None:
        self._judge_new_riff()
        if self._new_riff is not None:
            return  # the held key stands until the new riff is judged
        heard = self._heard
        if heard.total < MIN_WEIGHT:
            return
        r = key_scores(heard.weights, heard.first_pc)
        if r is None:
            return
        best = int(np.argmax(r))
        self.tonic = t = best % 12
        self.mode = "major" if best < 12 else "minor"
        # with the tonic chosen, the third decides the mode (then the sixth and the seventh)
        w = heard.weights
        minor = w[(t + 3) % 12] + 0.5 * (w[(t + 8) % 12] + w[(t + 10) % 12])
        major = w[(t + 4) % 12] + 0.5 * (w[(t + 9) % 12] + w[(t + 11) % 12])
        if abs(minor - major) > 0.1 * (minor + major) and minor + major > 0:
            self.mode = "minor" if minor > major else "major"
        self.confidence = float(r[t if self.mode == "major" else 12 + t])
