"""From a chord symbol to the notes the keys play: colour tones by dissonance, a voicing, a register.

The model chooses *which* chord (root relative to the key, quality) and *how* to voice it (one of
``features.VOICINGS``: root position, inversions, open); this module turns that into MIDI pitches:

1. :func:`chord_tones` - the chord's intervals above the root, coloured by the dissonance control:
   at the bottom of the range sevenths and sixths are dropped (plain triads), then the seventh comes
   in, then the ninth, then altered tensions (b9, #11), then a cluster-like stack at the top. Each
   step adds rougher intervals, which is what makes the dissonance knob monotonic in
   :func:`jambox.generate.tension.harmonic_tension`.
2. :func:`voice` - the voicing class picks the lowest chord member (root, third, fifth) and spacing
   (close or open); the voicing is placed in the keys' register (C3..C5 by default, above the
   bass's usual range) as close as possible to the previous voicing (smooth voice leading, the way a
   comping player moves), never below ``low`` nor above ``high``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from jambox.errors import ValueRangeError

# Intervals above the root for every chord quality the model may name (features.CHORD_QUALITIES
# must be a subset; tests check it). Names follow POP909's Harte-style labels, simplified.
QUALITY_INTERVALS: dict[str, tuple[int, ...]] = {
    "maj": (0, 4, 7),
    "min": (0, 3, 7),
    "dim": (0, 3, 6),
    "aug": (0, 4, 8),
    "sus2": (0, 2, 7),
    "sus4": (0, 5, 7),
    "sus": (0, 5, 7),
    "5": (0, 7),
    "maj6": (0, 4, 7, 9),
    "min6": (0, 3, 7, 9),
    "dom7": (0, 4, 7, 10),
    "7": (0, 4, 7, 10),
    "maj7": (0, 4, 7, 11),
    "min7": (0, 3, 7, 10),
    "minmaj7": (0, 3, 7, 11),
    "hdim7": (0, 3, 6, 10),
    "min7b5": (0, 3, 6, 10),
    "dim7": (0, 3, 6, 9),
    "sus4(b7)": (0, 5, 7, 10),
    "7sus4": (0, 5, 7, 10),
    "sus7": (0, 5, 7, 10),
    "dom9": (0, 4, 7, 10, 14),
    "9": (0, 4, 7, 10, 14),
    "maj9": (0, 4, 7, 11, 14),
    "min9": (0, 3, 7, 10, 14),
}

TRIAD_OF = {  # the plain triad under each richer quality (what low dissonance plays)
    "maj6": "maj", "min6": "min", "dom7": "maj", "7": "maj", "maj7": "maj", "min7": "min",
    "minmaj7": "min", "hdim7": "dim", "min7b5": "dim", "dim7": "dim", "sus4(b7)": "sus4",
    "7sus4": "sus4", "sus7": "sus4", "dom9": "maj", "9": "maj", "maj9": "maj", "min9": "min",
}

# Dissonance thresholds of the colour steps (0..1): below the first, sevenths/sixths are dropped.
COLOUR_STEPS = (0.1, 0.25, 0.45, 0.65, 0.85)

KEYS_LOW, KEYS_HIGH = 48, 72  # C3..C5: above the bass, below the melody's register


def quality_intervals(quality: str) -> tuple[int, ...]:
    try:
        return QUALITY_INTERVALS[quality]
    except KeyError:
        from jambox.errors import did_you_mean

        raise ValueRangeError(
            f"unknown chord quality {quality!r}{did_you_mean(quality, list(QUALITY_INTERVALS))}; "
            f"expected one of: {', '.join(QUALITY_INTERVALS)}"
        ) from None


def chord_tones(quality: str, dissonance: float) -> tuple[int, ...]:
    """Intervals above the root (0..23, sorted, unique) for ``quality`` coloured by ``dissonance``."""
    if not 0.0 <= dissonance <= 1.0:
        raise ValueRangeError(f"dissonance must be in range 0.0..1.0, not {dissonance!r}")
    quality_intervals(quality)  # a clear error for an unknown quality
    step = sum(dissonance >= s for s in COLOUR_STEPS)
    return _coloured(quality, step)


@lru_cache(maxsize=None)
def _coloured(quality: str, step: int) -> tuple[int, ...]:
    """The colour steps in a musician's order; a change is taken only if it does not make the chord
    calmer (measured over the root), so each step of the knob is at least as tense as the last."""
    from jambox.generate.tension import chord_tension

    def rough(tones: set[int]) -> float:
        return chord_tension(tones, 0, None)

    def attempt(tones: set[int], add: tuple[int, ...] = (), drop: tuple[int, ...] = ()) -> set[int]:
        cand = (tones - set(drop)) | set(add)
        return cand if len(cand) >= 2 and rough(cand) >= rough(tones) - 1e-12 else tones

    base = set(quality_intervals(quality))
    tones = set(quality_intervals(TRIAD_OF.get(quality, quality)))
    if step >= 1:
        tones = attempt(tones, add=tuple(base - tones))
    has_third = 3 in base or 4 in base
    if step >= 2 and not any(i in tones for i in (9, 10, 11)):
        # the seventh that suits the chord: minor 7th on minor, diminished and sus chords, major 7th on major
        tones = attempt(tones, add=(10 if (3 in base or 6 in base or not has_third) else 11,))
    if step >= 3:
        tones = attempt(tones, add=(14,))  # the ninth
    if step >= 4:
        tones = attempt(tones, add=(13, 18 if 7 in base else 17), drop=(14,))  # b9 and #11
    if step >= 5:
        tones = attempt(tones, add=(15 if 4 in base else 16,), drop=(7,))  # #9 (or the clashing major 3rd), no 5th
    return tuple(sorted(tones))


def chord_pitch_classes(root_pc: int, quality: str, dissonance: float) -> tuple[int, ...]:
    return tuple(sorted({(root_pc + i) % 12 for i in chord_tones(quality, dissonance)}))


def _stack(root_pc: int, tones: Sequence[int], inversion: int, spread: bool) -> list[int]:
    """Relative pitches (bottom note 0-based offset above ``root_pc`` in octave 0) of one voicing."""
    core = sorted({t % 12 for t in tones if t < 12})
    colours = sorted({t for t in tones if t >= 12})
    inversion = inversion % max(1, len(core))
    order = core[inversion:] + [t + 12 for t in core[:inversion]]
    if spread and len(order) >= 3:  # drop-2: the second voice from the top down an octave
        order[-2] -= 12
        order.sort()
    pitches = [root_pc + t for t in order]
    top = pitches[-1]
    for c in colours:  # colour tones sit above the core voicing
        p = root_pc + c
        while p <= top:
            p += 12
        while p - 12 > top:
            p -= 12
        pitches.append(p)
    return sorted(set(pitches))


def voice(root_pc: int, quality: str, dissonance: float, voicing: str, previous: Sequence[int] = (),
          low: int = KEYS_LOW, high: int = KEYS_HIGH) -> tuple[int, ...]:
    """MIDI pitches for a chord: ``voicing`` is a name from features.VOICINGS (or "root", "first",
    "second", "open"); placed within ``low..high`` as near to ``previous`` as possible."""
    if not 0 <= root_pc <= 11:
        raise ValueRangeError(f"root_pc must be a pitch class in range 0..11, not {root_pc}")
    if high - low < 12:
        raise ValueRangeError(f"the keys register must span at least an octave, not {low}..{high}")
    name = voicing.lower()
    inversion = 1 if "first" in name or name in ("inv1", "1st") else 2 if "second" in name or name in ("inv2", "2nd") else 0
    spread = "open" in name or "spread" in name or "drop" in name
    rel = _stack(root_pc, chord_tones(quality, dissonance), inversion, spread)
    # Colour tones that would stretch the voicing past the register go first (top down).
    while rel[-1] - rel[0] > high - low and len(rel) > 3:
        rel.pop()
    target = (sum(previous) / len(previous)) if previous else (low + high) / 2.0
    best_cost, best = float("inf"), tuple(rel)
    for shift in range(-60, 61, 12):
        cand = tuple(p + shift for p in rel)
        outside = sum(max(0, low - p) + max(0, p - high) for p in cand)
        cost = abs(sum(cand) / len(cand) - target) + 100.0 * outside
        if cost < best_cost:
            best_cost, best = cost, cand
    return tuple(sorted({_fold(p, low, high) for p in best}))


def _fold(pitch: int, low: int, high: int) -> int:
    """``pitch`` moved by octaves into ``low..high``."""
    while pitch < low:
        pitch += 12
    while pitch > high:
        pitch -= 12
    return pitch
