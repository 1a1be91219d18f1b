"""POP909 songs as step grids: the bass line, the chords, the key, and the keys' comping.

- The grid comes from ``beat_midi.txt`` (one row per quarter beat; the third column flags downbeats):
  four 16th steps between consecutive beats, bars from downbeat to downbeat. Songs whose beat is a
  dotted quarter (``num_quavers_per_beat`` 3 in ``index.csv``) are left out; bars whose length
  differs from the song's usual one split the song into segments.
- The bass line is the PIANO track's lowest voice: at each step the lowest sounding piano note, when
  it is below middle C; a bass onset is such a note starting on the step.
- The keys are the PIANO track's other notes: an attack is any of them starting on the step; its
  voicing is :func:`features.classify_voicing` of the notes struck together.
- Chords from ``chord_midi.txt``, key from ``key_audio.txt`` (audio times, moved onto the MIDI's
  time line by the offset between the first downbeats of ``beat_audio.txt`` and ``beat_midi.txt``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from jambox.errors import TrainingError
from jambox.generate import features as F
from jambox.train.midi import estimate_swing, read_notes

BASS_CEILING = 60  # the lowest voice counts as bass only below middle C


@dataclass
class HarmonyPerformance:
    name: str
    split: str
    meter: tuple[int, int]
    bpm: float
    swing: float
    bass_onset: np.ndarray  # [S] bool
    bass_velocity: np.ndarray  # [S] float32 0..1
    bass_pc: np.ndarray  # [S] int: absolute pitch class of the sounding bass note, -1 none
    chord_root: np.ndarray  # [S] int: absolute root pitch class, -1 = no chord
    chord_quality: np.ndarray  # [S] int index into CHORD_QUALITIES (0 where no chord)
    keys_hit: np.ndarray  # [S] bool
    keys_velocity: np.ndarray  # [S] float32 0..1
    voicing: np.ndarray  # [S] int voicing at attacks (0 elsewhere)
    tonic: np.ndarray  # [S] int
    minor: np.ndarray  # [S] bool
    piano_onsets: np.ndarray  # [S] int: piano notes starting (for the energy control)
    piano_velocity: np.ndarray  # [S] float32: mean velocity of those, 0..1

    @property
    def steps(self) -> int:
        return len(self.bass_onset)


def split_of(song_id: str) -> str:
    """Every tenth song (ids ending in 0) is held out for validation."""
    return "validation" if int(song_id) % 10 == 0 else "train"


def read_index(root: Path) -> list[dict]:
    index = root / "index.csv"
    if not index.is_file():
        raise TrainingError(f"POP909 index {index} not found; expected POP909's index.csv there")
    with open(index, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _rows(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8") as f:
        return [line.split() for line in f if line.strip()]


def load_song(root: Path, row: dict) -> list[HarmonyPerformance]:
    if row.get("num_quavers_per_beat", "2").strip() == "3":
        return []
    sid = row["song_id"].strip()
    d = root / sid
    beats = np.array([[float(x) for x in r[:3]] for r in _rows(d / "beat_midi.txt")])
    if len(beats) < 16:
        return []
    times = beats[:, 0]
    downs = np.nonzero(beats[:, 2] > 0.5)[0]
    if len(downs) < 3:
        return []
    lengths = np.diff(downs)
    usual = int(np.bincount(lengths).argmax())
    if usual not in (3, 4):
        return []
    notes, _ = read_notes(d / f"{sid}.mid")
    piano = [n for n in notes if n.track.strip().upper() == "PIANO"]
    chords = [(float(r[0]), float(r[1]), r[2]) for r in _rows(d / "chord_midi.txt") if len(r) >= 3]
    keys = _keys(d)
    out = []
    # contiguous runs of bars of the usual length
    start = None
    for i in range(len(lengths) + 1):
        good = i < len(lengths) and lengths[i] == usual
        if good and start is None:
            start = i
        if not good and start is not None:
            n_bars = i - start
            if n_bars >= 2:
                b0 = downs[start]
                seg = _segment(f"{sid}#{len(out)}", split_of(sid), times[b0 : b0 + n_bars * usual + 1], usual,
                               piano, chords, keys)
                if seg is not None:
                    out.append(seg)
            start = None
    return out


def _keys(d: Path) -> list[tuple[float, int, bool]]:
    """[(start time on the MIDI time line, tonic, minor)]."""
    rows = _rows(d / "key_audio.txt")
    shift = 0.0
    try:
        ba = _rows(d / "beat_audio.txt")
        bm = _rows(d / "beat_midi.txt")
        first_audio = next(float(r[0]) for r in ba if float(r[1]) == 1.0)
        first_midi = next(float(r[0]) for r in bm if float(r[2]) == 1.0)
        shift = first_midi - first_audio
    except (StopIteration, OSError, IndexError, ValueError):
        pass
    out = []
    for r in rows:
        name, _, mode = r[2].partition(":")
        out.append((float(r[0]) + shift, F.parse_pitch_class(name), mode.startswith("min")))
    if not out:
        out.append((0.0, 0, False))
    out[0] = (-1e9,) + out[0][1:]
    return out


def _segment(name, split, beat_times, beats_per_bar, piano, chords, keys) -> HarmonyPerformance | None:
    n_beats = len(beat_times) - 1
    s_total = n_beats * 4
    beat_idx = np.arange(len(beat_times)) * 4.0
    t0, t1 = beat_times[0], beat_times[-1]
    step_times = np.interp(np.arange(s_total), beat_idx, beat_times)

    sel = [n for n in piano if t0 - 0.05 <= n.start < t1]
    if len(sel) < 16:
        return None
    on = np.interp([n.start for n in sel], beat_times, beat_idx)
    off = np.interp([n.end for n in sel], beat_times, beat_idx, right=s_total)
    s_on = np.clip(np.floor(on + 0.5).astype(int), 0, s_total - 1)
    s_off = np.clip(np.floor(off + 0.5).astype(int), 0, s_total)
    pitch = np.array([n.pitch for n in sel])
    vel = np.array([n.velocity for n in sel], dtype=np.float32) / 127.0

    lowest = np.full(s_total, 128)
    for k in range(len(sel)):
        a, b = s_on[k], max(s_on[k] + 1, s_off[k])
        np.minimum(lowest[a:b], pitch[k], out=lowest[a:b])

    bass_onset = np.zeros(s_total, bool)
    bass_vel = np.zeros(s_total, np.float32)
    keys_hit = np.zeros(s_total, bool)
    keys_vel = np.zeros(s_total, np.float32)
    piano_onsets = np.zeros(s_total, np.int32)
    piano_vel = np.zeros(s_total, np.float32)
    struck: dict[int, list[int]] = {}
    by_step: dict[int, list[int]] = {}
    for k in range(len(sel)):
        by_step.setdefault(int(s_on[k]), []).append(k)
    for s, ks in by_step.items():
        piano_onsets[s] = len(ks)
        piano_vel[s] = float(vel[ks].mean())
        bass_k = None
        if lowest[s] < BASS_CEILING:
            cands = [k for k in ks if pitch[k] == lowest[s]]
            if cands:
                bass_k = cands[0]
                bass_onset[s] = True
                bass_vel[s] = vel[bass_k]
        upper = [k for k in ks if k != bass_k]
        if upper:
            keys_hit[s] = True
            keys_vel[s] = float(vel[upper].mean())
            struck[s] = [int(pitch[k]) for k in upper]
    bass_pc = np.where(lowest < BASS_CEILING, lowest % 12, -1).astype(np.int64)

    chord_root = np.full(s_total, -1, np.int64)
    chord_q = np.zeros(s_total, np.int64)
    starts = np.array([c[0] for c in chords]) if chords else np.zeros(0)
    for s in range(s_total):
        i = int(np.searchsorted(starts, step_times[s] + 1e-3, side="right") - 1)
        if i < 0 or step_times[s] >= chords[i][1] + 1e-3:
            continue
        try:
            parsed = F.parse_chord_label(chords[i][2])
        except Exception:
            parsed = None
        if parsed is not None:
            chord_root[s], chord_q[s] = parsed[0], parsed[1]

    kstarts = np.array([k[0] for k in keys])
    ki = np.clip(np.searchsorted(kstarts, step_times, side="right") - 1, 0, len(keys) - 1)
    tonic = np.array([keys[i][1] for i in ki], dtype=np.int64)
    minor = np.array([keys[i][2] for i in ki], dtype=bool)

    voicing = np.zeros(s_total, np.int64)
    for s, ps in struck.items():
        if chord_root[s] >= 0:
            voicing[s] = F.classify_voicing(ps, int(chord_root[s]), int(chord_q[s]))

    bpm = 60.0 / float(np.median(np.diff(beat_times)))
    swing = estimate_swing(on / 4.0)
    return HarmonyPerformance(
        name=name, split=split, meter=(beats_per_bar, 4), bpm=bpm, swing=swing,
        bass_onset=bass_onset, bass_velocity=bass_vel, bass_pc=bass_pc, chord_root=chord_root,
        chord_quality=chord_q, keys_hit=keys_hit, keys_velocity=keys_vel, voicing=voicing, tonic=tonic,
        minor=minor, piano_onsets=piano_onsets, piano_velocity=piano_vel,
    )


def load_pop909(root: Path, limit: int | None = None, progress: bool = True) -> list[HarmonyPerformance]:
    from tqdm import tqdm

    rows = read_index(root)
    if limit:
        val = [r for r in rows if split_of(r["song_id"]) == "validation"]
        train = [r for r in rows if split_of(r["song_id"]) == "train"]
        rows = train[: max(1, limit - max(1, limit // 4))] + val[: max(1, limit // 4)]
    out = []
    for row in tqdm(rows, desc="pop909: reading songs", unit="song", disable=not progress, leave=False):
        out.extend(load_song(root, row))
    return out
