"""How tense the keys sound: one number in 0..1, so the dissonance control can be measured.

The measure is deliberately simple and explainable, in three parts, each normalised to 0..1:

- **among the voices**: every pair of pitch classes sounding together in one keys attack is scored
  by its interval class (the minor second / major seventh is the roughest, the tritone next, the
  major second / minor seventh mild, thirds and sixths barely, fourths/fifths and unisons not at
  all), and the scores are averaged over the pairs;
- **against the bass**: the same table between each keys pitch class and the bass note sounding at
  the attack (or the latest one before it);
- **outside the key**: the share of the chord's pitch classes that are not in the key's scale
  (major, or minor with both the natural and the raised seventh, so V in minor is not "outside").

The tension of an attack is a weighted mean of the three (the key part drops out while the key is
unknown), and the tension of a passage is the mean over its attacks. In C major: a C triad over C
scores 0.02, G7 over G 0.12, Db major over C 0.36, the cluster C Db D F# over C 0.53.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from jambox.errors import ValueRangeError
from jambox.events import Note, PlayedNote

# Roughness by interval class 0..6 (unison, m2/M7, M2/m7, m3/M6, M3/m6, P4/P5, tritone).
INTERVAL_CLASS_TENSION = (0.0, 1.0, 0.4, 0.1, 0.05, 0.0, 0.8)

MAJOR_SCALE = frozenset({0, 2, 4, 5, 7, 9, 11})
MINOR_SCALE = frozenset({0, 2, 3, 5, 7, 8, 10, 11})  # natural minor plus the leading tone
KEY_MODES = ("major", "minor")

W_VOICES, W_BASS, W_KEY = 1.0, 1.0, 1.0

# Keys notes whose onsets lie this close (samples) count as one attack (a rolled or humanised chord).
ATTACK_TOLERANCE = 480  # 10 ms at 48 kHz


def interval_tension(a: int, b: int) -> float:
    """Roughness of the interval between two pitches or pitch classes (0..1)."""
    ic = (a - b) % 12
    return INTERVAL_CLASS_TENSION[min(ic, 12 - ic)]


def scale_of(key_tonic: int | None, key_mode: str) -> frozenset[int] | None:
    """The key's scale as absolute pitch classes, or None while the key is unknown."""
    if key_mode not in KEY_MODES:
        raise ValueRangeError(f"key_mode must be one of {', '.join(KEY_MODES)}, not {key_mode!r}")
    if key_tonic is None:
        return None
    if not 0 <= key_tonic <= 11:
        raise ValueRangeError(f"key_tonic must be a pitch class in range 0..11, not {key_tonic}")
    base = MAJOR_SCALE if key_mode == "major" else MINOR_SCALE
    return frozenset((key_tonic + pc) % 12 for pc in base)


def chord_tension(pitch_classes: Iterable[int], bass_pc: int | None, scale: frozenset[int] | None) -> float:
    """Tension (0..1) of one set of pitch classes over a bass pitch class, in a scale (None = unknown)."""
    pcs = sorted({p % 12 for p in pitch_classes})
    if not pcs:
        return 0.0
    parts: list[tuple[float, float]] = []
    pairs = [(a, b) for i, a in enumerate(pcs) for b in pcs[i + 1:]]
    if pairs:
        parts.append((W_VOICES, sum(interval_tension(a, b) for a, b in pairs) / len(pairs)))
    if bass_pc is not None:
        parts.append((W_BASS, sum(interval_tension(p, bass_pc) for p in pcs) / len(pcs)))
    if scale is not None:
        parts.append((W_KEY, sum(p not in scale for p in pcs) / len(pcs)))
    if not parts:
        return 0.0
    return sum(w * v for w, v in parts) / sum(w for w, _ in parts)


def group_attacks(keys_notes: Sequence[PlayedNote], tolerance: int = ATTACK_TOLERANCE) -> list[list[PlayedNote]]:
    """Keys notes grouped into attacks: notes starting within ``tolerance`` samples of the first."""
    attacks: list[list[PlayedNote]] = []
    for n in sorted(keys_notes, key=lambda n: n.time):
        if attacks and n.time - attacks[-1][0].time <= tolerance:
            attacks[-1].append(n)
        else:
            attacks.append([n])
    return attacks


def bass_at(bass_notes: Sequence[Note], time: int) -> Note | None:
    """The bass note sounding at ``time``: the latest onset at or before it (else the first after it)."""
    before = [n for n in bass_notes if n.onset <= time]
    if before:
        return max(before, key=lambda n: n.onset)
    return min(bass_notes, key=lambda n: n.onset) if bass_notes else None


def harmonic_tension(keys_notes: list[PlayedNote], bass_notes: list[Note], key_tonic: int | None,
                     key_mode: str) -> float:
    """Mean tension (0..1) of the keys attacks against each other, the bass and the key.

    ``bass_notes`` may be empty (the bass part of the measure then drops out); ``key_tonic`` None
    means the key is not known yet (the key part drops out).
    """
    scale = scale_of(key_tonic, key_mode)
    attacks = group_attacks(keys_notes)
    if not attacks:
        return 0.0
    total = 0.0
    for attack in attacks:
        bass = bass_at(bass_notes, attack[0].time)
        total += chord_tension((n.pitch for n in attack), None if bass is None else bass.pitch % 12, scale)
    return total / len(attacks)
