"""Key (tonic and mode) from the bass notes so far.

The tonic: Krumhansl-Kessler key profiles correlated with the pitch-class weights of the notes,
where a note on a downbeat or at the loop's start counts more (a bass line states the root there)
and the note a riff starts on gets a bonus. The mode: with the tonic chosen, the third above it
(minor or major), then the sixth and the seventh; the profiles decide only when those are silent.
"""

from __future__ import annotations

import numpy as np

MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
DECAY = 0.995  # per note: old notes fade, so a new riff in a new key takes over within a few bars
MIN_WEIGHT = 4.0
SECTION_KEEP = 0.2  # share of the old evidence kept when a new riff starts
FIRST_NOTE_BONUS = 0.3  # correlation units for the key whose tonic the riff began on  # no key before this much evidence


def _profiles() -> np.ndarray:
    rows = []
    for mode in (MAJOR, MINOR):
        for tonic in range(12):
            p = np.roll(mode, tonic)
            rows.append((p - p.mean()) / p.std())
    return np.array(rows)  # 24 x 12: C major .. B major, C minor .. B minor


PROFILES = _profiles()


class KeyTracker:
    def __init__(self):
        self.weights = np.zeros(12)
        self.total = 0.0
        self.tonic: int | None = None
        self.mode = "major"
        self.confidence = 0.0
        self._first_pc: int | None = None

    def start_section(self, pitch: int) -> None:
        """The first note after a silence: a riff usually starts on its tonic."""
        self._first_pc = pitch % 12

    def new_section(self) -> None:
        """A new riff: what came before says less about the key from now on."""
        self.weights *= SECTION_KEEP
        self.total *= SECTION_KEEP
        self._first_pc = None

    def revise(self, old: int, new: int, weight: float) -> None:
        """A note's pitch was corrected: move its weight."""
        self.weights[old % 12] = max(0.0, self.weights[old % 12] - weight)
        self.weights[new % 12] += weight
        self._decide()

    def add(self, pitch: int, weight: float) -> None:
        self.weights *= DECAY
        self.total = self.total * DECAY + weight
        self.weights[pitch % 12] += weight
        self._decide()

    def _decide(self) -> None:
        if self.total < MIN_WEIGHT:
            return
        w = self.weights
        if w.std() == 0:
            return
        z = (w - w.mean()) / w.std()
        r = PROFILES @ z / 12.0
        if self._first_pc is not None:
            r[self._first_pc] += FIRST_NOTE_BONUS
            r[12 + self._first_pc] += FIRST_NOTE_BONUS
        best = int(np.argmax(r))
        self.tonic = t = best % 12
        self.mode = "major" if best < 12 else "minor"
        # with the tonic chosen, the third decides the mode (then the sixth and the seventh)
        minor = w[(t + 3) % 12] + 0.5 * (w[(t + 8) % 12] + w[(t + 10) % 12])
        major = w[(t + 4) % 12] + 0.5 * (w[(t + 9) % 12] + w[(t + 11) % 12])
        if abs(minor - major) > 0.1 * (minor + major) and minor + major > 0:
            self.mode = "minor" if minor > major else "major"
        self.confidence = float(r[t if self.mode == "major" else 12 + t])
