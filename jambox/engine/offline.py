"""Run the chain over a whole input, block by block, exactly as live mode would hear it.

The accompaniment for a block is rendered only after the input before that block has been fed, so
nothing the generator plans can depend on input it would not have had live. The dry bass is mixed in
without delay, as the audio callback does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jambox.controls.actions import Action
from jambox.engine.chain import Chain


@dataclass
class OfflineResult:
    mix: np.ndarray  # (frames, 2) float32: dry bass + accompaniment
    accompaniment: np.ndarray  # (frames, 2) float32
    sample_rate: int


def run_offline(chain: Chain, bass: np.ndarray, actions: list[Action] = (), tail_s: float = 1.0,
                dry_level: float = 1.0) -> OfflineResult:
    hop = chain.hop_size
    for action in actions:
        chain.submit(action)
    n = len(bass)
    total = n + int(tail_s * chain.sample_rate)
    total += (-total) % hop
    padded = np.zeros(total, np.float32)
    padded[:n] = bass
    accomp = np.zeros((total + hop, 2), np.float32)
    for start in range(0, total, hop):
        t = start + hop  # the stream time the chain has heard up to
        if start < n:
            chain.feed(padded[start:start + hop])
            if t >= n:
                chain.end_of_input(n)
                chain.finish()
        chain.render(accomp[t:t + hop], t)
    accomp = accomp[:total]
    mix = accomp + dry_level * padded[:, None]
    peak = float(np.abs(mix).max())
    if peak > 0.99:  # offline we can scale the whole file; live, the level control and limiter do this
        mix *= 0.99 / peak
    return OfflineResult(mix.astype(np.float32), accomp, chain.sample_rate)
