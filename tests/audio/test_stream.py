"""The audio callback (copies only), the in-memory device, and a real PortAudio stream on JACK's dummy backend."""

import threading
import time
import tracemalloc

import numpy as np
import pytest

from jambox.audio.jackd import JackServer
from jambox.audio.ring import Doorbell, FrameRing
from jambox.audio.stream import DuplexCallback, MemoryStream, SoundDeviceStream, timing_figures
from jambox.errors import AudioDeviceError

SR = 48000


class Flags:
    def __init__(self, input_overflow=False, output_underflow=False):
        self.input_overflow, self.output_underflow = input_overflow, output_underflow

    def __bool__(self):
        return self.input_overflow or self.output_underflow


def make_callback(**kw):
    inp, out = FrameRing(4096, 1), FrameRing(4096, 2)
    return DuplexCallback(inp, out, **kw), inp, out


def test_input_channel_and_gain_go_to_the_input_ring():
    cb, inp, out = make_callback(input_channel=2, input_gain_db=6.0, dry_level=0.0)
    indata = np.zeros((128, 2), np.float32)
    indata[:, 1] = np.linspace(-0.4, 0.4, 128)
    cb(indata, np.zeros((128, 2), np.float32), 128, None, Flags())
    got = np.zeros(128, np.float32)
    assert inp.read_into(got) == 128
    np.testing.assert_allclose(got, indata[:, 1] * 10 ** (6 / 20), rtol=1e-6)


def test_ready_accompaniment_plus_dry_bass_comes_out():
    cb, inp, out = make_callback(dry_level=0.5)
    acc = np.stack([np.full(128, 0.1), np.full(128, -0.2)], axis=1).astype(np.float32)
    out.write(acc)
    indata = np.full((128, 1), 0.4, np.float32)
    outdata = np.zeros((128, 2), np.float32)
    cb(indata, outdata, 128, None, Flags())
    np.testing.assert_allclose(outdata[:, 0], 0.1 + 0.2, rtol=1e-6)
    np.testing.assert_allclose(outdata[:, 1], -0.2 + 0.2, atol=1e-7)
    assert cb.counters.underruns == 0 and cb.counters.blocks == 1


def test_underrun_writes_silence_counts_it_and_time_goes_on():
    cb, inp, out = make_callback(dry_level=0.0)
    out.write(np.full((50, 2), 0.3, np.float32))
    outdata = np.full((128, 2), 7.0, np.float32)
    cb(np.zeros((128, 1), np.float32), outdata, 128, None, Flags())
    np.testing.assert_allclose(outdata[:50], 0.3)
    assert np.all(outdata[50:] == 0.0)
    assert cb.counters.underruns == 1 and cb.counters.underrun_frames == 78
    assert out.read == 128  # the next block reads the accompaniment for the next frames, not stale ones
    assert cb.counters.xruns() == 1


def test_device_xrun_flags_are_counted():
    cb, _, out = make_callback()
    out.write(np.zeros((256, 2), np.float32))
    cb(np.zeros((128, 1), np.float32), np.zeros((128, 2), np.float32), 128, None, Flags(True, False))
    cb(np.zeros((128, 1), np.float32), np.zeros((128, 2), np.float32), 128, None, Flags(False, True))
    assert cb.counters.input_overflow_flags == 1 and cb.counters.output_underflow_flags == 1
    assert cb.counters.xruns() == 2


def test_output_is_clipped_and_a_mono_device_gets_the_mix():
    cb, _, out = make_callback(dry_level=1.0)
    out.write(np.full((128, 2), 0.8, np.float32))
    mono = np.zeros((128, 1), np.float32)
    cb(np.full((128, 1), 0.9, np.float32), mono, 128, None, Flags())
    assert np.all(mono == 1.0)


def test_the_callback_allocates_no_array_memory():
    cb, inp, out = make_callback()
    indata = np.random.default_rng(0).uniform(-0.5, 0.5, (128, 1)).astype(np.float32)
    outdata = np.zeros((128, 2), np.float32)
    block = np.zeros((128, 2), np.float32)
    cb(indata, outdata, 128, None, Flags())  # warm up
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        for _ in range(2000):
            out.write(block)
            cb(indata, outdata, 128, None, Flags())
            inp.read_into(np.empty(0, np.float32))
            inp.read = inp.written
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak - base < 4096  # a 128-frame float block alone would be 512 bytes per call, 1 MB in all


def test_doorbells_are_rung_each_block():
    bell = Doorbell()
    inp, out = FrameRing(1024, 1), FrameRing(1024, 2)
    cb = DuplexCallback(inp, out, doorbells=(bell,))
    assert bell.wait(0) is False
    cb(np.zeros((64, 1), np.float32), np.zeros((64, 2), np.float32), 64, None, Flags())
    assert bell.wait(0) is True
    bell.close()


def test_timing_figures_and_block_times():
    cb, _, out = make_callback()
    for _ in range(10):
        cb(np.zeros((128, 1), np.float32), np.zeros((128, 2), np.float32), 128, None, Flags())
    t = cb.block_times_us()
    assert len(t) == 10 and np.all(t > 0)
    f = timing_figures(t)
    assert f["callback_us_p50"] <= f["callback_us_p99"] <= f["callback_us_max"]
    assert timing_figures(np.zeros(0))["callback_us_max"] is None


def test_memory_stream_plays_its_source_and_records_the_output():
    src = np.arange(1024, dtype=np.float32) / 1024
    stream = MemoryStream(src, SR, 128)
    seen = []

    def callback(indata, outdata, frames, t, status):
        seen.append(indata[:, 0].copy())
        outdata[:, 0] = indata[:, 0] * 2
        outdata[:, 1] = 0

    ended = threading.Event()
    stream.on_stopped = ended.set
    stream.open(callback)
    stream.start()
    assert ended.wait(5)
    stream.close()
    np.testing.assert_array_equal(np.concatenate(seen), src)
    np.testing.assert_allclose(stream.recorded[:, 0], src * 2)
    assert stream.failure is None


def test_memory_stream_unplugged_reports_a_failure():
    stream = MemoryStream(np.zeros(4096, np.float32), SR, 128, fail_at=1024)
    ended = threading.Event()
    stream.on_stopped = ended.set
    stream.open(lambda i, o, f, t, s: o.fill(0))
    stream.start()
    assert ended.wait(5)
    stream.close()
    assert stream.position == 1024
    assert "unplugged" in stream.failure


def test_memory_stream_in_real_time_keeps_the_pace():
    stream = MemoryStream(np.zeros(SR // 4, np.float32), SR, 256, realtime=True)
    stream.open(lambda i, o, f, t, s: o.fill(0))
    t0 = time.perf_counter()
    stream.start()
    assert stream.finished.wait(5)
    took = time.perf_counter() - t0
    stream.close()
    assert took >= 0.2  # a quarter second of stream takes (about) a quarter second


@pytest.fixture(scope="module")
def jack_portaudio(tmp_path_factory):
    server = JackServer(SR, 128, log_path=tmp_path_factory.mktemp("jack") / "jackd.log").start()
    with server.portaudio() as sd:
        apis = [a["name"] for a in sd.query_hostapis()]
        assert any("JACK" in a for a in apis), f"PortAudio has no JACK host API here: {apis}"
        yield server


def test_a_real_duplex_stream_on_jack(jack_portaudio):
    from jambox.audio.devices import resolve

    dev = resolve("system, JACK", "input")
    stream = SoundDeviceStream(dev, dev, SR, 128, 1, 2)
    frames = []
    got_two = threading.Event()

    def callback(indata, outdata, n, t, status):
        frames.append((n, indata.shape, outdata.shape))
        outdata.fill(0)
        if len(frames) > 20:
            got_two.set()

    stream.open(callback)
    try:
        assert stream.latency[1] > 0  # JACK reports the playback latency of the dummy driver
        stream.start()
        assert got_two.wait(10)
        assert stream.alive()
    finally:
        stream.stop()
        stream.close()
    assert set(frames[:20]) == {(128, (128, 1), (128, 2))}
    assert stream.failure is None  # stopping on purpose is not a failure


def test_a_refused_sample_rate_is_named(jack_portaudio):
    from jambox.audio.devices import resolve

    dev = resolve("system", "output")
    stream = SoundDeviceStream(dev, dev, 44100, 128, 1, 2)
    with pytest.raises(AudioDeviceError, match="refuses 44100 Hz"):
        stream.open(lambda *a: None)


class TimeInfo:
    def __init__(self, frame):
        self.inputBufferAdcTime = self.currentTime = self.outputBufferDacTime = frame / SR


def test_frames_the_device_lost_at_an_xrun_are_resynced_so_stream_time_stays_device_time():
    inp, out = FrameRing(4096, 1), FrameRing(4096, 2)
    cb = DuplexCallback(inp, out, dry_level=0.0, sample_rate=SR)
    out.write((np.arange(1024, dtype=np.float32) / 1024)[:, None].repeat(2, axis=1))  # output frame k carries k/1024
    ones = np.ones((128, 1), np.float32)
    outdata = np.zeros((128, 2), np.float32)
    for k in (0, 1):
        cb(ones, outdata, 128, TimeInfo(1000 + 128 * k), Flags())
    # the device lost frames 256..383 (block 2): block 3 comes flagged, at its own frame 384
    cb(ones, outdata, 128, TimeInfo(1000 + 384), Flags(True, True))
    c = cb.counters
    assert (c.resyncs, c.dropped_frames, c.xrun_blocks) == (1, 128, 1)
    assert c.frames == 512 and cb.mark[0] == 384  # this block's output is device frame 384
    np.testing.assert_array_equal(outdata[:, 0], np.arange(384, 512) / 1024)  # the accompaniment for frame 384, not 256
    heard = np.zeros(512, np.float32)
    assert inp.read_into(heard) == 512
    assert np.all(heard[256:384] == 0) and np.all(heard[:256] == 1) and np.all(heard[384:] == 1)
    assert c.underruns == 0


def test_an_xrun_that_lost_no_frames_or_jitter_in_the_device_clock_is_not_a_resync():
    cb, inp, out = make_callback(sample_rate=SR)
    out.write(np.zeros((1024, 2), np.float32))
    block = np.zeros((128, 1), np.float32)
    cb(block, np.zeros((128, 2), np.float32), 128, TimeInfo(0), Flags())
    cb(block, np.zeros((128, 2), np.float32), 128, TimeInfo(128 + 2), Flags(False, True))  # a late cycle, 2 frames of jitter
    cb(block, np.zeros((128, 2), np.float32), 128, None, Flags(True, True))  # no time info: nothing to compare
    c = cb.counters
    assert c.resyncs == 0 and c.frames == 384 and c.xrun_blocks == 2
    assert c.input_overflow_flags + c.output_underflow_flags == 3


def test_memory_stream_loses_a_block_and_flags_the_next_with_its_own_clock():
    src = np.arange(1024, dtype=np.float32) / 1024
    stream = MemoryStream(src, SR, 128, drop_at=(256,))
    seen = []

    def callback(indata, outdata, frames, t, status):
        seen.append((round(t.inputBufferAdcTime * SR), bool(status), indata[0, 0]))
        outdata.fill(1.0)

    ended = threading.Event()
    stream.on_stopped = ended.set
    stream.open(callback)
    stream.start()
    assert ended.wait(5)
    stream.close()
    assert [f for f, _, _ in seen] == [0, 128, 384, 512, 640, 768, 896]
    assert [flag for _, flag, _ in seen] == [False, False, True, False, False, False, False]
    assert seen[2][2] == src[384]  # the lost block's input never came
    assert np.all(stream.recorded[256:384] == 0) and np.all(stream.recorded[384:] == 1)
    assert stream.dropped_blocks == 1


def test_on_jack_a_late_cycle_is_counted_as_slip_and_the_stream_stays_on_jacks_frames():
    inp, out = FrameRing(4096, 1), FrameRing(4096, 2)
    cb = DuplexCallback(inp, out, dry_level=0.0, sample_rate=SR)
    cb.follow_device_clock = False  # what the engine sets for a JACK stream
    out.write(np.zeros((1024, 2), np.float32))
    block = np.ones((128, 1), np.float32)
    cb(block, np.zeros((128, 2), np.float32), 128, TimeInfo(0), Flags())
    cb(block, np.zeros((128, 2), np.float32), 128, TimeInfo(128 + 960), Flags(True, True))  # 20 ms late
    cb(block, np.zeros((128, 2), np.float32), 128, TimeInfo(256 + 960 + 1), Flags(False, True))  # late again, no further
    c = cb.counters
    assert (c.resyncs, c.dropped_frames, c.slip_frames) == (0, 0, 960)
    assert c.frames == 384 and inp.written == 384 and out.read == 384  # nothing inserted, nothing skipped
