"""Baselines the model must beat, on the same held-out steps and tokens.

- :class:`PatternBank`: what a drum machine does. Eight fixed one-bar genre patterns; for each
  held-out performance the preset whose kick and snare best match the given rhythm is chosen (as a
  player picks the preset that fits the riff), then looped. Its probabilities for the likelihood
  are the pattern smoothed by hit rates fitted on the training split.
- :class:`NGram`: an interpolated (Witten-Bell) n-gram over the same tokens the model predicts (the
  9-voice hit vector of a step; the chord of a step), with the same given inputs in its context (the
  rhythm's onset and the position in the bar; the bass pitch class).
- :func:`bass_triads`: the harmony rule a simple auto-accompaniment uses: the diatonic triad on the
  bass note, held while the bass is silent.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from jambox.generate import features as F

_P = {  # one 4/4 bar of 16ths per voice; "x" = hit
    "rock": {F.KICK: "x.......x.x.....", F.SNARE: "....x.......x...", F.CLOSED_HAT: "x.x.x.x.x.x.x.x."},
    "funk": {F.KICK: "x..x..x...x..x..", F.SNARE: "....x..x.x..x...", F.CLOSED_HAT: "xxxxxxxxxxxxxxxx"},
    "hiphop": {F.KICK: "x......x.xx.....", F.SNARE: "....x.......x...", F.CLOSED_HAT: "x.x.x.x.x.x.x.x."},
    "disco": {F.KICK: "x...x...x...x...", F.SNARE: "....x.......x...", F.CLOSED_HAT: "x...x...x...x...",
              F.OPEN_HAT: "..x...x...x...x."},
    "jazz": {F.RIDE: "x...x..xx...x..x", F.CLOSED_HAT: "....x.......x...", F.KICK: "x..............."},
    "reggae": {F.KICK: "........x.......", F.SNARE: "........x.......", F.CLOSED_HAT: "..x...x...x...x."},
    "bossa": {F.KICK: "x..xx..xx..xx..x", F.SNARE: "x..x..x...x..x..", F.CLOSED_HAT: "x.x.x.x.x.x.x.x."},
    "halftime": {F.KICK: "x.........x.....", F.SNARE: "........x.......", F.CLOSED_HAT: "x.x.x.x.x.x.x.x."},
}
PATTERN_VELOCITY = 0.75


def pattern_bar(name: str, bar_steps: int) -> np.ndarray:
    """[bar_steps, N_DRUMS] bool: the preset cut or extended (from its start) to the bar's length."""
    grid = np.zeros((16, F.N_DRUMS), dtype=bool)
    for v, s in _P[name].items():
        grid[:, v] = [c == "x" for c in s]
    reps = -(-bar_steps // 16)
    return np.concatenate([grid] * reps)[:bar_steps]


class PatternBank:
    names = tuple(_P)

    def __init__(self):
        self.p_hit = 0.8  # P(real hit | pattern hit), fitted by fit()
        self.p_miss = 0.02  # P(real hit | no pattern hit)

    def choose(self, onset: np.ndarray, step_in_bar: np.ndarray, bar_steps: int) -> str:
        """The preset whose kick+snare best matches the given rhythm (F1 over the sequence)."""
        best, best_f = self.names[0], -1.0
        for name in self.names:
            grid = self.loop(name, step_in_bar, bar_steps)
            ks = grid[:, F.KICK] | grid[:, F.SNARE]
            f = f1(ks, onset)
            if f > best_f:
                best, best_f = name, f
        return best

    def loop(self, name: str, step_in_bar: np.ndarray, bar_steps: int) -> np.ndarray:
        return pattern_bar(name, bar_steps)[np.asarray(step_in_bar) % bar_steps]

    def fit(self, seqs) -> None:
        """seqs: iterable of (onset, step_in_bar, bar_steps, real hits [T, 9])."""
        hit_on = hit_total = miss_on = miss_total = 0
        for onset, sib, n, hits in seqs:
            grid = self.loop(self.choose(onset, sib, n), sib, n)
            hit_on += int((hits & grid).sum())
            hit_total += int(grid.sum())
            miss_on += int((hits & ~grid).sum())
            miss_total += int((~grid).sum())
        self.p_hit = float(np.clip(hit_on / max(1, hit_total), 0.05, 0.95))
        self.p_miss = float(np.clip(miss_on / max(1, miss_total), 0.005, 0.5))

    def nll(self, grid: np.ndarray, hits: np.ndarray) -> np.ndarray:
        """Per-step negative log-likelihood (nats, summed over voices) of ``hits`` under the loop."""
        p = np.where(grid, self.p_hit, self.p_miss)
        ll = np.where(hits, np.log(p), np.log1p(-p))
        return -ll.sum(axis=1)


def f1(pred: np.ndarray, real: np.ndarray) -> float:
    pred, real = np.asarray(pred, bool), np.asarray(real, bool)
    tp = int((pred & real).sum())
    if tp == 0:
        return 0.0
    precision, recall = tp / pred.sum(), tp / real.sum()
    return float(2 * precision * recall / (precision + recall))


class NGram:
    """Interpolated Witten-Bell model P(token | context levels), most specific level first.

    ``contexts(t)`` supplies, for each step, a tuple of context keys from most to least specific;
    the last level is the unconditioned one. Probabilities bottom out in a uniform distribution
    over ``vocab`` tokens, so no held-out token has probability zero.
    """

    def __init__(self, vocab: int):
        self.vocab = vocab
        self.counts: list[dict] = []

    def fit(self, tokens: np.ndarray, contexts: list[np.ndarray]) -> NGram:
        self.counts = []
        for ctx in contexts:
            table: dict = defaultdict(lambda: defaultdict(int))
            for c, tok in zip(map(tuple, ctx) if ctx.ndim > 1 else ctx, tokens):
                table[c][int(tok)] += 1
            self.counts.append({c: (np.fromiter(d.keys(), int), np.fromiter(d.values(), float)) for c, d in
                                table.items()})
        return self

    def distribution(self, keys: tuple) -> np.ndarray:
        """Dense P over the vocabulary for one step's context keys (one per level)."""
        p = np.full(self.vocab, 1.0 / self.vocab)
        for level in reversed(range(len(self.counts))):  # least specific first, then refine
            entry = self.counts[level].get(keys[level])
            if entry is None:
                continue
            toks, cnt = entry
            total, distinct = cnt.sum(), len(toks)
            lam = total / (total + distinct)
            ml = np.zeros(self.vocab)
            ml[toks] = cnt / total
            p = lam * ml + (1 - lam) * p
        return p


def bass_triads(bass_pc_rel: np.ndarray, minor: np.ndarray) -> np.ndarray:
    """Chord tokens: the diatonic triad on each sounding bass note, held through silence."""
    major_q = {0: "maj", 2: "min", 4: "min", 5: "maj", 7: "maj", 9: "min", 11: "dim"}
    minor_q = {0: "min", 2: "dim", 3: "maj", 5: "min", 7: "min", 8: "maj", 10: "maj", 11: "dim"}
    out = np.zeros(len(bass_pc_rel), dtype=np.int64)
    last = F.NO_CHORD
    for i, (pc, m) in enumerate(zip(bass_pc_rel, minor)):
        if pc >= 0:
            q = (minor_q if m else major_q).get(int(pc), "maj")
            last = F.chord_index(int(pc), F.CHORD_QUALITIES.index(q))
        out[i] = last
    return out
