"""The feel: swing (where the off-beat eighth falls) and the player's steady offset from the grid.

Swing is the median position, within the beat, of the notes between the beats (0.5 straight,
0.667 a triplet feel). The offset is the median timing of the notes on the beats against the grid
the listener predicted for them, in beats (the listener turns it into ms). The grid follows the
player, so a player who is late by the same amount on every note reads as on time: with only the
bass to hear there is no other clock to be late against. What it does show is a player who lays
back (or pushes) against the grid their own playing set up.
"""

from __future__ import annotations

from collections import deque

import numpy as np

HISTORY = 64
OFFBEAT_LOW, OFFBEAT_HIGH = 0.42, 0.71  # an eighth off the beat, straight (0.5) to triplet (0.667), not a 16th at 0.75


class FeelTracker:
    """``add(beat)``: a note's position on the grid in beats (its fraction says where in the beat)."""

    def __init__(self):
        self._offbeats: deque[float] = deque(maxlen=HISTORY)  # position within the beat, 0..1
        self._errors: deque[float] = deque(maxlen=HISTORY)  # beats; on-beat notes against the grid
        self.swing = 0.5
        self.offset_beats = 0.0

    def add(self, beat: float) -> None:
        frac = beat - np.floor(beat)
        if OFFBEAT_LOW <= frac <= OFFBEAT_HIGH:
            self._offbeats.append(frac)
        near = beat - round(beat)
        if abs(near) < 0.1:
            self._errors.append(near)
        if len(self._offbeats) >= 4:
            self.swing = float(np.clip(np.median(self._offbeats), 0.5, 0.75))
        if len(self._errors) >= 4:
            self.offset_beats = float(np.median(self._errors))
