"""Memory figures: what an acknowledged action costs on this disk, recall, and how the file grows.

Measured on a scratch file in the directory the state file would live in (the SD card on a Pi), not
in /tmp, which may be RAM: the commit latency is an fsync, and that is the figure that matters.
"""

from __future__ import annotations

import random
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from jambox.events import Note


def _scratch_dir() -> tuple[Path, str]:
    from jambox.memory.paths import default_state_path

    place = default_state_path().parent
    try:
        place.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=".jambox-bench-", dir=place)), str(place)
    except OSError:
        return Path(tempfile.mkdtemp(prefix="jambox-bench-")), tempfile.gettempdir()


def _random_riff(rng: random.Random, beat: float) -> list[Note]:
    step = beat / 4
    steps = sorted(rng.sample(range(32), rng.randrange(6, 14)))
    root = rng.randrange(28, 45)
    return [Note(onset=int(s * step), pitch=root + rng.choice((0, 0, 3, 5, 7, 10, 12)), velocity=90, emitted_at=0)
            for s in steps]


def _ms(values: list[float]) -> dict:
    a = np.array(values) * 1e3
    return {"p50": round(float(np.percentile(a, 50)), 3), "p99": round(float(np.percentile(a, 99)), 3),
            "max": round(float(a.max()), 3)}


def run(quick: bool = False) -> dict:
    from jambox.memory import Memory, riff_fingerprint
    from jambox.memory.fingerprint import riff_similarity

    n_actions = 300 if quick else 3000
    n_riffs = 50 if quick else 500
    rng = random.Random(1)
    sr, beat = 48000, 48000 * 60 / 100.0
    directory, place = _scratch_dir()
    figures: dict = {"disk_dir": place}
    try:
        path = directory / "state.db"
        t0 = time.perf_counter()
        memory = Memory.open(path)
        figures["open_new_ms"] = round((time.perf_counter() - t0) * 1e3, 2)
        settings = {"energy": 0.6, "dissonance": 0.2, "surprise": 0.3, "level": 0.8, "drums_level": 0.8,
                    "keys_level": 0.7, "meter": [4, 4], "tempo_bpm": 100.0}
        commit = []
        for i in range(n_actions):
            s = dict(settings, energy=rng.random())
            t = time.perf_counter()
            memory.record_action("softer", source="bench", stream_time=i * sr, control=None, value=None,
                                 effect="pulled the hi-hat back", settings=s, riff="r1:bench")
            commit.append(time.perf_counter() - t)
        figures["record_action_ms"] = _ms(commit)
        noted = []
        for i in range(n_actions):
            t = time.perf_counter()
            memory.note_controls(dict(settings, energy=i / n_actions), (n_actions + i) * sr)
            noted.append(time.perf_counter() - t)
        figures["note_controls_ms"] = _ms(noted)

        riffs = [riff_fingerprint(_random_riff(rng, beat), beat, 2, (4, 4)) for _ in range(n_riffs)]
        notes = _random_riff(rng, beat)
        t = time.perf_counter()
        for _ in range(100):
            riff_fingerprint(notes, beat, 2, (4, 4))
        figures["fingerprint_us"] = round((time.perf_counter() - t) / 100 * 1e6, 1)
        t = time.perf_counter()
        for r in riffs[:100]:
            riff_similarity(riffs[0], r)
        figures["similarity_us"] = round((time.perf_counter() - t) / min(100, len(riffs)) * 1e6, 1)
        for r in riffs:
            memory.save_kept(r, "drums", {"steps": [rng.randrange(2) for _ in range(32)]}, settings)
        exact = []
        for r in riffs[:50]:
            t = time.perf_counter()
            memory.recall(r)
            exact.append(time.perf_counter() - t)
        figures["recall_exact_ms"] = _ms(exact)
        unknown = [riff_fingerprint(_random_riff(rng, beat), beat, 2, (4, 4)) for _ in range(10)]
        scan = []
        for r in unknown:  # not kept: compared with every kept riff
            t = time.perf_counter()
            memory.recall(r)
            scan.append(time.perf_counter() - t)
        figures[f"recall_by_similarity_ms_{n_riffs}_riffs"] = _ms(scan)
        t = time.perf_counter()
        memory.close()  # folds the session: a timeline of 2 x n_actions points
        figures["close_and_fold_ms"] = round((time.perf_counter() - t) * 1e3, 2)
        size = path.stat().st_size + sum(Path(f"{path}{s}").stat().st_size for s in ("-wal",)
                                         if Path(f"{path}{s}").exists())
        figures[f"file_bytes_after_{n_actions}_actions"] = size
        figures["bytes_per_action"] = round(size / (n_actions * 2 + n_riffs), 1)
        t = time.perf_counter()
        again = Memory.open(path)
        figures["open_existing_ms"] = round((time.perf_counter() - t) * 1e3, 2)
        t = time.perf_counter()
        for _ in range(100):
            again.taste((4, 4), 100.0)
        figures["taste_us"] = round((time.perf_counter() - t) / 100 * 1e6, 1)
        again.close()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return figures
