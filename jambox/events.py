"""The things that flow between the stages, all timed on one clock: samples of the audio stream.

Sample 0 is the first sample the box heard (the first frame of the input file, or of the live
stream). Every event carries the stream time at which it happens and, where it matters, the stream
time at which the stage that made it knew it (``emitted_at`` / ``planned_at``), so that tests can
check that nothing used look-ahead that live mode would not have.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
DRUM_CHANNEL = 9  # 0-based; "channel 10" in General MIDI terms
PARTS = ("drums", "keys")


@dataclass(frozen=True, slots=True)
class Onset:
    """A bass note has begun; its pitch may not be known yet."""

    time: int  # samples; the detector's delay compensated
    velocity: int  # 1..127, from the onset's loudness
    emitted_at: int  # samples; when the listener knew it


@dataclass(frozen=True, slots=True)
class Note:
    """A pitched bass note. ``offset`` is None while the note still sounds."""

    onset: int
    pitch: int  # MIDI note number
    velocity: int
    emitted_at: int  # when the pitch was known
    offset: int | None = None


@dataclass(frozen=True, slots=True)
class Beat:
    """A beat the listener has placed (a notated beat: a quarter in x/4, an eighth in x/8)."""

    time: int
    position: int  # 0 = downbeat, 1.. within the bar; -1 while the meter is unknown
    emitted_at: int


@dataclass(frozen=True, slots=True)
class Heard:
    """The listener's current picture of what the player is doing. Immutable: swapped whole."""

    sample_rate: int
    tempo_bpm: float | None = None  # notated beats per minute; None until confident
    beat_period: float | None = None  # samples per notated beat
    beat_phase: int | None = None  # stream time of one beat on the grid (the latest placed)
    downbeat: int | None = None  # stream time of one downbeat (bar phase); None if unknown
    meter: tuple[int, int] = (4, 4)
    meter_confidence: float = 0.0
    key_tonic: int | None = None  # pitch class 0..11
    key_mode: str = "major"  # "major" | "minor"
    loop_bars: int | None = None
    loop_start: int | None = None  # stream time where the current riff's loop began
    section_start: int | None = None  # stream time of the latest new riff
    swing: float = 0.5  # share of the beat taken by the first eighth: 0.5 straight, 0.667 triplet
    offset_ms: float = 0.0  # the player's steady offset from the grid; positive = behind the beat
    tempo_confidence: float = 0.0
    last_onset: int | None = None  # stream time of the latest onset heard
    notes: tuple[Note, ...] = field(default=())  # recent notes (the last loop or two)

    @property
    def key_name(self) -> str | None:
        if self.key_tonic is None:
            return None
        return f"{PITCH_CLASSES[self.key_tonic]} {self.key_mode}"


@dataclass(frozen=True, slots=True)
class PlayedNote:
    """A note the box will play: drums or keys, on an exact sample."""

    part: str  # "drums" | "keys"
    time: int  # samples: note-on
    duration: int  # samples until note-off
    pitch: int
    velocity: int  # 1..127
    channel: int  # 0-based MIDI channel; DRUM_CHANNEL for drums
    planned_at: int  # stream time at which the generator decided it
