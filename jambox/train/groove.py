"""The Groove MIDI Dataset as step grids: which of the 9 voices hit on each 16th, how hard, how late.

Groove's drummers played to a click, so the MIDI's tempo is the click's and tick 0 is a downbeat: a
16th step is a quarter of the MIDI beat, and a hit's micro-offset is its distance from the nearest
step. ``info.csv`` gives the split (train / validation), the style, beat or fill and the meter.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from jambox.errors import TrainingError
from jambox.generate import features as F
from jambox.train.midi import estimate_swing, read_notes


@dataclass
class DrumPerformance:
    name: str
    style: str
    split: str
    beat_type: str  # "beat" | "fill"
    meter: tuple[int, int]
    bpm: float
    swing: float
    hits: np.ndarray  # [S, 9] bool
    velocity: np.ndarray  # [S, 9] float32 0..1 (0 where no hit)
    offset: np.ndarray  # [S, 9] float32 steps -0.5..0.5 (0 where no hit)

    @property
    def steps(self) -> int:
        return len(self.hits)


def read_index(root: Path) -> list[dict]:
    index = root / "info.csv"
    if not index.is_file():
        raise TrainingError(f"Groove index {index} not found; expected the Groove MIDI Dataset's info.csv there")
    with open(index, newline="") as f:
        return list(csv.DictReader(f))


def load_performance(root: Path, row: dict) -> DrumPerformance | None:
    """One performance as a step grid; None for meters jambox does not play (named in the log)."""
    num, den = (int(x) for x in row["time_signature"].split("-"))
    try:
        F.meter_for(num, den)
    except Exception:
        return None
    notes, tmap = read_notes(root / row["midi_filename"])
    bpm = 60e6 / tmap[0][1]
    positions = np.array([n.start_beats * 4.0 for n in notes], dtype=np.float64)  # in steps
    n_steps = int(np.ceil(positions.max() + 0.5)) + 1 if len(notes) else 0
    hits = np.zeros((n_steps, F.N_DRUMS), dtype=bool)
    vel = np.zeros((n_steps, F.N_DRUMS), dtype=np.float32)
    off = np.zeros((n_steps, F.N_DRUMS), dtype=np.float32)
    for n, pos in zip(notes, positions):
        voice = F.GROOVE_PITCH_MAP.get(n.pitch)
        if voice is None:
            continue
        s = int(np.floor(pos + 0.5))
        v = n.velocity / 127.0
        if hits[s, voice] and vel[s, voice] >= v:  # two hits of one voice in one step: keep the louder
            continue
        hits[s, voice] = True
        vel[s, voice] = v
        off[s, voice] = float(np.clip(pos - s, -0.5, 0.5))
    swing = estimate_swing(positions / 4.0)
    return DrumPerformance(
        name=row["id"], style=row["style"], split=row["split"], beat_type=row["beat_type"], meter=(num, den),
        bpm=float(bpm), swing=swing, hits=hits, velocity=vel, offset=off,
    )


def load_groove(root: Path, limit: int | None = None, progress: bool = True) -> list[DrumPerformance]:
    """Every performance under ``root`` (train and validation), with a progress bar."""
    from tqdm import tqdm

    rows = read_index(root)
    if limit:
        rows = _spread(rows, limit)
    out = []
    for row in tqdm(rows, desc="groove: reading MIDI", unit="file", disable=not progress, leave=False):
        perf = load_performance(root, row)
        if perf is not None and perf.steps >= 8:
            out.append(perf)
    return out


def _spread(rows: list[dict], limit: int) -> list[dict]:
    """A small but mixed subset for quick runs: both splits, beats and fills."""
    picked = []
    for split in ("train", "validation"):
        for kind in ("beat", "fill"):
            sel = [r for r in rows if r["split"] == split and r["beat_type"] == kind]
            n = max(1, limit // (4 if split == "train" else 8))
            picked += sel[:: max(1, len(sel) // n)][:n]
    return picked
