"""Figures for the step model: time per step (p50/p99, one thread) for each backend, fresh and after
10,000 steps of carried state (the cost must not grow), plus load time and file sizes.

Inputs are real encoded rows (a 4/4 groove with a bass line, through features.encode_*_step), so the
figures include nothing but ``StepModel.step``; the encoders' own cost is measured separately.
"""

from __future__ import annotations

import time

import numpy as np

from jambox.generate import features as F

CARRIED = 10_000


def _rows(n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    meter = F.meter_for(4, 4)
    dx = np.zeros((n, F.DRUM_IN), np.float32)
    hx = np.zeros((n, F.HARM_IN), np.float32)
    hits = np.zeros(F.N_DRUMS, np.float32)
    for t in range(n):
        s = t % 16
        on = s in (0, 3, 6, 8, 11, 14)
        F.encode_drum_step(dx[t : t + 1], meter, s, 96.0, 0.55, on, 0.7, float(rng.normal(0, 0.05)), True,
                           (s + 1) % 16 in (0, 3, 6, 8, 11, 14), 0.6, 0.4, 0.5, float(s >= 12 and t % 64 >= 48),
                           hits, hits * 0.7, hits * 0.0)
        F.encode_harm_step(hx[t : t + 1], meter, s, 96.0, 0.55, on, 0.7, True, False, (0, 5, 7, 9)[(t // 16) % 4],
                           False, 0.2, 0.4, 0.5, F.chord_index((0, 5, 7, 9)[(t // 16) % 4], 0), 0, s % 4 == 0, 0.6)
        hits = (rng.random(F.N_DRUMS) < 0.2).astype(np.float32)
    return dx, hx


def _time_steps(model, dx, hx, n: int, offset: int = 0) -> np.ndarray:
    times = np.empty(n)
    m = len(dx)
    clock = time.perf_counter_ns
    for i in range(n):
        j = (offset + i) % m
        t0 = clock()
        model.step(dx[j], hx[j])
        times[i] = clock() - t0
    return times / 1e6  # ms


def _encode_cost(n: int) -> float:
    meter = F.meter_for(7, 8)
    dx = np.zeros((1, F.DRUM_IN), np.float32)
    hx = np.zeros((1, F.HARM_IN), np.float32)
    z = np.zeros(F.N_DRUMS, np.float32)
    t0 = time.perf_counter()
    for t in range(n):
        F.encode_drum_step(dx, meter, t % 14, 120.0, 0.5, True, 0.5, 0.0, True, False, 0.5, 0.5, 0.5, 0.0, z, z, z)
        F.encode_harm_step(hx, meter, t % 14, 120.0, 0.5, True, 0.5, True, False, 3, False, 0.2, 0.4, 0.5, 5, 1,
                           True, 0.5)
    return (time.perf_counter() - t0) / n * 1e3


def run(quick: bool) -> dict:
    from jambox.errors import ModelError
    from jambox.generate.model import load_model

    figures: dict = {}
    n = 500 if quick else 3000
    carried = 2000 if quick else CARRIED
    dx, hx = _rows(1024)
    for backend in ("onnx", "tflite"):
        key = "onnx_int8" if backend == "onnx" else "tflite"
        try:
            t0 = time.perf_counter()
            model = load_model(None, backend)
            figures[f"{key}_load_ms"] = round((time.perf_counter() - t0) * 1e3, 1)
        except ModelError as e:
            figures[f"{key}_error"] = str(e)
            continue
        figures[f"{key}_file_kib"] = round(model.path.stat().st_size / 1024)
        _time_steps(model, dx, hx, 50)  # warm-up
        model.reset_state()
        fresh = _time_steps(model, dx, hx, n)
        _time_steps(model, dx, hx, carried, offset=n)
        late = _time_steps(model, dx, hx, n, offset=n + carried)
        figures[f"{key}_step_ms_p50"] = round(float(np.percentile(fresh, 50)), 4)
        figures[f"{key}_step_ms_p99"] = round(float(np.percentile(fresh, 99)), 4)
        figures[f"{key}_step_ms_p50_after_{carried}_steps"] = round(float(np.percentile(late, 50)), 4)
        figures[f"{key}_step_ms_p99_after_{carried}_steps"] = round(float(np.percentile(late, 99)), 4)
        figures[f"{key}_state_finite_after_{carried + 2 * n}_steps"] = bool(
            all(np.isfinite(s).all() for s in model.get_state()))
    figures["encode_both_step_ms"] = round(_encode_cost(200 if quick else 2000), 4)
    figures["threads"] = 1
    return figures
