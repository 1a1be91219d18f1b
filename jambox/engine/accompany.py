"""Accompany a whole bass recording offline: the streaming chain, block by block, then the files."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from jambox.controls.actions import Action
from jambox.engine.chain import Chain
from jambox.engine.offline import run_offline
from jambox.engine.summary import played_in_order, summarize

log = logging.getLogger(__name__)


@dataclass
class AccompanyResult:
    summary: dict
    chain: Chain
    mix: np.ndarray
    sample_rate: int


def accompany(config, bass: np.ndarray, *, actions: list[Action] = (), state_path: str | Path | None = None,
              seed: int | None = None, out_wav: str | Path | None = None, out_midi: str | Path | None = None,
              model=None) -> AccompanyResult:
    """Run ``bass`` (float32 mono at ``config.audio.sample_rate``) through the box and write the outputs."""
    from jambox.generate import load_model
    from jambox.memory import Memory

    if seed is None:
        seed = config.generator.seed or random.SystemRandom().randrange(1, 2**31)
    if model is None:
        model = load_model(config.generator.model or None, backend=config.generator.backend)
    memory = Memory.open(state_path if state_path is not None else (config.memory.state_file or None))
    try:
        memory.start_session({"source": "accompany", "sample_rate": config.audio.sample_rate, "seed": seed})
        chain = Chain(config, model=model, memory=memory, seed=seed)
        try:
            result = run_offline(chain, bass, list(actions), dry_level=config.audio.dry_level)
            summary = summarize(chain, len(bass), result.accompaniment)
            summary["seed"] = seed
            if out_wav is not None:
                import soundfile as sf

                sf.write(str(out_wav), result.mix, chain.sample_rate, subtype="PCM_16")
                summary["wav"] = str(out_wav)
            if out_midi is not None:
                from jambox.perform.midi_file import write_midi

                write_midi(out_midi, played_in_order(chain.record.played), chain.sample_rate,
                           chain.heard.tempo_bpm or 120.0, chain.heard.meter)
                summary["midi"] = str(out_midi)
        finally:
            memory.end_session(chain.now)
            chain.close()
    finally:
        memory.close()
    return AccompanyResult(summary, chain, result.mix, chain.sample_rate)
