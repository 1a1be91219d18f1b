"""Which chord: the helpers the generator steers the harmony net's chord choice with.

The net answers key-relative chords; these tables say how tense each chord is (by the same measure
the dissonance knob is judged by) and how much it rubs against the notes the riff itself plays, and
name the substitutions a keys player tries.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from jambox.events import Note
from jambox.generate import features as F


def guess_key(notes: tuple[Note, ...] | list[Note]) -> tuple[int, bool] | None:
    """(tonic, minor) from the notes when the listener has no key yet: the most played pitch class,
    minor if its minor third is played more than its major third."""
    if not notes:
        return None
    counts = [0] * 12
    for n in notes:
        counts[n.pitch % 12] += 1
    tonic = max(range(12), key=lambda pc: counts[pc])
    return tonic, counts[(tonic + 3) % 12] > counts[(tonic + 4) % 12]


def substitute(chord: int) -> int:
    """A chord substitution a keys player might try: the relative minor/major of a triad, the
    tritone substitute of a dominant seventh, the relative of a seventh chord."""
    rq = F.chord_from_index(chord)
    if rq is None:
        return chord
    root, q = rq
    name = F.CHORD_QUALITIES[q]
    sub = {"maj": (9, "min"), "min": (3, "maj"), "dom7": (6, "dom7"), "maj7": (9, "min7"),
           "min7": (3, "maj7"), "dim": (0, "dom7"), "sus": (0, "dom7")}
    shift, new = sub[name]
    return F.chord_index((root + shift) % 12, F.CHORD_QUALITIES.index(new))


@lru_cache(maxsize=1)
def chord_tension_table() -> np.ndarray:
    """[chord, minor, bass pitch class relative to the key (12 = unknown)] -> the tension of the chord's
    plain tones as :func:`jambox.generate.tension.chord_tension` measures it (the measure the
    dissonance knob is judged by), so the chord choice is steered by the same yardstick."""
    from jambox.generate.tension import chord_tension, scale_of

    table = np.zeros((F.N_CHORDS, 2, 13), np.float32)
    for minor in (0, 1):
        scale = scale_of(0, "minor" if minor else "major")
        for c in range(1, F.N_CHORDS):
            tones = F.chord_pitch_classes(c)
            for b in range(13):
                table[c, minor, b] = chord_tension(tones, None if b == 12 else b, scale)
    table.setflags(write=False)
    return table


# [chord, pitch class relative to the key]: the share of the chord's tones that are that pitch class.
_CHORD_TONES = np.zeros((F.N_CHORDS, 12), np.float64)
for _c in range(1, F.N_CHORDS):
    _tones = F.chord_pitch_classes(_c)
    _CHORD_TONES[_c, list(_tones)] = 1.0 / len(_tones)


def riff_clash(notes, tonic: int) -> np.ndarray:
    """[N_CHORDS] how much each chord rubs against the riff: the share of its tones that the riff never
    plays while it does play a note a semitone away (an E major chord over a riff with G in it).
    A pitch class the riff plays on a tenth of its notes or more counts fully, rarer ones less."""
    hist = np.zeros(12, np.float64)
    for n in notes:
        hist[(n.pitch - tonic) % 12] += 1.0
    np.minimum(1.0, hist * (10.0 / hist.sum()), out=hist)
    rub = np.maximum(np.roll(hist, 1), np.roll(hist, -1)) * (1.0 - hist)
    return _CHORD_TONES @ rub
