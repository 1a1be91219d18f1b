"""What the session tells the generator: the controls as they stand now. Immutable; swapped whole."""

from __future__ import annotations

from dataclasses import dataclass, field

# Voices the generator plays and the session can pull back one by one.
DRUM_VOICES = ("kick", "snare", "hihat", "tom", "crash", "ride", "perc")
VOICES = DRUM_VOICES + ("keys",)


@dataclass(frozen=True, slots=True)
class ControlState:
    energy: float = 0.6
    dissonance: float = 0.2
    surprise: float = 0.3
    level: float = 0.8  # the whole accompaniment
    drums_level: float = 0.8
    keys_level: float = 0.7
    hold_tension: bool = False  # MORE DISSONANCE holds tension unresolved until RESOLVE
    voice_levels: tuple[tuple[str, float], ...] = field(default=())  # per-voice trims from SOFTER, 0..1
    taste: tuple[float, ...] = field(default=())  # taste vector from memory (generator conditioning)
    playing: bool = True  # the foot-switch can stop the accompaniment
    join_now: bool = False  # come in at the next downbeat without waiting for a loop

    def voice_level(self, voice: str) -> float:
        for name, level in self.voice_levels:
            if name == voice:
                return level
        return 1.0
