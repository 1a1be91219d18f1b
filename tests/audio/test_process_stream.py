"""The audio callback in its own process, on a real PortAudio stream over JACK's dummy backend."""

import os
import threading
import time

import numpy as np
import pytest

from jambox.audio.jackd import JackServer
from jambox.audio.process_stream import ProcessStream
from jambox.audio.ring import Doorbell
from jambox.audio.shared import Layout
from jambox.audio.stream import DuplexCallback
from jambox.errors import AudioDeviceError

SR = 48000
LAYOUT = Layout(SR, 1, 4096, 2)


SERVER: list[JackServer] = []  # the module's server, for the tests that ask whether it is realtime


@pytest.fixture(scope="module")
def jack_device(tmp_path_factory):
    server = JackServer(SR, 128, log_path=tmp_path_factory.mktemp("jack") / "jackd.log").start()
    SERVER.append(server)
    with server.portaudio():
        from jambox.audio.devices import resolve

        yield resolve("system, JACK", "input")
    SERVER.clear()


def engine_side(stream, bell=None):
    """What LiveEngine builds: rings and a callback on the stream's shared memory."""
    shared = stream.share(LAYOUT)
    return DuplexCallback(shared.input_ring, shared.output_ring, dry_level=0.0,
                          doorbells=(bell,) if bell else (), shared=shared.callback), shared


def test_the_callback_runs_in_the_audio_process_and_the_engine_sees_it_live(jack_device):
    stream = ProcessStream(jack_device, jack_device, SR, 128, 1, 2)
    bell = Doorbell()
    callback, shared = engine_side(stream, bell)
    shared.output_ring.write(np.full((1024, 2), 0.1, np.float32))
    stream.open(callback)
    try:
        pid = stream._proc.pid
        assert stream.latency[1] > 0  # JACK's playback latency, as the audio process's PortAudio reports it
        assert "system" in stream.device_names[0]
        stream.start()
        assert bell.wait(10), "the audio process never rang the engine's doorbell"
        deadline = time.monotonic() + 10
        while callback.counters.blocks < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert stream.alive()
        assert callback.counters.blocks >= 20
        assert shared.output_ring.read >= 1024  # the rendered frames were taken by the callback over there
        assert shared.input_ring.written >= 20 * 128  # and its input came back into this process's ring
        assert callback.mark[0] > 0
        import sounddevice as sd

        assert sd._initialized == 0  # this process's PortAudio (an active JACK client of its own) is down meanwhile
        assert os.path.exists(f"/proc/{pid}/task/{callback.thread_id}")  # the callback thread is the audio process's
        realtime = os.sched_getscheduler(callback.thread_id) == os.SCHED_FIFO
        assert realtime is SERVER[0].realtime  # libjack makes it realtime exactly on a realtime server
        assert not os.path.exists(f"/proc/{os.getpid()}/task/{callback.thread_id}")
    finally:
        stream.stop()
        stream.close()
        bell.close()
    assert stream.failure is None  # stopping on purpose is not a failure
    assert stream._proc is None  # the audio process exited
    import sounddevice as sd

    assert sd._initialized == 1  # and this process's PortAudio is back for the next device query


def test_a_refused_sample_rate_is_the_same_error_and_the_process_is_gone(jack_device):
    stream = ProcessStream(jack_device, jack_device, 44100, 128, 1, 2)
    callback, _ = engine_side(stream)
    with pytest.raises(AudioDeviceError, match="refuses 44100 Hz"):
        stream.open(callback)
    assert stream._proc is None


def test_an_audio_process_that_dies_is_a_lost_stream(jack_device):
    stream = ProcessStream(jack_device, jack_device, SR, 128, 1, 2)
    callback, _ = engine_side(stream)
    stopped = threading.Event()
    stream.on_stopped = stopped.set
    stream.open(callback)
    try:
        stream.start()
        stream._proc.kill()
        assert stopped.wait(10)
        assert "audio process exited" in stream.failure
        assert not stream.alive()
    finally:
        stream.stop()
        stream.close()
    gone_from_the_server()


def gone_from_the_server(timeout_s=10.0):
    """Wait until JACK has dropped the killed process's client (the fixture's PortAudio shutdown next
    asserts if the server is still busy with it)."""
    import jack

    probe = jack.Client("probe", no_start_server=True, servername=os.environ["JACK_DEFAULT_SERVER"])
    try:
        deadline = time.monotonic() + timeout_s
        while probe.get_ports("PortAudio") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not probe.get_ports("PortAudio")
    finally:
        probe.close()


def test_a_callback_not_on_the_shared_memory_is_refused():
    from jambox.audio.ring import FrameRing

    stream = ProcessStream(None, None, SR, 128, 1, 2)
    stream.share(LAYOUT)
    local = DuplexCallback(FrameRing(256, 1), FrameRing(256, 2))
    with pytest.raises(AudioDeviceError, match="share"):
        stream.open(local)
