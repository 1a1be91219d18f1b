"""Two peers the listener is scored against, on the same clips (see ``jambox bench``).

- ``aubio_notes``: aubio's own ``notes`` object with its default settings (onset + pitch + median).
- ``onset_yin``: aubio onset detection (default method) with aubio's yin pitch, the median pitch
  over each note (from its onset to the next), and aubio's tempo tracker for the beats.
Both are run hop by hop like the listener. ``onset_yin``'s onset times are aubio's own (aubio
compensates its onset detector's delay). ``aubio.notes`` reports a note once its pitch median is
full, about 94 ms after the onset, with no way to ask for that delay: its times are moved back by
that lag, measured once on the tuning clips (seed 0), so that its notes are scored on their pitch
and onset, not on their lateness.
"""

from __future__ import annotations

import aubio
import numpy as np


def _hops(x: np.ndarray, hop: int):
    n = len(x) - len(x) % hop
    for i in range(0, n, hop):
        yield i, np.ascontiguousarray(x[i:i + hop], dtype=np.float32)


AUBIO_NOTES_LAG_S = 0.094


def aubio_notes(x: np.ndarray, sample_rate: int) -> list[tuple[float, int]]:
    """(onset s, MIDI pitch) from ``aubio.notes`` with its defaults (buf 1024, hop 512 at 44.1 kHz: scaled)."""
    hop = 512
    nt = aubio.notes("default", 1024 if sample_rate <= 48000 else 2048, hop, sample_rate)
    out = []
    for i, h in _hops(x, hop):
        r = nt(h)
        if r[0] > 0:
            out.append((max(0.0, (i + hop) / sample_rate - AUBIO_NOTES_LAG_S), int(round(r[0]))))
    return out


def onset_yin(x: np.ndarray, sample_rate: int) -> tuple[list[tuple[float, int]], list[float]]:
    """(onset s, median yin pitch) per note, and aubio tempo's beats (s)."""
    hop = 256
    onset = aubio.onset("default", 1024, hop, sample_rate)
    pitch = aubio.pitch("yin", 2048, hop, sample_rate)
    pitch.set_unit("midi")
    pitch.set_tolerance(0.15)
    tempo = aubio.tempo("default", 1024, hop, sample_rate)
    onsets, frames, beats = [], [], []
    for i, h in _hops(x, hop):
        if onset(h)[0] > 0:
            onsets.append(onset.get_last() / sample_rate)
        p = float(pitch(h)[0])
        frames.append(p if pitch.get_confidence() > 0.5 and p > 0 else np.nan)
        if tempo(h)[0] > 0:
            beats.append(tempo.get_last_s())
    frames = np.array(frames)
    notes = []
    for k, t in enumerate(onsets):
        end = onsets[k + 1] if k + 1 < len(onsets) else len(x) / sample_rate
        a, b = int(t * sample_rate / hop), max(int(t * sample_rate / hop) + 1, int(end * sample_rate / hop))
        seg = frames[a:b]
        seg = seg[~np.isnan(seg)]
        if seg.size:
            notes.append((t, int(round(float(np.median(seg))))))
    return notes, beats
