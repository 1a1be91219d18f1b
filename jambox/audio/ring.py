"""Preallocated single-producer / single-consumer ring buffers of audio frames, and a doorbell.

The audio callback and the engine's threads hand audio to each other through these, so nothing
here takes a lock or allocates array memory once constructed (the copies go through ``np.copyto``
into the preallocated storage).

Positions are absolute frame counts since the ring was made (``written``, ``read``), never reduced
modulo the capacity: the producer is the only one to advance ``written`` and the consumer the only
one to advance ``read``, so each side reads the other's counter and never waits. Because the counts
are absolute they double as stream times.

The counters are int64 slots of a small numpy array, so a ring can live in memory shared with another
process (:mod:`jambox.audio.shared`: the audio callback in its own process, out of the engine's GIL).
Each slot has one writer and an aligned 8-byte store is seen whole. The producer stores its frames
before it advances ``written`` (the consumer reads its frames before it advances ``read``): x86 keeps
that order for the other process; ARM64 promises it only across a barrier, which the callback's
doorbell (a system call) gives its side once per block, and the renderer's side has none of its own
(a frame could, in theory, be read a few nanoseconds early while it is still being stored).
"""

from __future__ import annotations

import os
import select

import numpy as np

from jambox.errors import ValueRangeError



def _counter(index: int, doc: str) -> property:
    """One of the ring's int64 counters as an int attribute (each has a single writer)."""
    return property(lambda self: int(self._c[index]), lambda self, v: self._c.__setitem__(index, v), doc=doc)

class FrameRing:
    """``capacity`` frames of ``channels`` float32 samples.

    ``storage``: where the frames and counters live, ``(frames, counters)`` as numpy arrays of shape
    ``(capacity, channels)`` float32 and ``(COUNTERS,)`` int64 (views of shared memory); by default
    fresh zeroed arrays of this process.
    """

    COUNTERS = 6  # written, read, dropped, stale, underruns, short_frames

    def __init__(self, capacity: int, channels: int = 1, storage: tuple[np.ndarray, np.ndarray] | None = None):
        if capacity < 1:
            raise ValueRangeError(f"ring capacity must be at least 1 frame, not {capacity}")
        if channels < 1:
            raise ValueRangeError(f"ring channels must be at least 1, not {channels}")
        self.capacity = int(capacity)
        self.channels = int(channels)
        if storage is None:
            storage = (np.zeros((self.capacity, self.channels), np.float32), np.zeros(self.COUNTERS, np.int64))
        self._buf, self._c = storage
        if self._buf.shape != (self.capacity, self.channels) or self._c.shape != (self.COUNTERS,):
            raise ValueRangeError(f"ring storage must be ({self.capacity}, {self.channels}) frames and "
                                  f"{self.COUNTERS} counters, not {self._buf.shape} and {self._c.shape}")

    # The counters, each an int64 slot with one writer.
    written = _counter(0, "producer's counter")
    read = _counter(1, "consumer's counter")
    dropped = _counter(2, "producer side: frames that did not fit")
    stale = _counter(3, "producer side: frames for positions the consumer had already passed")
    underruns = _counter(4, "consumer side: reads that found fewer frames than asked (counted by read_into)")
    short_frames = _counter(5, "consumer side: frames missing in those reads")

    # -- either side ---------------------------------------------------------------------------
    def available(self) -> int:
        """Frames written and not yet read (0 when the consumer has skipped past the producer)."""
        return max(0, self.written - self.read)

    def space(self) -> int:
        """Frames the producer may write without touching unread ones."""
        return self.capacity - self.available()

    def lag(self) -> int:
        """``written - read``: negative when the consumer skipped ahead of the producer."""
        return self.written - self.read

    # -- producer ------------------------------------------------------------------------------
    def write(self, frames: np.ndarray) -> int:
        """Copy ``frames`` ((n,) or (n, channels)) in at positions ``written..written+n``.

        Returns how many were stored. Frames for positions the consumer has already skipped past
        are discarded (``stale``), and frames that do not fit are dropped (``dropped``); either way
        ``written`` ends where the stored frames end, so positions keep meaning stream time.
        """
        n = len(frames)
        start = 0
        behind = self.read - self.written
        if behind > 0:  # the consumer moved on without us: those frames are too late to matter
            start = min(n, behind)
            self.stale += start
            self.written += start
        room = self.space()
        k = min(n - start, room)
        if start + k < n:
            self.dropped += n - start - k
        if k:
            self._copy_in(frames[start:start + k], k)
            self.written += k
        return k

    def _copy_in(self, frames: np.ndarray, k: int) -> None:
        i = self.written % self.capacity
        first = min(k, self.capacity - i)
        src = frames if frames.ndim == 2 else frames[:, None]
        np.copyto(self._buf[i:i + first], src[:first])
        if first < k:
            np.copyto(self._buf[:k - first], src[first:k])

    def skip_to(self, position: int) -> None:
        """Producer: continue writing at ``position`` (after falling behind a consumer that skipped)."""
        if position > self.written:
            self.written = position

    # -- consumer ------------------------------------------------------------------------------
    def read_into(self, out: np.ndarray, *, advance_all: bool = False) -> int:
        """Copy up to ``len(out)`` frames into ``out`` ((n,) or (n, channels)); returns how many.

        With ``advance_all`` the read position moves by ``len(out)`` even when fewer frames were
        there (the audio callback: time goes on; the missing frames count as an underrun and the
        caller fills them). Frames beyond the returned count are left untouched.
        """
        n = len(out)
        k = min(n, self.available())
        if k:
            i = self.read % self.capacity
            first = min(k, self.capacity - i)
            dst = out if out.ndim == 2 else out[:, None]
            np.copyto(dst[:first], self._buf[i:i + first])
            if first < k:
                np.copyto(dst[first:k], self._buf[:k - first])
        if k < n:
            self.underruns += 1
            self.short_frames += n - k
        self.read += n if advance_all else k
        return k


    def skip(self, n: int) -> None:
        """Consumer: move on ``n`` frames without reading them (frames the device never played).

        Not counted as an underrun: the producer sees ``lag() < 0`` where it had not got that far
        and continues at the new position (:meth:`skip_to`)."""
        if n > 0:
            self.read += n


class Doorbell:
    """Wake a waiting thread from the audio callback without a lock: a non-blocking self-pipe.

    :meth:`ring` is one ``os.write`` of a preallocated byte that never waits (a full pipe already
    means "wake up"); :meth:`wait` sleeps in ``select`` until rung or the timeout passes.
    """

    _BYTE = b"\x01"

    def __init__(self):
        self._r, self._w = os.pipe()
        os.set_blocking(self._r, False)
        os.set_blocking(self._w, False)

    @property
    def ring_fd(self) -> int:
        """The pipe's write end: another process rings this bell by writing to it (see :class:`RemoteBell`)."""
        return self._w

    def ring(self) -> None:
        try:
            os.write(self._w, self._BYTE)
        except (BlockingIOError, OSError):  # full (a wake-up is pending anyway) or closed
            pass

    def wait(self, timeout: float | None) -> bool:
        """True when rung (every pending ring is consumed), False on timeout."""
        try:
            ready, _, _ = select.select([self._r], [], [], timeout)
        except (OSError, ValueError):  # closed while waiting
            return False
        if not ready:
            return False
        try:
            while os.read(self._r, 4096):
                pass
        except (BlockingIOError, OSError):
            pass
        return True

    def close(self) -> None:
        for fd in (self._r, self._w):
            try:
                os.close(fd)
            except OSError:
                pass


class RemoteBell:
    """The ringing half of a :class:`Doorbell` made in another process (its ``ring_fd`` inherited)."""

    _BYTE = b"\x01"

    def __init__(self, fd: int):
        self._w = int(fd)
        os.set_blocking(self._w, False)

    def ring(self) -> None:
        try:
            os.write(self._w, self._BYTE)
        except (BlockingIOError, OSError):
            pass
