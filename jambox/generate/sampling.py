"""Controlled sampling from the model's outputs: temperature and top-p set by the surprise knob.

Never argmax alone (a box that always plays its most likely pattern sounds like a preset), never
raw sampling at temperature 1 (a small model's tails are noise). The surprise control moves both the
temperature and the nucleus (top-p) together; every draw comes from one seeded
:class:`numpy.random.Generator`, so a ``--seed`` run plays the same notes again.

Scratch arrays are preallocated per :class:`Sampler`; a draw makes only a few small temporaries
(the sampler runs on the logic thread, never in the audio callback).
"""

from __future__ import annotations

import math

import numpy as np

from jambox.errors import ValueRangeError

T_MIN, T_MAX = 0.55, 1.25  # temperature at surprise 0 and 1
P_MIN, P_MAX = 0.75, 0.97  # top-p at surprise 0 and 1


def temperature(surprise: float) -> float:
    """Sampling temperature for a surprise setting 0..1 (low surprise: close to, never quite, argmax)."""
    _check_unit("surprise", surprise)
    return T_MIN + (T_MAX - T_MIN) * surprise


def top_p(surprise: float) -> float:
    _check_unit("surprise", surprise)
    return P_MIN + (P_MAX - P_MIN) * surprise


def _check_unit(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueRangeError(f"{name} must be in range 0.0..1.0, not {value!r}")


def sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


class Sampler:
    """Draws categorical choices (chords, voicings) and Bernoulli hits with one seeded RNG."""

    def __init__(self, seed: int, max_classes: int = 512):
        self.rng = np.random.default_rng(seed)
        self._p = np.empty(max_classes, np.float64)
        self._order = np.empty(max_classes, np.int64)
        self._cum = np.empty(max_classes, np.float64)

    def reseed(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def uniform(self) -> float:
        return float(self.rng.random())

    def normal(self, scale: float = 1.0) -> float:
        return float(self.rng.normal(0.0, scale))

    def hit(self, logit: float, temp: float, bias: float = 0.0) -> tuple[bool, float]:
        """Bernoulli draw of a hit: probability sigmoid(logit / temp + bias). Returns (hit, probability)."""
        p = sigmoid(logit / temp + bias)
        return self.rng.random() < p, p

    def probabilities(self, logits: np.ndarray, temp: float, bias: np.ndarray | None = None) -> np.ndarray:
        """Softmax of ``logits / temp (+ bias)`` into the sampler's scratch buffer (a view; valid until
        the next call)."""
        n = logits.shape[-1]
        if n > self._p.shape[0]:
            raise ValueRangeError(f"at most {self._p.shape[0]} classes can be sampled, not {n}")
        p = self._p[:n]
        np.divide(logits.reshape(-1), temp, out=p)
        if bias is not None:
            p += bias
        p -= p.max()
        np.exp(p, out=p)
        p /= p.sum()
        return p

    def categorical(self, logits: np.ndarray, temp: float, nucleus: float, bias: np.ndarray | None = None) -> int:
        """One class drawn from the top-p nucleus of softmax(logits / temp + bias)."""
        p = self.probabilities(logits, temp, bias)
        n = p.shape[0]
        order = self._order[:n]
        order[:] = np.argsort(-p, kind="stable")
        cum = self._cum[:n]
        np.cumsum(p[order], out=cum)
        keep = int(np.searchsorted(cum, nucleus)) + 1  # the smallest set whose mass reaches top-p
        keep = min(max(keep, 1), n)
        u = self.rng.random() * cum[keep - 1]
        return int(order[min(int(np.searchsorted(cum[:keep], u, side="right")), keep - 1)])
