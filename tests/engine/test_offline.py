"""The offline runner: block by block as live, no look-ahead, and the box stops with the input."""

import numpy as np
import pytest

from jambox.audio.files import load_bass
from jambox.config import load_config
from jambox.demo_riff import AUDIO_FILE
from jambox.engine.chain import Chain
from jambox.engine.offline import run_offline
from jambox.generate import load_model

pytestmark = pytest.mark.slow
SR = 48000


@pytest.fixture(scope="module")
def config():
    return load_config(search=[])


@pytest.fixture(scope="module")
def model():
    return load_model(None)


def run(config, model, bass, seed=4):
    chain = Chain(config, model=model, memory=None, seed=seed)
    try:
        return chain, run_offline(chain, bass, dry_level=1.0)
    finally:
        chain.close()


@pytest.fixture(scope="module")
def bass():
    return load_bass(str(AUDIO_FILE), SR)


def test_nothing_is_planned_from_input_the_box_had_not_heard(config, model, bass):
    """Cut the input at 20 s: every note planned before the cut is the same as with the whole input."""
    cut = 20 * SR
    whole, _ = run(config, model, bass)
    short, _ = run(config, model, bass[:cut])
    def decided_early(notes):  # planned well before the cut, to sound before it (the short run stops there)
        return [n for n in notes if n.planned_at < cut - 4096 and n.time < cut]

    before = decided_early(whole.record.played)
    assert len(before) > 50
    assert before == decided_early(short.record.played)
    for n in whole.record.played:
        assert n.planned_at <= n.time  # planned ahead, never after the fact


def test_the_box_stops_with_the_input_and_the_mix_holds_the_dry_bass(config, model, bass):
    chain, result = run(config, model, bass)
    assert chain.record.played and max(n.time for n in chain.record.played) < len(bass)
    assert chain.record.joins[-1] == (len(bass), "stopped")
    assert result.mix.shape == result.accompaniment.shape and result.mix.shape[1] == 2
    n = len(bass)
    # the mix is the dry bass plus the accompaniment (scaled as one if it would clip)
    expected = result.accompaniment[:n] + bass[:, None]
    scale = float(np.dot(result.mix[:n, 0], expected[:, 0]) / np.dot(expected[:, 0], expected[:, 0]))
    assert 0.5 < scale <= 1.0
    assert np.max(np.abs(result.mix[:n] - scale * expected)) < 1e-4
    assert np.max(np.abs(result.mix)) <= 0.99 + 1e-6
    # after the tail has rung out, silence: nothing was left sounding
    assert np.max(np.abs(result.accompaniment[-SR // 10:])) < 0.01


def test_silence_in_gives_silence_out(config, model):
    chain, result = run(config, model, np.zeros(5 * SR, np.float32))
    assert chain.record.played == [] and chain.record.notes == {}
    assert np.max(np.abs(result.mix)) < 1e-6  # -120 dBFS: FluidSynth's idle output, no note
