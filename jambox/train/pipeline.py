"""The two commands' work: a seeded training run, and export with parity checks and the model card."""

from __future__ import annotations

import json
import logging
import platform
import time
from pathlib import Path

from jambox.errors import TrainingError
from jambox.train import dataset as D
from jambox.train.loop import TrainConfig, load_checkpoint, save_checkpoint, train

log = logging.getLogger(__name__)

PARITY_STEPS = 256
QUICK = dict(epochs=1, window=64, batch=8, max_batches_per_epoch=6)
FULL = dict(epochs=4, window=128, batch=96, max_batches_per_epoch=80)


def train_run(data_dir: Path, out_dir: Path, *, quick: bool, seed: int, epochs: int | None = None,
              cache_dir: Path | None = None, threads: int = 2, progress: bool = True) -> dict:
    from jambox.train.metrics import evaluate

    t0 = time.perf_counter()
    drums, harmony, data_info = D.build_tables(data_dir, quick=quick, seed=seed, cache_dir=cache_dir,
                                               progress=progress)
    encode_s = time.perf_counter() - t0
    params = dict(QUICK if quick else FULL)
    if epochs:
        params["epochs"] = epochs
    cfg = TrainConfig(seed=seed, threads=1 if quick else threads, **params)
    nets, report = train(drums, harmony, cfg, progress=progress)
    metrics = evaluate(nets, drums, harmony, seed=seed, quick=quick, progress=progress)
    metrics["validation_losses"] = report["history"][-1]["val"]
    info = {
        "data_dir": str(Path(data_dir).resolve()),
        **data_info,
        "command": _command(quick, seed, epochs),
        "encode_seconds": round(encode_s, 1),
        "train": report,
        "metrics": metrics,
        "machine": f"{platform.machine()}, {platform.python_version()}",
    }
    out_dir = Path(out_dir)
    ck = out_dir / "checkpoint.pt"
    save_checkpoint(ck, nets, cfg, info)
    (out_dir / "metrics.json").write_text(json.dumps(info, indent=2, default=str) + "\n")
    return {"checkpoint": ck, "metrics": metrics, "info": info}


def evaluate_run(out_dir: Path, *, cache_dir: Path | None = None, progress: bool = True) -> dict:
    """Recompute the held-out metrics of the checkpoint in ``out_dir`` (after a change to the metrics)."""
    from jambox.train.metrics import evaluate

    ck_path = Path(out_dir) / "checkpoint.pt"
    nets, ck = load_checkpoint(ck_path)
    info = ck.get("info", {})
    seed = int(ck.get("train", {}).get("seed", 0))
    drums, harmony, _ = D.build_tables(Path(info["data_dir"]), quick=bool(info.get("quick")), seed=seed,
                                       cache_dir=cache_dir, progress=progress)
    metrics = evaluate(nets, drums, harmony, seed=seed, quick=bool(info.get("quick")), progress=progress)
    metrics["validation_losses"] = info.get("metrics", {}).get("validation_losses")
    info["metrics"] = metrics
    ck["info"] = info
    torch_save(ck, ck_path)
    (Path(out_dir) / "metrics.json").write_text(json.dumps(info, indent=2, default=str) + "\n")
    return {"checkpoint": ck_path, "metrics": metrics, "info": info}


def torch_save(obj, path: Path) -> None:
    from jambox.train.net import torch

    tmp = Path(path).with_suffix(".tmp")
    torch.save(obj, tmp)
    tmp.replace(path)


def _command(quick: bool, seed: int, epochs: int | None) -> str:
    parts = ["jambox train", f"--seed {seed}"]
    if quick:
        parts.append("--quick")
    if epochs:
        parts.append(f"--epochs {epochs}")
    return " ".join(parts)


def export_run(checkpoint: Path, out_dir: Path, data_dir: Path | None = None) -> dict:
    from jambox.train.card import write_model_card
    from jambox.train.export import export_all
    from jambox.train.parity import TOLERANCE, check_parity, validation_inputs

    nets, ck = load_checkpoint(checkpoint)
    info = ck.get("info", {})
    meta = {"data_sha256": info.get("data_sha256", "?"), "seed": ck.get("train", {}).get("seed", "?"),
            "command": info.get("command", "?")}
    paths = export_all(nets, Path(out_dir), meta)
    data = Path(data_dir) if data_dir else Path(info.get("data_dir", ""))
    drums, harmony, _ = D.build_tables(data, quick=bool(info.get("quick", False)),
                                       seed=int(ck.get("train", {}).get("seed", 0)), progress=False)
    dx, hx = validation_inputs(drums, harmony, PARITY_STEPS)
    models = {"float": (paths["float"], "onnx"), "int8": (paths["int8"], "onnx"), "tflite": (paths["tflite"], "tflite")}
    diffs = check_parity(nets, models, dx, hx)
    worst = {name: max(d.values()) for name, d in diffs.items()}
    for name, err in worst.items():
        if err > TOLERANCE[name]:
            raise TrainingError(f"{name} model differs from torch by {err:.3g} (> tolerance {TOLERANCE[name]}) "
                                f"over {PARITY_STEPS} validation steps: {diffs[name]}")
    write_model_card(Path(out_dir) / "MODEL_CARD.md", info, ck, paths, diffs, PARITY_STEPS)
    return {"files": {k: v for k, v in paths.items()}, "parity": worst, "parity_detail": diffs}
