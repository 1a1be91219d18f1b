"""The frame rings and the doorbell: positions are stream time, nothing is overwritten unread, no waiting."""

import threading
import time

import numpy as np
import pytest

from jambox.audio.ring import Doorbell, FrameRing
from jambox.errors import ValueRangeError


def test_frames_come_out_in_order_across_the_wrap():
    ring = FrameRing(10, 2)
    src = np.arange(64, dtype=np.float32).reshape(32, 2)
    got = []
    out = np.zeros((3, 2), np.float32)
    pos = 0
    while pos < 32:
        pos += ring.write(src[pos:pos + 4])
        while ring.available() >= 3:
            ring.read_into(out)
            got.append(out.copy())
    rest = np.zeros((ring.available(), 2), np.float32)
    ring.read_into(rest)
    got.append(rest)
    np.testing.assert_array_equal(np.concatenate(got), src)
    assert ring.written == ring.read == 32


def test_mono_rings_take_1d_arrays():
    ring = FrameRing(8, 1)
    ring.write(np.array([1, 2, 3], np.float32))
    out = np.zeros(3, np.float32)
    assert ring.read_into(out) == 3
    np.testing.assert_array_equal(out, [1, 2, 3])


def test_a_full_ring_drops_new_frames_instead_of_overwriting():
    ring = FrameRing(4, 1)
    assert ring.write(np.ones(3, np.float32)) == 3
    assert ring.write(np.full(3, 2.0, np.float32)) == 1
    assert ring.dropped == 2
    out = np.zeros(4, np.float32)
    ring.read_into(out)
    np.testing.assert_array_equal(out, [1, 1, 1, 2])


def test_a_short_read_counts_an_underrun_and_can_let_time_go_on():
    ring = FrameRing(16, 1)
    ring.write(np.ones(2, np.float32))
    out = np.full(5, 9.0, np.float32)
    assert ring.read_into(out, advance_all=True) == 2
    np.testing.assert_array_equal(out, [1, 1, 9, 9, 9])  # the rest is the caller's to fill
    assert ring.underruns == 1 and ring.short_frames == 3
    assert ring.read == 5 and ring.lag() == -3
    # the producer's frames for positions 2..4 are stale; position 5 onward lands where it belongs
    assert ring.write(np.arange(2, 8, dtype=np.float32)) == 3
    assert ring.stale == 3 and ring.written == 8
    out = np.zeros(3, np.float32)
    ring.read_into(out)
    np.testing.assert_array_equal(out, [5, 6, 7])


def test_skip_to_moves_the_producer_on():
    ring = FrameRing(16, 1)
    ring.read_into(np.zeros(6, np.float32), advance_all=True)
    ring.skip_to(ring.read)
    assert ring.lag() == 0
    ring.write(np.array([4.0], np.float32))
    out = np.zeros(1, np.float32)
    assert ring.read_into(out) == 1 and out[0] == 4.0


def test_a_producer_and_a_consumer_thread_lose_nothing():
    ring = FrameRing(257, 1)
    total = 50_000
    src = np.arange(total, dtype=np.float32)
    got = np.zeros(total, np.float32)

    def produce():
        pos = 0
        while pos < total:
            k = ring.write(src[pos:pos + 100])
            pos += k
            if k == 0:
                time.sleep(0)  # let the consumer run (busy threads fight for the GIL)

    th = threading.Thread(target=produce)
    th.start()
    pos = 0
    deadline = time.monotonic() + 30
    while pos < total and time.monotonic() < deadline:
        k = ring.read_into(got[pos:pos + 77])
        pos += k
        if k == 0:
            time.sleep(0)
    th.join()
    np.testing.assert_array_equal(got, src)


@pytest.mark.parametrize("capacity, channels", [(0, 1), (4, 0)])
def test_bad_sizes(capacity, channels):
    with pytest.raises(ValueRangeError, match="must be at least 1"):
        FrameRing(capacity, channels)


def test_doorbell_wakes_a_waiter_and_times_out_otherwise():
    bell = Doorbell()
    try:
        assert bell.wait(0.01) is False
        woke = []
        th = threading.Thread(target=lambda: woke.append(bell.wait(5.0)))
        th.start()
        time.sleep(0.05)
        bell.ring()
        th.join(5)
        assert woke == [True]
        for _ in range(100_000):  # more rings than the pipe holds: ring never blocks
            bell.ring()
        assert bell.wait(0) is True
        assert bell.wait(0) is False  # every pending ring was consumed
    finally:
        bell.close()
    bell.ring()  # closed: still never raises
