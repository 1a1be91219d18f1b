"""The training loop: both nets, teacher-forced over windows, seeded and reproducible on CPU.

Each iteration takes one drum batch and one harmony batch and adds their losses (the nets share no
weights, so this is two trainings in one loop). Losses are per-step negative log-likelihoods for the
categorical / Bernoulli outputs and squared errors for velocity and offset on the steps that hit.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from jambox.train import dataset as D
from jambox.train.net import JamNets, NetConfig, squash, torch

log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    epochs: int = 6
    window: int = 128
    batch: int = 32
    lr: float = 3e-3
    seed: int = 0
    threads: int = 2
    max_batches_per_epoch: int | None = None  # --quick caps it
    net: NetConfig = NetConfig()


def _t(a: np.ndarray):
    return torch.from_numpy(a)


def drum_loss(nets: JamNets, b: dict):
    """(loss, parts): hit BCE per voice-step + velocity and offset MSE where hits."""
    out, _ = nets.drums(_t(b["x"]))
    mask = _t(b["mask"]).unsqueeze(-1)
    hits = _t(b["hits"])
    bce = torch.nn.functional.binary_cross_entropy_with_logits(out["drum_hit_logits"], hits, reduction="none")
    n_steps = mask.sum().clamp(min=1)
    nll = (bce * mask).sum() / n_steps  # nats per step (summed over the 9 voices)
    hm = hits * mask
    n_hits = hm.sum().clamp(min=1)
    vel = ((squash("drum_velocity", out["drum_velocity"]) - _t(b["velocity"])) ** 2 * hm).sum() / n_hits
    off = ((squash("drum_offset", out["drum_offset"]) - _t(b["offset"])) ** 2 * hm).sum() / n_hits
    loss = nll / 9.0 + 2.0 * vel + 2.0 * off
    return loss, {"drum_nll": nll.item(), "drum_vel_mse": vel.item(), "drum_off_mse": off.item()}


def harm_loss(nets: JamNets, b: dict):
    out, _ = nets.harmony(_t(b["x"]))
    mask = _t(b["mask"])
    n_steps = mask.sum().clamp(min=1)
    ce = torch.nn.functional.cross_entropy(out["chord_logits"].transpose(1, 2), _t(b["chord"]), reduction="none")
    chord_nll = (ce * mask).sum() / n_steps
    kh = _t(b["keys_hit"])
    hit_bce = torch.nn.functional.binary_cross_entropy_with_logits(out["keys_hit_logit"][..., 0], kh, reduction="none")
    keys_nll = (hit_bce * mask).sum() / n_steps
    hm = kh * mask
    n_hits = hm.sum().clamp(min=1)
    vce = torch.nn.functional.cross_entropy(out["voicing_logits"].transpose(1, 2), _t(b["voicing"]), reduction="none")
    voicing_nll = (vce * hm).sum() / n_hits
    kvel = ((squash("keys_velocity", out["keys_velocity"])[..., 0] - _t(b["keys_velocity"])) ** 2 * hm).sum() / n_hits
    loss = chord_nll + keys_nll + 0.5 * voicing_nll + 2.0 * kvel
    return loss, {"chord_nll": chord_nll.item(), "keys_nll": keys_nll.item(), "voicing_nll": voicing_nll.item(),
                  "keys_vel_mse": kvel.item()}


def evaluate_losses(nets: JamNets, drums: D.Tables, harmony: D.Tables, cfg: TrainConfig) -> dict[str, float]:
    """Mean validation losses (weighted by batch steps) over the held-out sequences in their own meter."""
    nets.eval()
    sums: dict[str, float] = {}
    weights: dict[str, float] = {}
    with torch.no_grad():
        for tables, make, fn in ((drums, D.drum_window, drum_loss), (harmony, D.harm_window, harm_loss)):
            wins = D.windows(tables, val=True, length=cfg.window, rebarred=False)
            for a in range(0, len(wins), cfg.batch):
                b = D.batch(make, tables, wins[a : a + cfg.batch], cfg.window)
                _, parts = fn(nets, b)
                w = float(b["mask"].sum())
                for k, v in parts.items():
                    sums[k] = sums.get(k, 0.0) + v * w
                    weights[k] = weights.get(k, 0.0) + w
    nets.train()
    return {k: round(sums[k] / weights[k], 4) for k in sums}


def train(drums: D.Tables, harmony: D.Tables, cfg: TrainConfig, progress: bool = True) -> tuple[JamNets, dict]:
    from tqdm import tqdm

    torch.manual_seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    rng = np.random.default_rng(cfg.seed)
    nets = JamNets(cfg.net)
    opt = torch.optim.Adam(nets.parameters(), lr=cfg.lr)
    d_wins = D.windows(drums, val=False, length=cfg.window)
    h_wins = D.windows(harmony, val=False, length=cfg.window)
    if not d_wins or not h_wins:
        from jambox.errors import TrainingError

        raise TrainingError(f"no training windows (drums {len(d_wins)}, harmony {len(h_wins)}): check --data")
    n_batches = max(len(d_wins), len(h_wins)) // cfg.batch + 1
    if cfg.max_batches_per_epoch:
        n_batches = min(n_batches, cfg.max_batches_per_epoch)
    total = n_batches * cfg.epochs
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=total, pct_start=0.1)
    history = []
    t0 = time.perf_counter()
    bar = tqdm(total=total, desc="training", unit="batch", disable=not progress)
    for epoch in range(cfg.epochs):
        d_order = rng.permutation(len(d_wins))
        h_order = rng.permutation(len(h_wins))
        running: dict[str, float] = {}
        for i in range(n_batches):
            dw = [d_wins[d_order[(i * cfg.batch + j) % len(d_wins)]] for j in range(cfg.batch)]
            hw = [h_wins[h_order[(i * cfg.batch + j) % len(h_wins)]] for j in range(cfg.batch)]
            db = D.batch(D.drum_window, drums, dw, cfg.window)
            hb = D.batch(D.harm_window, harmony, hw, cfg.window)
            ld, pd = drum_loss(nets, db)
            lh, ph = harm_loss(nets, hb)
            opt.zero_grad()
            (ld + lh).backward()
            torch.nn.utils.clip_grad_norm_(nets.parameters(), 1.0)
            opt.step()
            sched.step()
            for k, v in {**pd, **ph}.items():
                running[k] = running.get(k, 0.0) + v
            bar.update(1)
            if i % 20 == 0:
                bar.set_postfix(drum=f"{pd['drum_nll']:.3f}", chord=f"{ph['chord_nll']:.3f}")
        val = evaluate_losses(nets, drums, harmony, cfg)
        row = {"epoch": epoch + 1, "train": {k: round(v / n_batches, 4) for k, v in running.items()}, "val": val,
               "seconds": round(time.perf_counter() - t0, 1)}
        history.append(row)
        log.info("epoch %d: %s", epoch + 1, row)
        bar.write(f"epoch {epoch + 1}/{cfg.epochs}: val {val}")
    bar.close()
    nets.eval()
    return nets, {"history": history, "train_seconds": round(time.perf_counter() - t0, 1),
                  "batches": total, "drum_windows": len(d_wins), "harmony_windows": len(h_wins)}


def save_checkpoint(path: Path, nets: JamNets, cfg: TrainConfig, info: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save({"state_dict": nets.state_dict(), "net": cfg.net.to_dict(),
                "train": {k: v for k, v in cfg.__dict__.items() if k != "net"}, "info": info}, tmp)
    tmp.replace(path)


def load_checkpoint(path: Path) -> tuple[JamNets, dict]:
    from jambox.errors import TrainingError

    if not Path(path).is_file():
        raise TrainingError(f"checkpoint {path} not found; expected a file written by `jambox train`")
    try:
        ck = torch.load(path, map_location="cpu", weights_only=False)
        nets = JamNets(NetConfig(**ck["net"]))
        nets.load_state_dict(ck["state_dict"])
    except Exception as e:
        raise TrainingError(f"checkpoint {path} is not a jambox checkpoint ({type(e).__name__}: {e})") from None
    nets.eval()
    return nets, ck
