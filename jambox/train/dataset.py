"""Tokenising: the two data sets as compact per-step tables, cached, and batches built from them.

The cached tables hold per-step fields (a few bytes a step), not the model's input rows: a batch's
rows are built on the fly by :func:`features.encode_drum_sequence` / ``encode_harm_sequence``, the
same column writers the runtime's step encoders mirror, so training and run time cannot drift apart.

Augmentation is drawn once, seeded, when the tables are built (and so is part of the cache key):

- drums: the rhythm the drum net answers is the performance collapsed to one voice (all hits), or
  only its kicks, or its kicks and snares; long 4/4 performances get a second, re-barred copy in 3/4,
  5/4, 7/8 or 7/4 (:mod:`jambox.train.rebar`);
- harmony: half the 4/4 song segments get a re-barred copy;
- both: the bass is "unknown" over random spans (and, rarely, a whole sequence), so the nets learn
  to play on when the runtime has neither heard nor can predict the bass.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from jambox.errors import TrainingError
from jambox.generate import features as F
from jambox.train.rebar import REBARS, rebar_index

log = logging.getLogger(__name__)

ENCODING_VERSION = "2"  # bump when the tables' meaning changes (invalidates caches)
METER_LIST = tuple((int(m.split("/")[0]), int(m.split("/")[1])) for m in F.METERS)
RHYTHM_KINDS = ("all", "kick", "kick_snare")
RHYTHM_VOICES = {"all": tuple(range(F.N_DRUMS)), "kick": (F.KICK,), "kick_snare": (F.KICK, F.SNARE)}
FILL_TOM_HITS = 3  # a bar of a "beat" performance with this many tom hits is a fill


@dataclass
class Tables:
    """Concatenated per-step fields of many sequences; sequence i is rows starts[i]:starts[i+1]."""

    starts: np.ndarray  # [N+1]
    meta: dict[str, np.ndarray]  # per sequence: meter (index into METER_LIST), bpm, swing, val (bool), ...
    steps: dict[str, np.ndarray]  # per step
    names: list[str]

    def __len__(self) -> int:
        return len(self.starts) - 1

    def seq(self, i: int) -> dict[str, np.ndarray]:
        a, b = self.starts[i], self.starts[i + 1]
        return {k: v[a:b] for k, v in self.steps.items()}

    def save(self, path: Path) -> None:
        arrays = {"starts": self.starts, "names": np.array(self.names)}
        arrays.update({f"meta_{k}": v for k, v in self.meta.items()})
        arrays.update({f"step_{k}": v for k, v in self.steps.items()})
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, **arrays)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Tables:
        z = np.load(path, allow_pickle=False)
        meta = {k[5:]: z[k] for k in z.files if k.startswith("meta_")}
        steps = {k[5:]: z[k] for k in z.files if k.startswith("step_")}
        return cls(z["starts"], meta, steps, [str(n) for n in z["names"]])


def _concat(seqs: list[tuple[str, dict, dict]]) -> Tables:
    if not seqs:
        raise TrainingError("no usable sequences in the data (check --data)")
    lengths = [len(next(iter(s.values()))) for _, _, s in seqs]
    starts = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    meta = {k: np.array([m[k] for _, m, _ in seqs]) for k in seqs[0][1]}
    steps = {k: np.concatenate([s[k] for _, _, s in seqs]) for k in seqs[0][2]}
    return Tables(starts, meta, steps, [n for n, _, _ in seqs])


def _known_mask(n: int, rng: np.random.Generator) -> np.ndarray:
    known = np.ones(n, dtype=bool)
    r = rng.random()
    if r < 0.05:
        known[:] = False
    elif r < 0.55:
        for _ in range(rng.integers(1, 4)):
            a = int(rng.integers(0, n))
            known[a : a + int(rng.integers(4, 33))] = False
    return known


def _bars(n: int, bar_steps: int):
    for a in range(0, n, bar_steps):
        yield a, min(n, a + bar_steps)


# -- drums ----------------------------------------------------------------------------------------
def collapse_rhythm(hits, vel, off, voices) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One-voice rhythm from some voices: onset where any hits, velocity the loudest, its offset."""
    h = hits[:, voices]
    v = np.where(h, vel[:, voices], -1.0)
    loud = v.argmax(axis=1)
    onset = h.any(axis=1)
    rows = np.arange(len(h))
    velocity = np.where(onset, vel[:, voices][rows, loud], 0.0).astype(np.float32)
    offset = np.where(onset, off[:, voices][rows, loud], 0.0).astype(np.float32)
    return onset, velocity, offset


def drum_controls(hits, vel, meter: F.Meter, is_fill_file: bool) -> np.ndarray:
    """[S, 4] hindsight controls (energy, syncopation, busyness, fill), constant over each bar."""
    ctl = np.zeros((len(hits), 4), dtype=np.float32)
    for a, b in _bars(len(hits), meter.bar_steps):
        e, s, busy = F.drum_bar_controls(hits[a:b], vel[a:b], meter)
        fill = is_fill_file or int(hits[a:b][:, list(F.TOMS)].sum()) >= FILL_TOM_HITS
        ctl[a:b] = (e, s, busy, float(fill))
    return ctl


def drum_sequences(perfs, rng: np.random.Generator) -> list[tuple[str, dict, dict]]:
    out = []
    rebar_targets = list(REBARS)
    for p in perfs:
        variants = [(p.meter, None)]
        if p.meter == (4, 4) and p.beat_type == "beat" and p.steps >= 64:
            target = rebar_targets[int(rng.integers(len(rebar_targets)))]
            variants.append((target, rebar_index(p.steps, target)))
        for meter_sig, take in variants:
            hits, vel, off = (p.hits, p.velocity, p.offset) if take is None else (
                p.hits[take], p.velocity[take], p.offset[take])
            n = len(hits)
            if n < 8:
                continue
            meter = F.meter_for(*meter_sig)
            kind = RHYTHM_KINDS[int(rng.choice(3, p=[0.4, 0.3, 0.3]))]
            onset, bvel, boff = collapse_rhythm(hits, vel, off, list(RHYTHM_VOICES[kind]))
            steps = {
                "step_in_bar": (np.arange(n) % meter.bar_steps).astype(np.int16),
                "onset": onset, "velocity": bvel, "offset": boff, "known": _known_mask(n, rng),
                "controls": drum_controls(hits, vel, meter, p.beat_type == "fill"),
                "hits": hits, "hit_velocity": vel.astype(np.float32), "hit_offset": off.astype(np.float32),
            }
            meta = {
                "meter": METER_LIST.index(meter_sig), "bpm": p.bpm, "swing": p.swing,
                "val": p.split == "validation", "rebarred": take is not None, "kind": RHYTHM_KINDS.index(kind),
                "fill_file": p.beat_type == "fill",
            }
            out.append((f"{p.name}@{meter.name}", meta, steps))
    return out


# -- harmony --------------------------------------------------------------------------------------
def harm_fields(p, take=None) -> dict[str, np.ndarray]:
    """Key-relative per-step fields of a song segment (optionally re-indexed by ``take``)."""
    sel = (lambda a: a) if take is None else (lambda a: a[take])
    tonic = sel(p.tonic)
    root = sel(p.chord_root)
    chords = np.where(root >= 0, 1 + ((root - tonic) % 12) * F.N_QUALITIES + sel(p.chord_quality), 0)
    bass = sel(p.bass_pc)
    bass_rel = np.where(bass >= 0, (bass - tonic) % 12, -1)
    hit = sel(p.keys_hit)
    at = sel(p.voicing)
    held = np.zeros(len(hit), dtype=np.int64)
    last = 0
    for i in range(len(hit)):
        if hit[i]:
            last = at[i]
        held[i] = last
    return {
        "onset": sel(p.bass_onset), "velocity": sel(p.bass_velocity).astype(np.float32),
        "bass_pc": bass_rel.astype(np.int8), "minor": sel(p.minor), "chord": chords.astype(np.int16),
        "voicing": at.astype(np.int8), "voicing_held": held.astype(np.int8), "keys_hit": hit,
        "keys_velocity": sel(p.keys_velocity).astype(np.float32), "piano_onsets": sel(p.piano_onsets),
        "piano_velocity": sel(p.piano_velocity).astype(np.float32),
    }


def harm_controls(f: dict, meter: F.Meter) -> np.ndarray:
    """[S, 3] hindsight controls (dissonance, keys_density, energy), constant over each bar."""
    n = len(f["chord"])
    ctl = np.zeros((n, 3), dtype=np.float32)
    for a, b in _bars(n, meter.bar_steps):
        onsets = f["piano_onsets"][a:b]
        pv = float((f["piano_velocity"][a:b] * onsets).sum() / onsets.sum()) if onsets.sum() else 0.0
        ctl[a:b] = F.harm_bar_controls(f["chord"][a:b], f["bass_pc"][a:b], bool(f["minor"][a]),
                                       f["keys_hit"][a:b], int(onsets.sum()), pv)
    return ctl


def harm_sequences(songs, rng: np.random.Generator) -> list[tuple[str, dict, dict]]:
    out = []
    rebar_targets = list(REBARS)
    for p in songs:
        variants = [(p.meter, None)]
        if p.meter == (4, 4) and p.steps >= 64 and rng.random() < 0.5:
            target = rebar_targets[int(rng.integers(len(rebar_targets)))]
            variants.append((target, rebar_index(p.steps, target)))
        for meter_sig, take in variants:
            f = harm_fields(p, take)
            n = len(f["chord"])
            if n < 16:
                continue
            meter = F.meter_for(*meter_sig)
            steps = {
                "step_in_bar": (np.arange(n) % meter.bar_steps).astype(np.int16),
                "onset": f["onset"], "velocity": f["velocity"], "known": _known_mask(n, rng),
                "bass_pc": f["bass_pc"], "minor": f["minor"], "controls": harm_controls(f, meter),
                "chord": f["chord"], "voicing": f["voicing"], "voicing_held": f["voicing_held"],
                "keys_hit": f["keys_hit"], "keys_velocity": f["keys_velocity"],
            }
            meta = {"meter": METER_LIST.index(meter_sig), "bpm": p.bpm, "swing": p.swing,
                    "val": p.split == "validation", "rebarred": take is not None}
            out.append((f"{p.name}@{meter.name}", meta, steps))
    return out


# -- the cache ------------------------------------------------------------------------------------
def data_files(data_dir: Path) -> list[Path]:
    groove, pop = data_dir / "groove", data_dir / "pop909"
    for d, what in ((groove, "Groove MIDI Dataset"), (pop, "POP909")):
        if not d.is_dir():
            raise TrainingError(f"training data folder {d} not found; expected the {what} there "
                                f"(--data DIR holds groove/ and pop909/)")
    files = [groove / "info.csv", pop / "index.csv"]
    files += sorted(groove.rglob("*.mid")) + sorted(pop.rglob("*.mid")) + sorted(pop.rglob("*.txt"))
    return files


def data_hash(data_dir: Path) -> str:
    """sha256 over every data file's relative path and contents."""
    h = hashlib.sha256()
    for f in data_files(data_dir):
        h.update(str(f.relative_to(data_dir)).encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def default_cache_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("jambox")) / "train"


def build_tables(data_dir: Path, *, quick: bool, seed: int, cache_dir: Path | None = None,
                 progress: bool = True) -> tuple[Tables, Tables, dict]:
    """(drum tables, harmony tables, info) for ``data_dir``, from the cache when it has them."""
    from jambox.train.groove import load_groove
    from jambox.train.pop909 import load_pop909

    data_dir = Path(data_dir)
    digest = data_hash(data_dir)
    key = hashlib.sha256(f"{digest}:{ENCODING_VERSION}:{quick}:{seed}".encode()).hexdigest()[:16]
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    paths = (cache / f"drums-{key}.npz", cache / f"harmony-{key}.npz")
    info = {"data_sha256": digest, "cache_key": key, "quick": quick, "seed": seed}
    if all(p.is_file() for p in paths):
        try:
            info["cache"] = "hit"
            return Tables.load(paths[0]), Tables.load(paths[1]), info
        except Exception as e:  # a damaged cache is rebuilt, not trusted
            log.warning("cache %s unreadable (%s); rebuilding", cache, e)
    info["cache"] = "built"
    rng = np.random.default_rng(seed)
    perfs = load_groove(data_dir / "groove", limit=12 if quick else None, progress=progress)
    songs = load_pop909(data_dir / "pop909", limit=6 if quick else None, progress=progress)
    drums = _concat(drum_sequences(perfs, rng))
    harmony = _concat(harm_sequences(songs, rng))
    cache.mkdir(parents=True, exist_ok=True)
    drums.save(paths[0])
    harmony.save(paths[1])
    (cache / f"info-{key}.json").write_text(json.dumps(info, indent=2))
    return drums, harmony, info


# -- batches --------------------------------------------------------------------------------------
def windows(tables: Tables, val: bool, length: int, rebarred: bool | None = None) -> list[tuple[int, int, int]]:
    """(sequence, start, length) windows covering the chosen sequences, none longer than ``length``."""
    out = []
    for i in range(len(tables)):
        if bool(tables.meta["val"][i]) != val:
            continue
        if rebarred is not None and bool(tables.meta["rebarred"][i]) != rebarred:
            continue
        n = int(tables.starts[i + 1] - tables.starts[i])
        for a in range(0, n, length):
            if n - a >= 8:
                out.append((i, a, min(length, n - a)))
    return out


def drum_window(t: Tables, i: int, a: int, n: int) -> dict[str, np.ndarray]:
    s = {k: v[a : a + n] for k, v in t.seq(i).items()}
    meter = F.meter_for(*METER_LIST[int(t.meta["meter"][i])])
    x = F.encode_drum_sequence(meter, s["step_in_bar"], float(t.meta["bpm"][i]), float(t.meta["swing"][i]),
                               s["onset"], s["velocity"], s["offset"], s["known"], s["controls"],
                               s["hits"], s["hit_velocity"], s["hit_offset"])
    return {"x": x, "hits": s["hits"].astype(np.float32), "velocity": s["hit_velocity"],
            "offset": s["hit_offset"]}


def harm_window(t: Tables, i: int, a: int, n: int) -> dict[str, np.ndarray]:
    s = {k: v[a : a + n] for k, v in t.seq(i).items()}
    meter = F.meter_for(*METER_LIST[int(t.meta["meter"][i])])
    x = F.encode_harm_sequence(meter, s["step_in_bar"], float(t.meta["bpm"][i]), float(t.meta["swing"][i]),
                               s["onset"], s["velocity"], s["known"], s["bass_pc"].astype(np.int64),
                               s["minor"], s["controls"], s["chord"].astype(np.int64),
                               s["voicing_held"].astype(np.int64), s["keys_hit"], s["keys_velocity"])
    return {"x": x, "chord": s["chord"].astype(np.int64), "voicing": s["voicing"].astype(np.int64),
            "keys_hit": s["keys_hit"].astype(np.float32), "keys_velocity": s["keys_velocity"]}


def batch(make, tables: Tables, wins: list[tuple[int, int, int]], length: int) -> dict[str, np.ndarray]:
    """Stack windows into [B, length, ...] arrays, zero-padded, with ``mask`` [B, length]."""
    parts = [make(tables, *w) for w in wins]
    out = {}
    for k in parts[0]:
        shape = (len(parts), length) + parts[0][k].shape[1:]
        arr = np.zeros(shape, dtype=parts[0][k].dtype)
        for j, p in enumerate(parts):
            arr[j, : len(p[k])] = p[k]
        out[k] = arr
    mask = np.zeros((len(parts), length), dtype=np.float32)
    for j, w in enumerate(wins):
        mask[j, : w[2]] = 1.0
    out["mask"] = mask
    return out
