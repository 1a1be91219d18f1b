"""Listener figures: accuracy on the rendered test set (beside two aubio peers), latency and speed.

The set is :func:`jambox.listen.testclips.clip_set` (base seed 1000: never used for tuning): every
GM bass program with every degradation, the six meters, 70-160 bpm, straight, swung, behind the
beat and drifting. Scores are mir_eval's (see :mod:`jambox.listen.scoring`).
"""

from __future__ import annotations

import os
import time

import numpy as np


def _one_core() -> None:
    try:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    except (AttributeError, OSError):
        pass


def run(quick: bool = False) -> dict:
    from jambox.config import load_config
    from jambox.listen.offline import hear
    from jambox.listen.peers import aubio_notes, onset_yin
    from jambox.listen.scoring import beat_f, note_f, onset_f, score_listener
    from jambox.listen.testclips import PROGRAM_NAMES, clip_set, render_clip

    _one_core()
    cfg = load_config(None).listener
    sr = 48000
    rows = []
    listen_s = audio_s = 0.0
    for spec in clip_set(quick=quick):
        clip = render_clip(spec, sr)
        t0 = time.thread_time()  # CPU time: the machine is shared, wall time measures the neighbours
        result = hear(clip.audio, sr, cfg)
        listen_s += time.thread_time() - t0
        audio_s += len(clip.audio) / sr
        s = score_listener(clip, result)
        s["beat_phase"] = beat_phase_errors(clip.beats, result["beats"])
        s["onset_bias"] = onset_errors([n[0] for n in clip.notes], [o["time"] for o in result["onsets"]])
        s["behind"] = bool(spec.behind_ms)
        ref_on = [n[0] for n in clip.notes]
        ref_notes = [(n[0], n[2]) for n in clip.notes]
        an = aubio_notes(clip.audio, sr)
        oy, oy_beats = onset_yin(clip.audio, sr)
        s["aubio_notes"] = {"onset_f": onset_f(ref_on, [t for t, _ in an]), "note_f": note_f(ref_notes, an)}
        s["onset_yin"] = {"onset_f": onset_f(ref_on, [t for t, _ in oy]), "note_f": note_f(ref_notes, oy),
                          "beat_f": beat_f(clip.beats, oy_beats)}
        s["name"] = clip.name
        s["program"] = PROGRAM_NAMES[spec.program]
        s["degradation"] = spec.degradation
        s["meter"] = f"{spec.meter[0]}/{spec.meter[1]}"
        rows.append(s)
    out = summarize(rows, audio_s, listen_s)
    out.update(hop_costs(cfg, sr))
    return out


def _nearest(ref: np.ndarray, est: np.ndarray) -> np.ndarray:
    """Index into sorted ``ref`` (two or more) of the element nearest each of ``est``."""
    i = np.clip(np.searchsorted(ref, est), 1, len(ref) - 1)
    return np.where(est - ref[i - 1] < ref[i] - est, i - 1, i)


def beat_phase_errors(ref: list[float], est: list[float], skip_s: float = 5.0) -> list[float]:
    """Signed seconds from each reported beat to the nearest true beat (positive: the grid is late).

    Beats in the first ``skip_s`` (the grid is still locking; mir_eval's beat F trims them too) and
    beats further than a quarter of a beat from any true beat (a grid between the beats: a beat F
    miss, not a phase error) are left out.
    """
    ref_a = np.asarray(ref, float)
    est_a = np.asarray(sorted(est), float)
    est_a = est_a[est_a >= skip_s]
    if len(ref_a) < 2 or not len(est_a):
        return []
    k = _nearest(ref_a, est_a)
    d = est_a - ref_a[k]
    beat = np.diff(ref_a)[np.minimum(k, len(ref_a) - 2)]
    return [float(x) for x in d[np.abs(d) < 0.25 * beat]]


def onset_errors(ref: list[float], est: list[float], tolerance: float = 0.05) -> list[float]:
    """Signed seconds from each true onset to the nearest reported one, where that is within ``tolerance``."""
    ref_a = np.asarray(ref, float)
    est_a = np.sort(np.asarray(est, float))
    if not len(ref_a) or not len(est_a):
        return []
    if len(est_a) == 1:
        d = est_a[0] - ref_a
    else:
        d = est_a[_nearest(est_a, ref_a)] - ref_a
    return [float(x) for x in d[np.abs(d) <= tolerance]]


def _ms_stats(xs: list[float]) -> tuple[float | None, float | None]:
    """Median and interquartile range, in ms."""
    if not xs:
        return None, None
    q1, med, q3 = np.percentile(xs, [25, 50, 75])
    return round(1000 * float(med), 1), round(1000 * float(q3 - q1), 1)


def hop_costs(cfg, sr: int) -> dict:
    """Per-hop CPU cost of the listener on the demo riff (process + heard, as the chain calls them).

    Thread CPU time, not wall time: what the hop costs, not how often the scheduler lent the core away.
    """
    from jambox.audio.files import load_bass
    from jambox.demo_riff import AUDIO_FILE
    from jambox.listen import Listener

    x = load_bass(AUDIO_FILE, sr)
    listener = Listener(sr, cfg)
    hop = listener.hop_size
    costs = []
    for i in range(0, len(x) - hop, hop):
        t0 = time.thread_time()
        listener.process(x[i:i + hop])
        listener.heard()
        costs.append(time.thread_time() - t0)
    costs = np.array(costs) * 1e6
    budget = hop / sr * 1e6
    return {"hop_us_median": round(float(np.median(costs)), 1), "hop_us_p99": round(float(np.percentile(costs, 99)), 1),
            "hop_us_max": round(float(costs.max()), 1), "hop_budget_us": round(budget, 1),
            "demo_realtime_factor_one_core": round(budget / float(costs.mean()), 1)}


def summarize(rows: list[dict], audio_s: float, listen_s: float) -> dict:
    def mean(xs):
        return round(float(np.mean(xs)), 3) if len(xs) else None

    out = {"clips": len(rows), "audio_seconds": round(audio_s, 1)}
    out["table"] = {
        "jambox": {"onset_f": mean([r["onset_f"] for r in rows]), "note_f": mean([r["note_f"] for r in rows]),
                   "beat_f": mean([r["beat_f"] for r in rows])},
        "aubio_notes": {"onset_f": mean([r["aubio_notes"]["onset_f"] for r in rows]),
                        "note_f": mean([r["aubio_notes"]["note_f"] for r in rows]), "beat_f": None},
        "onset_yin": {"onset_f": mean([r["onset_yin"]["onset_f"] for r in rows]),
                      "note_f": mean([r["onset_yin"]["note_f"] for r in rows]),
                      "beat_f": mean([r["onset_yin"]["beat_f"] for r in rows])},
    }
    for key in ("meter_ok", "key_ok", "loop_ok", "tempo_ok"):
        out[key.replace("_ok", "_right_share")] = mean([float(r[key]) for r in rows])
    lat = [x for r in rows for x in r["onset_latency"]]
    e1 = [x for r in rows for x in r["note_latency_e1"]]
    e1_first = [x for r in rows for x in r["first_pitch_latency_e1"]]
    out["onset_latency_median_ms"] = round(1000 * float(np.median(lat)), 1) if lat else None
    out["e1_note_latency_median_ms"] = round(1000 * float(np.median(e1)), 1) if e1 else None  # right pitch known
    out["e1_first_pitch_latency_median_ms"] = round(1000 * float(np.median(e1_first)), 1) if e1_first else None
    out["e1_notes_scored"] = len(e1)
    # the grid's phase against the true beats: the generator plays on it, so a late grid is a late band.
    # A player behind the beat by the same amount on every note cannot be told, from the bass alone,
    # from one on it: those clips are kept apart
    phase = [x for r in rows if not r.get("behind") for x in r.get("beat_phase", [])]
    phase_all = [x for r in rows for x in r.get("beat_phase", [])]
    bias = [x for r in rows for x in r.get("onset_bias", [])]
    out["beat_phase_ms_median"], out["beat_phase_ms_iqr"] = _ms_stats(phase)
    out["beat_phase_ms_median_all_clips"], _ = _ms_stats(phase_all)
    out["onset_bias_ms_median"], out["onset_bias_ms_iqr"] = _ms_stats(bias)
    out["realtime_factor_one_core"] = round(audio_s / listen_s, 1) if listen_s else None
    for group in ("program", "degradation", "meter"):
        by = {}
        for r in rows:
            by.setdefault(r[group], []).append(r)
        out[f"by_{group}"] = {
            k: {"note_f": mean([r["note_f"] for r in v]), "onset_f": mean([r["onset_f"] for r in v]),
                "beat_f": mean([r["beat_f"] for r in v]), "meter": mean([float(r["meter_ok"]) for r in v]),
                "key": mean([float(r["key_ok"]) for r in v]), "loop": mean([float(r["loop_ok"]) for r in v]),
                "beat_phase_ms": _ms_stats([x for r in v if not r.get("behind") for x in r.get("beat_phase", [])])[0],
                "onset_bias_ms": _ms_stats([x for r in v for x in r.get("onset_bias", [])])[0]}
            for k, v in sorted(by.items())
        }
    out["worst_clips"] = sorted(((round(r["note_f"], 3), round(r["beat_f"], 3), r["name"]) for r in rows))[:8]
    return out
