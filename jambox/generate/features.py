"""The model contract: what one generator step reads and what it answers.

This module is the single source of truth shared by training (:mod:`jambox.train`) and the runtime
generator (:mod:`jambox.generate.generator`). Changing the meaning of any column changes the model:
retrain and re-export, and say so in the commit message.

One step is a 16th note, in every meter (x/8 meters too). The notated beat is a quarter in x/4 and
an eighth in x/8, so ``steps_per_beat`` is 4 or 2. The model file holds two recurrent step nets that
are stepped together in one call and share the step clock and the bass input:

- the DRUM net (trained on the Groove MIDI Dataset, Tap2Drum style) answers a rhythm: in training the
  drummer's own onsets collapsed to one voice (or only the low hits: kick, or kick and snare); at run
  time the bass player's onsets;
- the HARMONY net (trained on POP909) answers the bass line (the piano's lowest voice) with a chord
  per step and the keys' comping rhythm and voicing (from the piano's other notes).

Inputs for step t describe step t (position, the bass heard or expected at t, the controls) plus the
outputs *played* at step t-1 (fed back autoregressively; teacher-forced in training). The outputs are
the prediction for step t. Semantics of the outputs, for the sampler:

- ``drum_hit_logits[9]``: independent Bernoulli logits, one per :data:`DRUM_VOICES` voice (several
  voices may hit on the same step); ``sigmoid`` gives the probability.
- ``drum_velocity[9]`` in 0..1 (velocity / 127) and ``drum_offset[9]`` in steps (-0.5..0.5, positive =
  late): what the voice would play *if* it hits (trained only on steps where it hits).
- ``chord_logits[N_CHORDS]``: a categorical over :func:`chord_index` (key-relative; 0 = no chord) for
  the chord sounding at step t. Chords change rarely: most steps repeat the previous chord.
- ``keys_hit_logit[1]``: Bernoulli logit of a keys (comping) attack at step t;
  ``keys_velocity[1]`` in 0..1 its velocity if it attacks.
- ``voicing_logits[N_VOICINGS]``: a categorical over :data:`VOICINGS` for an attack at step t
  (trained only on attack steps).

What to feed back at step t+1 (``prev_*`` columns): the hits actually played at t (0/1), their velocity
(0..1, 0 where no hit) and offset (steps, 0 where no hit); the chord chosen at t (one-hot; the chord
holds between attacks); the voicing of the latest keys attack (one-hot, held); whether keys attacked
at t and its velocity.

The control columns mean measurable things about the bar being played, because training computes
them from the target bar in hindsight (see :func:`drum_bar_controls` and :func:`harm_bar_controls`).
All are 0..1. At run time: energy and dissonance come from the knobs, syncopation, busyness and
keys_density from the taste vector, fill from suggestions (1.0 during the bar before a change).

Everything at run time fills preallocated float32 arrays in place (:func:`encode_drum_step`,
:func:`encode_harm_step`); training builds whole sequences with the vectorised
:func:`encode_drum_sequence` / :func:`encode_harm_sequence`, which write the same columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from jambox.errors import ValueRangeError

# -- names of the model's inputs and outputs (ONNX and TFLite alike) ------------------------------
INPUT_NAMES = ("drum_x", "harm_x", "drum_h", "harm_h")
OUTPUT_NAMES = (
    "drum_hit_logits",
    "drum_velocity",
    "drum_offset",
    "chord_logits",
    "voicing_logits",
    "keys_hit_logit",
    "keys_velocity",
    "drum_h_out",
    "harm_h_out",
)

# -- drums ----------------------------------------------------------------------------------------
DRUM_VOICES = ("kick", "snare", "closed_hat", "open_hat", "low_tom", "mid_tom", "high_tom", "crash", "ride")
DRUM_PITCHES = (36, 38, 42, 46, 45, 47, 50, 49, 51)  # General MIDI, channel 10
N_DRUMS = len(DRUM_VOICES)
KICK, SNARE, CLOSED_HAT, OPEN_HAT, LOW_TOM, MID_TOM, HIGH_TOM, CRASH, RIDE = range(N_DRUMS)
TIME_KEEPERS = (CLOSED_HAT, OPEN_HAT, RIDE)  # "busyness" counts these
TOMS = (LOW_TOM, MID_TOM, HIGH_TOM)

# Magenta's 9-class drum mapping (note_seq drums_encoder_decoder.DEFAULT_DRUM_TYPE_PITCHES), which
# covers all 22 pitches the Groove MIDI Dataset uses: GM pitch -> index into DRUM_VOICES.
_VOICE_PITCH_CLASSES = (
    (36, 35),
    (38, 27, 28, 31, 32, 33, 34, 37, 39, 40, 56, 65, 66, 75, 85),
    (42, 44, 54, 68, 69, 70, 71, 73, 78, 80, 22),
    (46, 67, 72, 74, 79, 81, 26),
    (45, 29, 41, 43, 61, 64, 84),
    (48, 47, 60, 63, 77, 86, 87),
    (50, 30, 62, 76, 83),
    (49, 52, 55, 57, 58),
    (51, 53, 59, 82),
)
GROOVE_PITCH_MAP: dict[int, int] = {p: v for v, ps in enumerate(_VOICE_PITCH_CLASSES) for p in ps}

# -- harmony --------------------------------------------------------------------------------------
CHORD_QUALITIES = ("maj", "min", "dom7", "maj7", "min7", "dim", "sus")
QUALITY_INTERVALS = {
    "maj": (0, 4, 7),
    "min": (0, 3, 7),
    "dom7": (0, 4, 7, 10),
    "maj7": (0, 4, 7, 11),
    "min7": (0, 3, 7, 10),
    "dim": (0, 3, 6),
    "sus": (0, 5, 7),
}
# POP909 / Harte quality labels -> one of CHORD_QUALITIES (the nearest by function).
LABEL_QUALITIES = {
    "maj": "maj", "maj6": "maj", "aug": "maj", "": "maj", "5": "maj", "1": "maj",
    "min": "min", "min6": "min", "minmaj7": "min",
    "7": "dom7", "9": "dom7", "11": "dom7", "13": "dom7",
    "maj7": "maj7", "maj9": "maj7",
    "min7": "min7", "min9": "min7", "min11": "min7",
    "dim": "dim", "dim7": "dim", "hdim7": "dim",
    "sus2": "sus", "sus4": "sus", "sus4(b7)": "sus", "7sus4": "sus",
}
N_QUALITIES = len(CHORD_QUALITIES)
N_CHORDS = 1 + 12 * N_QUALITIES  # 0 = no chord ("N")
NO_CHORD = 0

# Tension of a quality by itself (0 = consonant triad .. 1 = diminished); see chord_tension().
QUALITY_TENSION = {"maj": 0.0, "min": 0.0, "maj7": 0.5, "min7": 0.4, "dom7": 0.7, "sus": 0.5, "dim": 1.0}
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10, 11)  # natural minor plus the leading tone (harmonic minor's 7th)

# A keys attack's voicing, from the piano notes above the bass voice sounding at the attack:
# "root"/"first"/"second" = close position (span <= 12 semitones) with the chord's root / third /
# fifth (or any other tone) lowest; "open" = spread wider than an octave. The runtime realises them
# around middle C (B2's voicing), e.g. C maj: root = C4 E4 G4, first = E4 G4 C5, second = G3 C4 E4,
# open = C3 G3 E4.
VOICINGS = ("root", "first", "second", "open")
N_VOICINGS = len(VOICINGS)
ROOT_POSITION, FIRST_INVERSION, SECOND_INVERSION, OPEN = range(N_VOICINGS)

PITCH_NAMES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def parse_pitch_class(name: str) -> int:
    """'C' -> 0, 'F#' -> 6, 'Bb' -> 10, 'Cb' -> 11."""
    if not name or name[0] not in PITCH_NAMES:
        raise ValueRangeError(f"pitch name must be a letter A-G with optional #/b, not {name!r}")
    pc = PITCH_NAMES[name[0]]
    for ch in name[1:]:
        if ch == "#":
            pc += 1
        elif ch == "b":
            pc -= 1
        else:
            raise ValueRangeError(f"pitch name must be a letter A-G with optional #/b, not {name!r}")
    return pc % 12


def parse_chord_label(label: str) -> tuple[int, int, int | None] | None:
    """A POP909 chord label -> (root pitch class, quality index, bass pitch class or None); None for 'N'.

    'B:maj' -> (11, maj, None); 'E:min7/b7' -> (4, min7, 2); 'C:sus4(b7)' -> (0, sus, None).
    Raises ValueRangeError for a label it cannot read, naming it.
    """
    label = label.strip()
    if label in ("N", "X", ""):
        return None
    root_name, _, rest = label.partition(":")
    root = parse_pitch_class(root_name)
    quality, _, bass = rest.partition("/")
    if quality not in LABEL_QUALITIES:
        raise ValueRangeError(
            f"chord quality must be one of {sorted(LABEL_QUALITIES)}, not {quality!r} (in {label!r})"
        )
    q = CHORD_QUALITIES.index(LABEL_QUALITIES[quality])
    bass_pc = None
    if bass:
        bass_pc = (root + _degree_semitones(bass)) % 12
    return root, q, bass_pc


_DEGREES = {"1": 0, "2": 2, "3": 4, "4": 5, "5": 7, "6": 9, "7": 11, "9": 2, "11": 5, "13": 9}


def _degree_semitones(degree: str) -> int:
    shift = 0
    while degree and degree[0] in "b#":
        shift += -1 if degree[0] == "b" else 1
        degree = degree[1:]
    if degree not in _DEGREES:
        raise ValueRangeError(f"chord bass degree must be like 3, b7 or #5, not {degree!r}")
    return _DEGREES[degree] + shift


def chord_index(root_rel: int, quality: int) -> int:
    """Chord token: 1 + root_rel * len(CHORD_QUALITIES) + quality (root relative to the key tonic)."""
    if not 0 <= quality < N_QUALITIES:
        raise ValueRangeError(f"chord quality index must be in 0..{N_QUALITIES - 1}, not {quality}")
    return 1 + (root_rel % 12) * N_QUALITIES + quality


def chord_from_index(index: int) -> tuple[int, int] | None:
    """Inverse of :func:`chord_index`: (root_rel, quality index), or None for 0 (no chord)."""
    if not 0 <= index < N_CHORDS:
        raise ValueRangeError(f"chord index must be in 0..{N_CHORDS - 1}, not {index}")
    if index == NO_CHORD:
        return None
    return divmod(index - 1, N_QUALITIES)


def chord_pitch_classes(index: int) -> tuple[int, ...]:
    """Key-relative pitch classes of a chord token's tones (root first); () for no chord."""
    rq = chord_from_index(index)
    if rq is None:
        return ()
    root, q = rq
    return tuple((root + i) % 12 for i in QUALITY_INTERVALS[CHORD_QUALITIES[q]])


def chord_tension(index: int, minor: bool, bass_pc_rel: int | None = None) -> float:
    """How tense a chord is against the key and the bass, 0..1 (the "dissonance" measure).

    0.4 x the share of chord tones outside the key's scale + 0.3 x the quality's own tension
    (:data:`QUALITY_TENSION`) + 0.3 if the bass pitch class (key-relative) is not a chord tone.
    No chord has tension 0. The runtime's dissonance knob asks for bars whose mean is high.
    """
    return float(TENSION_TABLE[index, int(bool(minor)), 12 if bass_pc_rel is None else bass_pc_rel % 12])


def _tension(index: int, minor: bool, bass: int | None) -> float:
    tones = chord_pitch_classes(index)
    if not tones:
        return 0.0
    scale = MINOR_SCALE if minor else MAJOR_SCALE
    outside = sum(t not in scale for t in tones) / len(tones)
    q = CHORD_QUALITIES[chord_from_index(index)[1]]
    t = 0.4 * outside + 0.3 * QUALITY_TENSION[q]
    if bass is not None and bass not in tones:
        t += 0.3
    return t


# [chord, minor, bass pc 0..11 or 12 = unknown] -> tension; a lookup so the runtime never computes it.
TENSION_TABLE = np.array(
    [[[_tension(c, bool(m), None if b == 12 else b) for b in range(13)] for m in range(2)] for c in range(N_CHORDS)],
    dtype=np.float32,
)
# Bar dissonance = mean step tension / DISSONANCE_SCALE, clipped to 1: half of POP909's bars have
# tension 0 and only one in twenty averages above 0.3, so the knob's top asks for the tensest bars.
DISSONANCE_SCALE = 0.3


def classify_voicing(pitches, root_pc: int, quality: int) -> int:
    """Which of :data:`VOICINGS` a set of sounding piano pitches (above the bass voice) is."""
    pitches = sorted(pitches)
    if not pitches:
        return ROOT_POSITION
    if pitches[-1] - pitches[0] > 12:
        return OPEN
    lowest = (pitches[0] - root_pc) % 12
    intervals = QUALITY_INTERVALS[CHORD_QUALITIES[quality]]
    if lowest == intervals[0]:
        return ROOT_POSITION
    if lowest == intervals[1]:
        return FIRST_INVERSION
    return SECOND_INVERSION


# -- meters and position --------------------------------------------------------------------------
MAX_BEATS = 8  # beat-in-bar one-hot width (beats past the 8th share the last column)
BAR_NORM = 32.0  # steps: bar length and steps-to-bar-end are divided by this


@dataclass(frozen=True)
class Meter:
    """A meter as the step grid sees it. ``groups`` are the beat groups (7/8 = 2+2+3 eighths)."""

    numerator: int
    denominator: int
    groups: tuple[int, ...]

    @property
    def steps_per_beat(self) -> int:
        return 16 // self.denominator

    @property
    def bar_steps(self) -> int:
        return self.numerator * self.steps_per_beat

    @property
    def name(self) -> str:
        return f"{self.numerator}/{self.denominator}"

    def position_table(self) -> np.ndarray:
        """[bar_steps, N_POS] position columns without tempo and swing (computed once per meter)."""
        return _position_table(self)


_GROUPS = {
    (2, 4): (1, 1), (3, 4): (1, 1, 1), (4, 4): (1, 1, 1, 1), (5, 4): (1, 1, 1, 1, 1),
    (6, 4): (1,) * 6, (7, 4): (1,) * 7,
    (5, 8): (3, 2), (6, 8): (3, 3), (7, 8): (2, 2, 3), (9, 8): (3, 3, 3), (12, 8): (3, 3, 3, 3),
}
METERS = tuple(f"{n}/{d}" for n, d in _GROUPS)


def meter_for(numerator: int, denominator: int, groups: tuple[int, ...] | None = None) -> Meter:
    """The Meter for a time signature jambox plays; ValueRangeError for others (naming them)."""
    if (numerator, denominator) not in _GROUPS:
        raise ValueRangeError(f"meter must be one of {', '.join(METERS)}, not {numerator}/{denominator}")
    g = groups or _GROUPS[(numerator, denominator)]
    if sum(g) != numerator:
        raise ValueRangeError(f"beat groups {g} must add up to {numerator} for {numerator}/{denominator}")
    return Meter(numerator, denominator, tuple(g))


# Position columns (N_POS wide), the same in both nets.
POS_STEP_IN_BEAT = slice(0, 4)  # one-hot, step within the notated beat (only 0..1 used in x/8)
POS_BEAT_IN_BAR = slice(4, 4 + MAX_BEATS)  # one-hot
POS_DOWNBEAT = 12  # 1 on the bar's first step
POS_GROUP_START = 13  # 1 on the first step of a beat group (each beat in x/4; 2+2+3 in 7/8)
POS_TO_BAR_END = 14  # (bar_steps - 1 - step_in_bar) / BAR_NORM
POS_BAR_LEN = 15  # bar_steps / BAR_NORM
POS_EIGHTHS = 16  # 1 in x/8 meters (steps_per_beat 2)
POS_LAST_BEAT = 17  # 1 within the bar's last notated beat
POS_TEMPO = 18  # (bpm - 120) / 60, clipped to -1.5..1.5 (bpm of the notated beat)
POS_SWING = 19  # (swing - 0.5) * 6, clipped to 0..1.5; swing = share of the beat the first eighth takes
N_POS = 20


@lru_cache(maxsize=None)
def _position_table(meter: Meter) -> np.ndarray:
    spb = meter.steps_per_beat
    n = meter.bar_steps
    table = np.zeros((n, N_POS), dtype=np.float32)
    group_starts = set()
    beat = 0
    for g in meter.groups:
        group_starts.add(beat * spb)
        beat += g
    for s in range(n):
        b, sib = divmod(s, spb)
        table[s, POS_STEP_IN_BEAT.start + sib] = 1.0
        table[s, POS_BEAT_IN_BAR.start + min(b, MAX_BEATS - 1)] = 1.0
        table[s, POS_DOWNBEAT] = float(s == 0)
        table[s, POS_GROUP_START] = float(s in group_starts)
        table[s, POS_TO_BAR_END] = (n - 1 - s) / BAR_NORM
        table[s, POS_BAR_LEN] = n / BAR_NORM
        table[s, POS_EIGHTHS] = float(spb == 2)
        table[s, POS_LAST_BEAT] = float(b == meter.numerator - 1)
    table.setflags(write=False)
    return table


def tempo_feature(bpm: float) -> float:
    return float(min(1.5, max(-1.5, (bpm - 120.0) / 60.0)))


def swing_feature(swing: float) -> float:
    return float(min(1.5, max(0.0, (swing - 0.5) * 6.0)))


# -- drum net input columns (DRUM_IN wide) --------------------------------------------------------
D_POS = slice(0, N_POS)
D_BASS_ONSET = 20  # 1 if the bass (rhythm) has an onset at this step
D_BASS_VELOCITY = 21  # its velocity / 127 (0 without onset)
D_BASS_OFFSET = 22  # its micro-offset in steps (-0.5..0.5, positive = late)
D_BASS_KNOWN = 23  # 0 when the runtime neither heard nor can predict the bass here (then 20..22 and 24 are 0)
D_BASS_NEXT = 24  # 1 if an onset is expected at the NEXT step (from the loop)
D_ENERGY = 25
D_SYNCOPATION = 26
D_BUSYNESS = 27
D_FILL = 28
D_PREV_HIT = slice(29, 29 + N_DRUMS)  # what was played at t-1: 0/1 per voice
D_PREV_VELOCITY = slice(38, 38 + N_DRUMS)  # 0..1, 0 where no hit
D_PREV_OFFSET = slice(47, 47 + N_DRUMS)  # steps, 0 where no hit
DRUM_IN = 56

# -- harmony net input columns (HARM_IN wide) -----------------------------------------------------
H_POS = slice(0, N_POS)
H_BASS_ONSET = 20
H_BASS_VELOCITY = 21
H_BASS_KNOWN = 22  # 0 when the bass is unknown here (then the other bass columns are 0)
H_BASS_NEXT = 23
H_BASS_PC = slice(24, 36)  # one-hot pitch class of the bass note sounding at this step, key-relative
H_MINOR = 36  # 1 in a minor key
H_DISSONANCE = 37
H_KEYS_DENSITY = 38
H_ENERGY = 39
H_PREV_CHORD = slice(40, 40 + N_CHORDS)  # one-hot chord chosen at t-1
H_PREV_VOICING = slice(40 + N_CHORDS, 40 + N_CHORDS + N_VOICINGS)  # one-hot voicing of the latest attack
H_PREV_KEYS_HIT = 40 + N_CHORDS + N_VOICINGS
H_PREV_KEYS_VELOCITY = H_PREV_KEYS_HIT + 1
HARM_IN = H_PREV_KEYS_VELOCITY + 1

# Recurrent state sizes of the shipped model (the model file is the authority: StepModel checks).
DRUM_H = 128
HARM_H = 128


def _check(out: np.ndarray, width: int, what: str) -> None:
    if out.shape[-1] != width or out.dtype != np.float32:
        raise ValueRangeError(f"{what} must be float32 with last dimension {width}, not {out.dtype} {out.shape}")


def encode_drum_step(
    out: np.ndarray,
    meter: Meter,
    step_in_bar: int,
    tempo_bpm: float,
    swing: float,
    bass_onset: bool,
    bass_velocity: float,
    bass_offset: float,
    bass_known: bool,
    bass_next: bool,
    energy: float,
    syncopation: float,
    busyness: float,
    fill: float,
    prev_hit: np.ndarray,
    prev_velocity: np.ndarray,
    prev_offset: np.ndarray,
) -> np.ndarray:
    """Fill ``out`` (float32, last dim DRUM_IN, e.g. shape [1, DRUM_IN]) in place; returns it.

    ``bass_velocity`` is 0..1; ``prev_*`` are arrays of N_DRUMS. Allocates nothing.
    """
    row = out.reshape(-1)
    row[D_POS] = _position_table(meter)[step_in_bar % meter.bar_steps]
    row[POS_TEMPO] = tempo_feature(tempo_bpm)
    row[POS_SWING] = swing_feature(swing)
    if bass_known:
        row[D_BASS_ONSET] = 1.0 if bass_onset else 0.0
        row[D_BASS_VELOCITY] = bass_velocity if bass_onset else 0.0
        row[D_BASS_OFFSET] = bass_offset if bass_onset else 0.0
        row[D_BASS_KNOWN] = 1.0
        row[D_BASS_NEXT] = 1.0 if bass_next else 0.0
    else:
        row[D_BASS_ONSET:D_BASS_NEXT + 1] = 0.0
    row[D_ENERGY] = energy
    row[D_SYNCOPATION] = syncopation
    row[D_BUSYNESS] = busyness
    row[D_FILL] = fill
    row[D_PREV_HIT] = prev_hit
    row[D_PREV_VELOCITY] = prev_velocity
    row[D_PREV_OFFSET] = prev_offset
    return out


def encode_harm_step(
    out: np.ndarray,
    meter: Meter,
    step_in_bar: int,
    tempo_bpm: float,
    swing: float,
    bass_onset: bool,
    bass_velocity: float,
    bass_known: bool,
    bass_next: bool,
    bass_pc_rel: int | None,
    minor: bool,
    dissonance: float,
    keys_density: float,
    energy: float,
    prev_chord: int,
    prev_voicing: int,
    prev_keys_hit: bool,
    prev_keys_velocity: float,
) -> np.ndarray:
    """Fill ``out`` (float32, last dim HARM_IN) in place; returns it.

    ``bass_pc_rel`` is the sounding bass note's pitch class relative to the key tonic (None when not
    known: an onset heard before its pitch, or silence). Allocates nothing.
    """
    row = out.reshape(-1)
    row[H_POS] = _position_table(meter)[step_in_bar % meter.bar_steps]
    row[POS_TEMPO] = tempo_feature(tempo_bpm)
    row[POS_SWING] = swing_feature(swing)
    row[H_BASS_ONSET:H_BASS_PC.stop] = 0.0
    if bass_known:
        row[H_BASS_ONSET] = 1.0 if bass_onset else 0.0
        row[H_BASS_VELOCITY] = bass_velocity if bass_onset else 0.0
        row[H_BASS_KNOWN] = 1.0
        row[H_BASS_NEXT] = 1.0 if bass_next else 0.0
        if bass_pc_rel is not None:
            row[H_BASS_PC.start + bass_pc_rel % 12] = 1.0
    row[H_MINOR] = 1.0 if minor else 0.0
    row[H_DISSONANCE] = dissonance
    row[H_KEYS_DENSITY] = keys_density
    row[H_ENERGY] = energy
    row[H_PREV_CHORD] = 0.0
    row[H_PREV_CHORD.start + prev_chord] = 1.0
    row[H_PREV_VOICING] = 0.0
    row[H_PREV_VOICING.start + prev_voicing] = 1.0
    row[H_PREV_KEYS_HIT] = 1.0 if prev_keys_hit else 0.0
    row[H_PREV_KEYS_VELOCITY] = prev_keys_velocity if prev_keys_hit else 0.0
    return out


def _shift(a: np.ndarray) -> np.ndarray:
    """The previous step's values (zeros before the first step)."""
    out = np.zeros_like(a)
    out[1:] = a[:-1]
    return out


def position_columns(meter: Meter, step_in_bar: np.ndarray, tempo_bpm, swing) -> np.ndarray:
    """[T, N_POS] position columns for a sequence (vectorised; same values as the step encoders)."""
    pos = _position_table(meter)[np.asarray(step_in_bar) % meter.bar_steps].copy()
    pos[:, POS_TEMPO] = np.clip((np.asarray(tempo_bpm, dtype=np.float32) - 120.0) / 60.0, -1.5, 1.5)
    pos[:, POS_SWING] = np.clip((np.asarray(swing, dtype=np.float32) - 0.5) * 6.0, 0.0, 1.5)
    return pos


def encode_drum_sequence(
    meter: Meter,
    step_in_bar: np.ndarray,
    tempo_bpm,
    swing,
    bass_onset: np.ndarray,
    bass_velocity: np.ndarray,
    bass_offset: np.ndarray,
    bass_known: np.ndarray,
    controls: np.ndarray,
    hits: np.ndarray,
    velocity: np.ndarray,
    offset: np.ndarray,
) -> np.ndarray:
    """[T, DRUM_IN] teacher-forced inputs for a whole sequence.

    ``controls`` is [T, 4] (energy, syncopation, busyness, fill); ``hits``/``velocity``/``offset``
    are the [T, N_DRUMS] targets, shifted here to become the ``prev_*`` columns. ``bass_next`` is
    the next step's onset where the next step is known.
    """
    t = len(step_in_bar)
    x = np.zeros((t, DRUM_IN), dtype=np.float32)
    x[:, D_POS] = position_columns(meter, step_in_bar, tempo_bpm, swing)
    known = np.asarray(bass_known, dtype=np.float32)
    onset = np.asarray(bass_onset, dtype=np.float32) * known
    x[:, D_BASS_ONSET] = onset
    x[:, D_BASS_VELOCITY] = np.asarray(bass_velocity, dtype=np.float32) * onset
    x[:, D_BASS_OFFSET] = np.asarray(bass_offset, dtype=np.float32) * onset
    x[:, D_BASS_KNOWN] = known
    nxt = np.zeros(t, dtype=np.float32)
    nxt[:-1] = np.asarray(bass_onset, dtype=np.float32)[1:]
    x[:, D_BASS_NEXT] = nxt * known
    x[:, D_ENERGY:D_FILL + 1] = controls
    hits = np.asarray(hits, dtype=np.float32)
    x[:, D_PREV_HIT] = _shift(hits)
    x[:, D_PREV_VELOCITY] = _shift(np.asarray(velocity, dtype=np.float32) * hits)
    x[:, D_PREV_OFFSET] = _shift(np.asarray(offset, dtype=np.float32) * hits)
    return x


def encode_harm_sequence(
    meter: Meter,
    step_in_bar: np.ndarray,
    tempo_bpm,
    swing,
    bass_onset: np.ndarray,
    bass_velocity: np.ndarray,
    bass_known: np.ndarray,
    bass_pc_rel: np.ndarray,
    minor: np.ndarray,
    controls: np.ndarray,
    chords: np.ndarray,
    voicings: np.ndarray,
    keys_hit: np.ndarray,
    keys_velocity: np.ndarray,
) -> np.ndarray:
    """[T, HARM_IN] teacher-forced inputs for a whole sequence.

    ``bass_pc_rel`` is -1 where no bass note sounds; ``controls`` is [T, 3] (dissonance,
    keys_density, energy); ``chords``, ``voicings`` (the held voicing of the latest attack),
    ``keys_hit`` and ``keys_velocity`` are the targets, shifted here into the ``prev_*`` columns.
    """
    t = len(step_in_bar)
    x = np.zeros((t, HARM_IN), dtype=np.float32)
    x[:, H_POS] = position_columns(meter, step_in_bar, tempo_bpm, swing)
    known = np.asarray(bass_known, dtype=np.float32)
    onset = np.asarray(bass_onset, dtype=np.float32) * known
    x[:, H_BASS_ONSET] = onset
    x[:, H_BASS_VELOCITY] = np.asarray(bass_velocity, dtype=np.float32) * onset
    x[:, H_BASS_KNOWN] = known
    nxt = np.zeros(t, dtype=np.float32)
    nxt[:-1] = np.asarray(bass_onset, dtype=np.float32)[1:]
    x[:, H_BASS_NEXT] = nxt * known
    pc = np.asarray(bass_pc_rel)
    rows = np.nonzero((pc >= 0) & (known > 0))[0]
    x[rows, H_BASS_PC.start + pc[rows] % 12] = 1.0
    x[:, H_MINOR] = np.asarray(minor, dtype=np.float32)
    x[:, H_DISSONANCE:H_ENERGY + 1] = controls
    prev_chord = np.zeros(t, dtype=np.int64)
    prev_chord[1:] = np.asarray(chords)[:-1]
    x[np.arange(t), H_PREV_CHORD.start + prev_chord] = 1.0
    prev_voicing = np.zeros(t, dtype=np.int64)
    prev_voicing[1:] = np.asarray(voicings)[:-1]
    x[np.arange(t), H_PREV_VOICING.start + prev_voicing] = 1.0
    kh = np.asarray(keys_hit, dtype=np.float32)
    x[:, H_PREV_KEYS_HIT] = _shift(kh)
    x[:, H_PREV_KEYS_VELOCITY] = _shift(np.asarray(keys_velocity, dtype=np.float32) * kh)
    return x


# -- hindsight controls: what the knobs mean ------------------------------------------------------
def drum_bar_controls(hits: np.ndarray, velocity: np.ndarray, meter: Meter) -> tuple[float, float, float]:
    """(energy, syncopation, busyness) of one bar of drums: ``hits``/``velocity`` [bar_steps, N_DRUMS].

    energy = 0.5 x min(1, hits per step / 2) + 0.5 x mean hit velocity (0..1);
    syncopation = mean off-grid weight of the non-cymbal hits (0 on a beat, 0.5 on an eighth
    off-beat, 1 on a 16th off-beat; in x/8 the off-eighth counts 1);
    busyness = min(1, time-keeper (hats, ride) hits per step).
    """
    hits = np.asarray(hits, dtype=bool)
    n = max(1, hits.shape[0])
    total = int(hits.sum())
    if total == 0:
        return 0.0, 0.0, 0.0
    energy = 0.5 * min(1.0, total / (2.0 * n)) + 0.5 * float(np.asarray(velocity)[hits].mean())
    weights = _offgrid_weights(meter)[: hits.shape[0]]
    core = np.ones(N_DRUMS, dtype=bool)
    core[list(TIME_KEEPERS) + [CRASH]] = False
    core_hits = hits[:, core]
    counts = core_hits.sum(axis=1)
    sync = float((weights * counts).sum() / counts.sum()) if counts.sum() else 0.0
    busy = min(1.0, float(hits[:, list(TIME_KEEPERS)].sum()) / n)
    return float(energy), sync, busy


@lru_cache(maxsize=None)
def _offgrid_weights(meter: Meter) -> np.ndarray:
    spb = meter.steps_per_beat
    sib = np.arange(meter.bar_steps) % spb
    if spb == 4:
        w = np.where(sib == 0, 0.0, np.where(sib == 2, 0.5, 1.0))
    else:
        w = np.where(sib == 0, 0.0, 1.0)
    return w.astype(np.float32)


def harm_bar_controls(
    chords: np.ndarray, bass_pc_rel: np.ndarray, minor: bool, keys_hit: np.ndarray, piano_onsets: int,
    piano_velocity: float,
) -> tuple[float, float, float]:
    """(dissonance, keys_density, energy) of one bar of harmony.

    dissonance = mean :func:`chord_tension` over the bar's steps with a chord / DISSONANCE_SCALE,
    clipped to 1; keys_density = share of the bar's steps with a keys attack;
    energy = 0.5 x min(1, piano note onsets per step / 2) + 0.5 x mean piano velocity (0..1).
    """
    chords = np.asarray(chords)
    n = max(1, len(chords))
    pcs = np.asarray(bass_pc_rel)
    pcs = np.where(pcs < 0, 12, pcs % 12)
    has = chords != NO_CHORD
    if has.any():
        t = TENSION_TABLE[chords[has], int(bool(minor)), pcs[has]]
        dissonance = min(1.0, float(t.mean()) / DISSONANCE_SCALE)
    else:
        dissonance = 0.0
    density = float(np.asarray(keys_hit, dtype=bool).sum()) / n
    energy = 0.5 * min(1.0, piano_onsets / (2.0 * n)) + 0.5 * float(piano_velocity)
    return dissonance, density, float(energy)
