"""The shared audio memory: two mappings of one file see each other's frames and counters."""

import os

import numpy as np
import pytest

from jambox.audio.shared import Layout, SharedAudio, supported
from jambox.audio.stream import DuplexCallback
from jambox.errors import AudioDeviceError

pytestmark = pytest.mark.skipif(not supported(), reason="memfd_create is Linux only")
LAYOUT = Layout(1024, 1, 512, 2)


def test_frames_and_counters_written_on_one_side_are_read_on_the_other():
    engine = SharedAudio(LAYOUT)
    audio = SharedAudio(LAYOUT, fd=os.dup(engine.fd))  # as the audio process maps the inherited descriptor
    block = np.stack([np.linspace(0, 1, 100), -np.linspace(0, 1, 100)], axis=1).astype(np.float32)
    engine.output_ring.write(block)
    got = np.zeros((100, 2), np.float32)
    assert audio.output_ring.available() == 100
    assert audio.output_ring.read_into(got) == 100
    np.testing.assert_array_equal(got, block)
    assert engine.output_ring.read == 100 and engine.output_ring.space() == 512


def test_the_callbacks_counters_times_and_clock_mark_are_visible_to_the_engine():
    engine = SharedAudio(LAYOUT)
    audio = SharedAudio(LAYOUT, fd=os.dup(engine.fd))
    in_audio = DuplexCallback(audio.input_ring, audio.output_ring, dry_level=0.0, shared=audio.callback)
    seen = DuplexCallback(engine.input_ring, engine.output_ring, shared=engine.callback)
    for _ in range(3):
        in_audio(np.full((128, 1), 0.25, np.float32), np.zeros((128, 2), np.float32), 128, None, None)
    assert seen.counters.blocks == 3 and seen.counters.underruns == 3  # nothing was rendered
    assert seen.mark[0] == 256 and seen.mark[1] > 0
    assert seen.thread_id == in_audio.thread_id is not None
    assert len(seen.block_times_us()) == 3 and np.all(seen.block_times_us() > 0)
    got = np.zeros(384, np.float32)
    assert engine.input_ring.read_into(got) == 384
    np.testing.assert_allclose(got, 0.25)


def test_a_file_smaller_than_the_layout_is_refused():
    small = SharedAudio(Layout(16, 1, 16, 2))
    with pytest.raises(AudioDeviceError, match="needs"):
        SharedAudio(LAYOUT, fd=os.dup(small.fd))
