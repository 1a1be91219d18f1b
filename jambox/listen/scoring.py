"""Scores against a clip's truth with mir_eval: onsets (50 ms), notes (onset 50 ms, pitch 50 cents), beats."""

from __future__ import annotations

import numpy as np

ONSET_TOLERANCE = 0.05
PITCH_TOLERANCE_CENTS = 50.0


def _hz(pitches) -> np.ndarray:
    return 440.0 * 2.0 ** ((np.asarray(pitches, float) - 69.0) / 12.0)


def onset_f(ref: list[float], est: list[float]) -> float:
    import mir_eval

    if not ref:
        return float(not est)
    if not est:
        return 0.0
    return float(mir_eval.onset.f_measure(np.array(ref), np.sort(np.array(est)), window=ONSET_TOLERANCE)[0])


def note_f(ref: list[tuple[float, int]], est: list[tuple[float, int]]) -> float:
    """Note F-measure on onset and pitch only (offsets not scored)."""
    import mir_eval

    if not ref or not est:
        return 0.0
    r_on = np.array([t for t, _ in ref])
    e_on = np.array([t for t, _ in est])
    r_iv = np.stack([r_on, r_on + 0.1], axis=1)
    e_iv = np.stack([e_on, e_on + 0.1], axis=1)
    p, r, f, _ = mir_eval.transcription.precision_recall_f1_overlap(
        r_iv, _hz([p for _, p in ref]), e_iv, _hz([p for _, p in est]),
        onset_tolerance=ONSET_TOLERANCE, pitch_tolerance=PITCH_TOLERANCE_CENTS, offset_ratio=None)
    return float(f)


def beat_f(ref: list[float], est: list[float]) -> float:
    """mir_eval's beat F-measure (70 ms), both sequences trimmed of their first 5 s as mir_eval advises."""
    import mir_eval

    r = mir_eval.beat.trim_beats(np.array(ref))
    e = mir_eval.beat.trim_beats(np.array(sorted(est)))
    if len(r) == 0:
        return float(len(e) == 0)
    return float(mir_eval.beat.f_measure(r, e))


def matched_latencies(ref_onsets: list[float], est: list[tuple[float, float]], pitches=None, ref_pitches=None,
                      only_pitch: int | None = None) -> list[float]:
    """emitted_at minus the true onset, for each true onset (of ``only_pitch``) matched within 50 ms."""
    out = []
    if not est:
        return out
    times = np.array([t for t, _ in est])
    for k, t in enumerate(ref_onsets):
        if only_pitch is not None and ref_pitches[k] != only_pitch:
            continue
        i = int(np.argmin(np.abs(times - t)))
        if abs(times[i] - t) <= ONSET_TOLERANCE and (pitches is None or pitches[i] == ref_pitches[k]):
            out.append(est[i][1] - t)
    return out


def score_listener(clip, result: dict) -> dict:
    ref_on = [n[0] for n in clip.notes]
    ref_notes = [(n[0], n[2]) for n in clip.notes]
    est_notes = [(n["onset"], n["pitch"]) for n in result["notes"]]
    onsets = [(o["time"], o["emitted_at"]) for o in result["onsets"]]
    key = result["key"]
    num, den = clip.spec.meter
    return {
        "onset_f": onset_f(ref_on, [o[0] for o in onsets]),
        "note_f": note_f(ref_notes, est_notes),
        "beat_f": beat_f(clip.beats, result["beats"]),
        "meter_ok": tuple(result["meter"]) == (num, den),
        "key_ok": key is not None and (key["tonic"], key["mode"]) == tuple(clip.key),
        "loop_ok": result["loop_bars"] == clip.spec.loop_bars,
        "tempo_ok": result["tempo_bpm"] is not None
        and abs(result["tempo_bpm"] / (clip.spec.bpm * (1 + clip.spec.drift)) - 1) < 0.04,
        "onset_latency": matched_latencies(ref_on, onsets),
        "note_latency_e1": matched_latencies(
            ref_on, [(n["onset"], n["emitted_at"]) for n in result["notes"]],
            pitches=[n["pitch"] for n in result["notes"]], ref_pitches=[n[2] for n in clip.notes], only_pitch=28),
        "first_pitch_latency_e1": matched_latencies(
            ref_on, [(n["onset"], n.get("first_emitted_at", n["emitted_at"])) for n in result["notes"]],
            pitches=[n["pitch"] for n in result["notes"]], ref_pitches=[n[2] for n in clip.notes], only_pitch=28),
    }
