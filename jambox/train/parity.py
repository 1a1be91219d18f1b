"""Parity: torch vs float ONNX vs int8 ONNX vs TFLite on real encoded inputs, state carried step by step.

The reference is the trained torch nets run over the whole sequence at once (``nn.GRU``); each
exported model is stepped one input row at a time through :class:`jambox.generate.model.StepModel`,
carrying its own state, so that any drift in the state shows up as a growing difference.
Differences are measured on what the sampler uses: probabilities (sigmoid of hit logits, softmax of
chord and voicing logits), velocities and offsets.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from jambox.generate import features as F
from jambox.train import dataset as D
from jambox.train.net import JamNets, squash, torch

# Max abs difference allowed against torch, on probabilities / velocities / offsets.
TOLERANCE = {"float": 1e-4, "tflite": 1e-4, "int8": 0.05}


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def comparable(outs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Logits -> probabilities; everything else as is. Arrays are [T, width]."""
    return {
        "drum_hit_p": _sigmoid(outs["drum_hit_logits"]),
        "drum_velocity": outs["drum_velocity"],
        "drum_offset": outs["drum_offset"],
        "chord_p": _softmax(outs["chord_logits"]),
        "voicing_p": _softmax(outs["voicing_logits"]),
        "keys_hit_p": _sigmoid(outs["keys_hit_logit"]),
        "keys_velocity": outs["keys_velocity"],
    }


def validation_inputs(drums: D.Tables, harmony: D.Tables, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """[steps, DRUM_IN] and [steps, HARM_IN] from the longest held-out sequences (repeated if short)."""

    def longest(t: D.Tables, make):
        lengths = np.diff(t.starts) * t.meta["val"].astype(bool)
        if not lengths.any():
            lengths = np.diff(t.starts)
        i = int(lengths.argmax())
        n = int(np.diff(t.starts)[i])
        x = make(t, i, 0, n)["x"]
        reps = -(-steps // len(x))
        return np.concatenate([x] * reps)[:steps]

    return longest(drums, D.drum_window), longest(harmony, D.harm_window)


def torch_outputs(nets: JamNets, dx: np.ndarray, hx: np.ndarray) -> dict[str, np.ndarray]:
    with torch.no_grad():
        d, _ = nets.drums(torch.from_numpy(dx)[None])
        h, _ = nets.harmony(torch.from_numpy(hx)[None])
    raw = {**d, **h}
    return {k: squash(k, v)[0].numpy() for k, v in raw.items()}


def backend_outputs(path: Path, backend: str, dx: np.ndarray, hx: np.ndarray) -> dict[str, np.ndarray]:
    from jambox.generate.model import load_model

    model = load_model(path, backend)
    model.reset_state()
    rows: dict[str, list] = {k: [] for k in F.OUTPUT_NAMES[:-2]}
    for t in range(len(dx)):
        o = model.step(dx[t], hx[t])
        rows["drum_hit_logits"].append(o.drum_hit_logits.copy())
        rows["drum_velocity"].append(o.drum_velocity.copy())
        rows["drum_offset"].append(o.drum_offset.copy())
        rows["chord_logits"].append(o.chord_logits.copy())
        rows["voicing_logits"].append(o.voicing_logits.copy())
        rows["keys_hit_logit"].append([o.keys_hit_logit])
        rows["keys_velocity"].append([o.keys_velocity])
    return {k: np.asarray(v, dtype=np.float32) for k, v in rows.items()}


def max_differences(ref: dict, other: dict) -> dict[str, float]:
    a, b = comparable(ref), comparable(other)
    return {k: float(np.abs(a[k] - b[k]).max()) for k in a}


def check_parity(nets: JamNets, models: dict[str, tuple[Path, str]], dx: np.ndarray, hx: np.ndarray) -> dict:
    """{name: {output: max abs diff}} against torch for each (path, backend) in ``models``."""
    ref = torch_outputs(nets, dx, hx)
    return {name: max_differences(ref, backend_outputs(path, backend, dx, hx)) for name, (path, backend) in
            models.items()}
