"""The chain on one clock: actions from any thread are applied at their stream time, on the logic thread."""

import threading

import numpy as np
import pytest

from jambox.config import load_config
from jambox.controls.actions import Action
from jambox.engine.chain import Chain
from jambox.generate import load_model

SR = 48000


@pytest.fixture
def chain():
    c = Chain(load_config(search=[]), model=load_model(None), memory=None, seed=1)
    yield c
    c.close()


def test_actions_wait_for_their_stream_time(chain):
    hop = np.zeros(chain.hop_size, np.float32)
    chain.submit(Action.make("more_dissonance", source="test", at=10 * chain.hop_size))
    chain.submit(Action.make("set", source="test", control="energy", value=0.25))  # as soon as possible
    chain.feed(hop)
    assert [a.kind.value for _, a, _ in chain.record.actions] == ["set"]
    assert chain.session.controls().energy == 0.25
    for _ in range(8):
        chain.feed(hop)
    assert len(chain.record.actions) == 1
    chain.feed(hop)
    t, action, effect = chain.record.actions[-1]
    assert action.kind.value == "more_dissonance" and t == 10 * chain.hop_size and effect


def test_submit_from_other_threads_never_loses_an_action(chain):
    def press(i):
        chain.submit(Action.make("set", source=f"t{i}", control="surprise", value=i / 10))

    threads = [threading.Thread(target=press, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    chain.feed(np.zeros(chain.hop_size, np.float32))
    assert sorted(a.source for _, a, _ in chain.record.actions) == sorted(f"t{i}" for i in range(10))


def test_the_chain_counts_the_stream(chain):
    for _ in range(5):
        chain.feed(np.zeros(chain.hop_size, np.float32))
    stats = chain.stats()
    assert stats["samples_heard"] == 5 * chain.hop_size and stats["notes_played"] == 0 and not stats["playing"]
