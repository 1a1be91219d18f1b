"""The memory the engine shares with its audio process: both rings, the callback's counters and times.

One anonymous shared-memory file (``memfd_create``) holds, at fixed offsets, everything the audio
callback and the engine's threads hand each other (see :mod:`jambox.audio.io_process` for why the
callback runs in a process of its own). The engine makes it; the audio process maps the same file
from the descriptor it inherits, so there is no name to clean up and nothing left behind when either
side dies: the memory goes with the last mapping.

Both sides build the same views from the same :class:`Layout` (capacities and channels), so the
layout never travels except as those four numbers.
"""

from __future__ import annotations

import mmap
import os
from dataclasses import asdict, dataclass

import numpy as np

from jambox.audio.ring import FrameRing
from jambox.audio.stream import TIMING_SLOTS, CallbackShared
from jambox.errors import AudioDeviceError

ALIGN = 64  # each region starts on its own cache line


@dataclass(frozen=True)
class Layout:
    input_capacity: int
    input_channels: int
    output_capacity: int
    output_channels: int

    def regions(self) -> list[tuple[str, tuple[int, ...], type]]:
        return [
            ("input_frames", (self.input_capacity, self.input_channels), np.float32),
            ("input_counters", (FrameRing.COUNTERS,), np.int64),
            ("output_frames", (self.output_capacity, self.output_channels), np.float32),
            ("output_counters", (FrameRing.COUNTERS,), np.int64),
            ("callback_slots", (CallbackShared.SLOTS,), np.int64),
            ("callback_times", (TIMING_SLOTS,), np.int64),
        ]

    def offsets(self) -> tuple[dict[str, int], int]:
        offsets, at = {}, 0
        for name, shape, dtype in self.regions():
            offsets[name] = at
            at += -(-int(np.prod(shape)) * np.dtype(dtype).itemsize // ALIGN) * ALIGN
        return offsets, at

    def as_dict(self) -> dict:
        return asdict(self)


def supported() -> bool:
    """Whether this system can share the memory this way (Linux: memfd_create)."""
    return hasattr(os, "memfd_create")


class SharedAudio:
    """The rings and the callback's shared state in one shared-memory file.

    ``SharedAudio(layout)`` makes a new zeroed file (the engine); ``SharedAudio(layout, fd=...)`` maps
    one inherited from the engine (the audio process)."""

    def __init__(self, layout: Layout, fd: int | None = None):
        self.layout = layout
        offsets, size = layout.offsets()
        if fd is None:
            if not supported():
                raise AudioDeviceError("this system has no memfd_create: the audio cannot run in its own process")
            # close-on-exec: only the audio process gets it (pass_fds), not every program started
            # later nor the command's own re-exec
            fd = os.memfd_create("jambox-audio", os.MFD_CLOEXEC)
            os.ftruncate(fd, size)
        elif os.fstat(fd).st_size < size:
            raise AudioDeviceError(f"the shared audio memory is {os.fstat(fd).st_size} bytes, "
                                   f"its layout needs {size}")
        self.fd = fd
        self.size = size
        # MAP_POPULATE: every page is mapped now, so the callback never takes a page fault on its
        # first touch of a ring slot or a timing entry (the timing ring is only reached after minutes)
        self._map = mmap.mmap(fd, size, flags=mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0))
        views = {name: np.frombuffer(self._map, dtype, int(np.prod(shape)), offsets[name]).reshape(shape)
                 for name, shape, dtype in layout.regions()}
        self.input_ring = FrameRing(layout.input_capacity, layout.input_channels,
                                    storage=(views["input_frames"], views["input_counters"]))
        self.output_ring = FrameRing(layout.output_capacity, layout.output_channels,
                                     storage=(views["output_frames"], views["output_counters"]))
        self.callback = CallbackShared(views["callback_slots"], views["callback_times"])

    def close_fd(self) -> None:
        """Close this side's descriptor (the mapping, and so the memory, stays while the views live)."""
        if self.fd is not None:
            try:
                os.close(self.fd)
            except OSError:
                pass
            self.fd = None
