"""The feel: swing (where the off-beat eighth falls) and the player's steady offset from the grid."""

from __future__ import annotations

from collections import deque

import numpy as np

HISTORY = 64


class FeelTracker:
    def __init__(self):
        self._offbeats: deque[float] = deque(maxlen=HISTORY)  # position within the beat, 0..1
        self._errors: deque[float] = deque(maxlen=HISTORY)  # beats; on-beat notes against the grid
        self.swing = 0.5
        self.offset_beats = 0.0

    def add(self, beat: float) -> None:
        frac = beat - np.floor(beat)
        if 0.4 <= frac <= 0.74:
            self._offbeats.append(frac)
        near = beat - round(beat)
        if abs(near) < 0.1:
            self._errors.append(near)
        if len(self._offbeats) >= 4:
            self.swing = float(np.clip(np.median(self._offbeats), 0.5, 0.75))
        if len(self._errors) >= 4:
            self.offset_beats = float(np.median(self._errors))
