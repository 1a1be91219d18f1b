"""The audio seam: one duplex stream, the callback that only copies, and an in-memory device for tests.

:class:`DuplexCallback` is the whole of the real-time path. Per block it:

1. takes the bass channel from the input, applies the input gain (``np.multiply(..., out=)``) and
   copies it into the input ring for the logic thread;
2. copies the next ready block of accompaniment from the output ring into the output (silence,
   counted as an underrun, where the renderer has not got that far);
3. adds the dry bass at ``dry_level`` so the player hears themself with only the interface's
   latency, clips to -1..1, and rings the doorbells of the threads waiting for it.

It never logs, takes a lock, allocates an array, or calls the model; its counters are plain ints
and its per-block times go into a preallocated array for ``jambox bench``. At a block the device
flags as an xrun it also checks the device's clock, and where the device lost frames it moves the
stream clock on with it (:meth:`DuplexCallback.resync`): stream time stays the device's frames.

Two streams implement the same small interface (``open(callback)``, ``start``, ``stop``, ``close``,
``alive``, ``latency``, ``failure``, ``on_stopped``): :class:`SoundDeviceStream` (PortAudio through
sounddevice: ALSA on the Pi, JACK where a server runs) and :class:`MemoryStream` (a device in memory that plays an array into
the callback and records what comes out, as fast as the engine keeps up or at real-time pace).
A third, :class:`jambox.audio.process_stream.ProcessStream`, runs a SoundDeviceStream and this
callback in an audio process of its own, on shared memory (:class:`CallbackShared` holds what the
engine reads: counters, times, the clock mark, the callback's thread id).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable

import numpy as np

from jambox.audio.ring import Doorbell, FrameRing
from jambox.errors import ValueRangeError

log = logging.getLogger(__name__)

MAX_FRAMES = 8192  # the largest block the callback handles (PortAudio may hand less, never more here)
TIMING_SLOTS = 1 << 16  # per-block callback times kept for the percentiles (a ring of the latest)
STOP_TIMEOUT_S = 2.0  # how long stopping or closing a stream may take before it is abandoned


_COUNTER_NAMES = ("blocks", "frames", "underruns", "underrun_frames", "input_overruns", "input_overflow_flags",
                  "output_underflow_flags", "oversize_blocks", "xrun_blocks", "resyncs", "dropped_frames",
                  "slip_frames")


class CallbackCounters:
    """The callback's counters: int64 slots of one array (so another process can read them from shared memory).

    - ``underruns``: blocks where the accompaniment was not ready (silence written), ``underrun_frames``;
    - ``input_overruns``: blocks whose input did not fit the ring (the logic thread fell behind);
    - ``input_overflow_flags``, ``output_underflow_flags``: PortAudio's own xrun flags;
      ``xrun_blocks``: blocks that carried either (JACK sets both for one late cycle);
    - ``oversize_blocks``: blocks larger than MAX_FRAMES (silence written);
    - ``resyncs``, ``dropped_frames``: device xruns that lost frames, and how many (see
      :meth:`DuplexCallback.resync`); ``slip_frames``: on a stream whose frames never skip (JACK),
      how far the device's wall clock ran past them at xruns (counted, not re-synced).
    """

    SLOTS = len(_COUNTER_NAMES)

    def __init__(self, slots: np.ndarray | None = None):
        self._c = np.zeros(self.SLOTS, np.int64) if slots is None else slots

    def xruns(self) -> int:
        return self.underruns + self.input_overruns + self.input_overflow_flags + self.output_underflow_flags

    def as_dict(self) -> dict:
        return {name: int(self._c[i]) for i, name in enumerate(_COUNTER_NAMES)}


def _slot(i: int) -> property:
    return property(lambda self: int(self._c[i]), lambda self, v: self._c.__setitem__(i, v))


for _i, _name in enumerate(_COUNTER_NAMES):
    setattr(CallbackCounters, _name, _slot(_i))


class CallbackShared:
    """Where a :class:`DuplexCallback` keeps what other threads or processes read: counters, per-block
    times, the stream clock mark and the callback thread's id (views of shared memory, or local arrays)."""

    SLOTS = CallbackCounters.SLOTS + 4  # + mark frames, mark ns, mark sequence, thread id

    def __init__(self, slots: np.ndarray | None = None, times_ns: np.ndarray | None = None):
        self.slots = np.zeros(self.SLOTS, np.int64) if slots is None else slots
        self.times_ns = np.zeros(TIMING_SLOTS, np.int64) if times_ns is None else times_ns


class DuplexCallback:
    """The audio callback. Construct before the stream opens; everything it touches is preallocated."""

    def __init__(self, input_ring: FrameRing, output_ring: FrameRing, *, input_channel: int = 1,
                 input_gain_db: float = 0.0, dry_level: float = 1.0, doorbells: tuple[Doorbell, ...] = (),
                 shared: CallbackShared | None = None, sample_rate: int | None = None):
        """``sample_rate``: to read the device's clock (PortAudio's time info) at an xrun and re-sync
        the stream to it (:meth:`resync`); without it a device's lost frames go unnoticed."""
        if input_channel < 1:
            raise ValueRangeError(f"audio.input_channel must be 1 or more, not {input_channel}")
        self.input_ring = input_ring
        self.output_ring = output_ring
        self.channel = int(input_channel) - 1
        self.gain = np.float32(10.0 ** (float(input_gain_db) / 20.0))
        self.dry = np.float32(dry_level)
        self.input_gain_db = float(input_gain_db)
        self.dry_level = float(dry_level)
        self.doorbells = tuple(doorbells)
        self.shared = shared if shared is not None else CallbackShared()
        k = CallbackCounters.SLOTS
        self.counters = CallbackCounters(self.shared.slots[:k])
        self._mark = self.shared.slots[k:k + 3]  # frames, ns, sequence (odd while being written)
        self._tid = self.shared.slots[k + 3:k + 4]
        self._mono = np.zeros(MAX_FRAMES, np.float32)
        self._dry = np.zeros(MAX_FRAMES, np.float32)
        self._acc = np.zeros((MAX_FRAMES, 2), np.float32)
        self.times_ns = self.shared.times_ns
        self._clock = time.perf_counter_ns
        self.sample_rate = float(sample_rate) if sample_rate else 0.0
        self._device_origin: float | None = None  # the device's clock (s) at the first block's first input frame
        # Whether the device's clock counts frames (re-sync to it), or only wall time over frames that
        # never skip (JACK: count the slip). Set by whoever opens the stream and so knows the host API.
        self.follow_device_clock = True
        self._zeros = np.zeros(MAX_FRAMES, np.float32)

    @property
    def mark(self) -> tuple[int, int]:
        """(output frames handed over, perf_counter_ns then): the stream clock, read whole (a sequence
        count tells a read that raced the callback's write, which is then read again)."""
        m = self._mark
        for _ in range(1000):  # bounded: a callback process killed mid-write leaves the count odd
            seq = int(m[2])
            frames, ns = int(m[0]), int(m[1])
            if not seq & 1 and int(m[2]) == seq:
                break
        return frames, ns

    @property
    def thread_id(self) -> int | None:
        """The native id of the thread PortAudio calls us on (a Linux thread id is system-wide)."""
        tid = int(self._tid[0])
        return tid or None

    def __call__(self, indata: np.ndarray, outdata: np.ndarray, frames: int, time_info, status) -> None:
        t0 = self._clock()
        c = self.counters
        if not self._tid[0]:  # once: the engine sets its threads' priorities against this one
            self._tid[0] = threading.get_native_id()
        resynced = 0
        if status:
            overflow, underflow = status.input_overflow, status.output_underflow
            if overflow:
                c.input_overflow_flags += 1
            if underflow:
                c.output_underflow_flags += 1
            if overflow or underflow:
                c.xrun_blocks += 1
                if time_info is not None and self._device_origin is not None and self.sample_rate:
                    resynced = self.resync(round((time_info.inputBufferAdcTime - self._device_origin)
                                                 * self.sample_rate), frames)
        elif self._device_origin is None and time_info is not None and self.sample_rate:
            # the device's clock at stream frame 0 (the first clean block ties the two)
            self._device_origin = time_info.inputBufferAdcTime - c.frames / self.sample_rate
        if frames > MAX_FRAMES:
            c.oversize_blocks += 1
            outdata.fill(0)
            return
        mono = self._mono[:frames]
        if self.channel < indata.shape[1]:
            np.multiply(indata[:, self.channel], self.gain, out=mono)
        else:
            mono.fill(0)
        if self.input_ring.write(mono) < frames:
            c.input_overruns += 1
        acc = self._acc[:frames]
        got = self.output_ring.read_into(acc, advance_all=True)
        if got < frames:
            acc[got:].fill(0)
            if not resynced:  # after a resync past what was rendered, the silence is the device's doing
                c.underruns += 1
                c.underrun_frames += frames - got
        dry = self._dry[:frames]
        np.multiply(mono, self.dry, out=dry)
        out_ch = outdata.shape[1]
        if out_ch >= 2:
            np.add(acc[:, 0], dry, out=outdata[:, 0])
            np.add(acc[:, 1], dry, out=outdata[:, 1])
            if out_ch > 2:
                outdata[:, 2:].fill(0)
        else:
            np.add(acc[:, 0], acc[:, 1], out=outdata[:, 0])
            np.multiply(outdata[:, 0], 0.5, out=outdata[:, 0])
            np.add(outdata[:, 0], dry, out=outdata[:, 0])
        np.clip(outdata, -1.0, 1.0, out=outdata)
        for bell in self.doorbells:
            bell.ring()
        frames_before = c.frames
        m = self._mark
        m[2] += 1  # odd: being written
        m[0] = frames_before  # output frame frames_before went to the device at t0
        m[1] = t0
        m[2] += 1
        c.frames = frames_before + frames
        self.times_ns[c.blocks & (TIMING_SLOTS - 1)] = self._clock() - t0
        c.blocks += 1

    def resync(self, device_frame: int, frames: int) -> int:
        """Keep stream time on the device's frames after an xrun that lost some.

        Stream time is the count of frames handed over (``counters.frames``). A device that drops
        frames at an xrun (ALSA restarting an overrun PCM) goes on at its own frame count, and a
        stream that only counted what it was handed would slip behind it for good: the listener's
        beat grid and the renderer's notes would land early by the lost frames from then on. So at a
        flagged block, ``device_frame`` (where this block's first input frame is on the device's
        clock, from PortAudio's time info) is compared with the count, and a gap of half a block or
        more (PortAudio's times jitter by a frame or two) is closed: that much silence goes into the
        input ring (what the device heard meanwhile is lost; the listener hears a gap, in time), the
        output ring skips the accompaniment for frames that were never played, and the count moves
        on. Returns the frames re-synced (0 when the device lost none).

        Not on JACK (``follow_device_clock`` off): a JACK cycle that comes late still hands over the
        next frames (JACK's frame counter advances by one period per cycle, measured: 0 frames
        skipped over 12 late cycles in 20 s), while PortAudio's time info there follows the wall
        clock. The difference is the graph running late, not frames lost: it is counted
        (``slip_frames``) and the stream stays on JACK's frames, which every other client shares."""
        c = self.counters
        gap = int(device_frame) - c.frames - c.slip_frames
        if gap < max(1, frames // 2):
            return 0
        if not self.follow_device_clock:
            c.slip_frames += gap
            return 0
        c.resyncs += 1
        c.dropped_frames += gap
        fill = min(gap, self.input_ring.space())
        if fill < gap:
            c.input_overruns += 1  # more than the ring holds: the logic thread loses those frames
        while fill > 0:  # bounded by the ring's capacity
            n = min(fill, MAX_FRAMES)
            self.input_ring.write(self._zeros[:n])
            fill -= n
        self.output_ring.skip(gap)
        c.frames += gap
        return gap

    def block_times_us(self) -> np.ndarray:
        """The callback's time per block (µs) for the latest blocks (up to TIMING_SLOTS)."""
        n = min(self.counters.blocks, TIMING_SLOTS)
        return self.times_ns[:n] / 1000.0


def timing_figures(times_us: np.ndarray) -> dict:
    if len(times_us) == 0:
        return {"callback_us_p50": None, "callback_us_p99": None, "callback_us_max": None}
    return {
        "callback_us_p50": round(float(np.percentile(times_us, 50)), 1),
        "callback_us_p99": round(float(np.percentile(times_us, 99)), 1),
        "callback_us_max": round(float(np.max(times_us)), 1),
    }


class DeviceStream:
    """What every real duplex stream carries: the devices and format asked for, and how it stopped."""

    def __init__(self, input_device: int | None, output_device: int | None, sample_rate: int, block_size: int,
                 input_channels: int, output_channels: int = 2):
        self.input_device = input_device
        self.output_device = output_device
        self.sample_rate = int(sample_rate)
        self.block_size = int(block_size)
        self.input_channels = int(input_channels)
        self.output_channels = int(output_channels)
        self.failure: str | None = None  # why the stream stopped by itself (device gone), or None
        self.on_stopped: Callable[[], None] | None = None  # called (on PortAudio's thread) when it does
        self.abandoned = False  # PortAudio hung stopping it (the device vanished): left as it is
        self.lost = False  # the device went away under the stream (see mark_lost)
        self.on_jack = False


class SoundDeviceStream(DeviceStream):
    """The real device: one ``sounddevice.Stream`` (duplex, float32) at a fixed block size."""

    kind = "sounddevice"

    def __init__(self, input_device: int | None, output_device: int | None, sample_rate: int, block_size: int,
                 input_channels: int, output_channels: int = 2):
        super().__init__(input_device, output_device, sample_rate, block_size, input_channels, output_channels)
        self._stream = None
        self._stopping = False

    def open(self, callback: Callable) -> None:
        import sounddevice as sd

        from jambox.audio.devices import check_settings, describe_error

        from jambox.audio.devices import is_jack

        check_settings(self.input_device, "input", self.sample_rate, self.input_channels)
        self.on_jack = is_jack(self.input_device, "input") or is_jack(self.output_device, "output")
        check_settings(self.output_device, "output", self.sample_rate, self.output_channels)
        self.failure = None
        self._stopping = False

        try:
            self._stream = sd.Stream(
                samplerate=self.sample_rate, blocksize=self.block_size,
                device=(self.input_device, self.output_device),
                channels=(self.input_channels, self.output_channels), dtype="float32",
                latency="low", callback=callback, finished_callback=self._finished, dither_off=True,
            )
        except (sd.PortAudioError, ValueError) as e:
            raise describe_error(e, self.input_device, "input", self.sample_rate, self.input_channels) from None

    def _finished(self) -> None:
        if not self._stopping:
            self.mark_lost()
            self.failure = "the audio stream stopped by itself (device unplugged or the server went away)"
            if self.on_stopped is not None:
                self.on_stopped()

    @property
    def latency(self) -> tuple[float, float]:
        """(input, output) latency in seconds as PortAudio reports it."""
        if self._stream is None:
            return (0.0, 0.0)
        lat = self._stream.latency
        return (float(lat[0]), float(lat[1]))

    @property
    def device_names(self) -> tuple[str, str]:
        import sounddevice as sd

        names = []
        for dev, kind in ((self.input_device, "input"), (self.output_device, "output")):
            try:
                d = sd.query_devices(dev) if dev is not None else sd.query_devices(kind=kind)
                names.append(str(d["name"]))
            except Exception:  # noqa: BLE001 - only for the log line
                names.append("?")
        return names[0], names[1]

    def start(self) -> None:
        import sounddevice as sd

        from jambox.audio.devices import describe_error

        try:
            self._stream.start()
        except sd.PortAudioError as e:
            raise describe_error(e, self.input_device, "input", self.sample_rate) from None

    def alive(self) -> bool:
        return self._stream is not None and self.failure is None and bool(self._stream.active)

    def mark_lost(self) -> None:
        """The device is gone (the engine saw the callbacks stop): don't ask PortAudio to stop it.

        On JACK, PortAudio is abandoned at once, so that no way out of the process (an error, a
        signal) can run its shutdown, which asserts and aborts once the server is gone."""
        self.lost = True
        if self.on_jack:
            from jambox.audio.devices import abandon_portaudio

            abandon_portaudio()

    def stop(self) -> None:
        self._stopping = True
        self._bounded("stop")

    def close(self) -> None:
        self._stopping = True
        self._bounded("close")
        self._stream = None

    def _bounded(self, what: str) -> None:
        """``stream.stop()`` / ``close()`` with a time limit: PortAudio blocks for ever in them when the
        device vanished under it (a JACK server killed). Then the stream is abandoned, and with it this
        process's PortAudio (see :func:`jambox.audio.devices.abandon_portaudio`)."""
        stream = self._stream
        if stream is None or self.abandoned:
            return
        if self.lost and self.on_jack:
            # With its server gone, PortAudio's JACK code asserts (aborting the process) in stop and
            # close as often as it hangs in them: never call them then.
            from jambox.audio.devices import abandon_portaudio

            log.warning("the JACK server went away: abandoning the audio stream")
            self.abandoned = True
            abandon_portaudio()
            return
        done = threading.Event()

        def call():
            try:
                getattr(stream, what)()
            except Exception as e:  # noqa: BLE001 - a device that went away cannot be stopped; carry on
                log.debug("%s the audio stream: %s", what, e)
            finally:
                done.set()

        threading.Thread(target=call, name=f"portaudio-{what}", daemon=True).start()
        if not done.wait(STOP_TIMEOUT_S):
            from jambox.audio.devices import abandon_portaudio

            log.warning("the audio device did not %s within %g s; abandoning it", what, STOP_TIMEOUT_S)
            self.abandoned = True
            abandon_portaudio()


class _Status:
    """PortAudio's callback flags as the in-memory device reports them (an xrun sets both, as JACK's does)."""

    def __init__(self):
        self.input_overflow = False
        self.output_underflow = False

    def __bool__(self) -> bool:
        return self.input_overflow or self.output_underflow


class _TimeInfo:
    """PortAudio's callback time info on the in-memory device's clock: its frame position in seconds."""

    def __init__(self):
        self.inputBufferAdcTime = 0.0
        self.currentTime = 0.0
        self.outputBufferDacTime = 0.0


class MemoryStream:
    """A device in memory: plays ``source`` (frames, channels) into the callback block by block.

    ``realtime=False``: a block is delivered as soon as ``ready(frames)`` says the engine has the
    output for it (at most ``wait_s`` later), so minutes of stream run in seconds through the same
    code; ``realtime=True``: one block per block period, as a sound card would, whatever the engine
    does. What the callback writes is kept in :attr:`recorded`. ``fail_at`` (a frame count) makes the
    device "unplug" there. ``latency`` is what the device reports. ``drop_at`` (frame positions) makes
    the device lose the block at each, as a sound card's overrun does: its input never reaches the
    callback, its output stays silent in :attr:`recorded`, and the next block carries both xrun flags
    and the device's own clock in its time info (what PortAudio gives the callback).
    """

    kind = "memory"

    def __init__(self, source: np.ndarray, sample_rate: int, block_size: int, *, output_channels: int = 2,
                 realtime: bool = False, latency: tuple[float, float] = (0.0, 0.0), fail_at: int | None = None,
                 record: bool = True, wait_s: float = 1.0, drop_at: tuple[int, ...] = ()):
        src = np.asarray(source, np.float32)
        self.source = src[:, None] if src.ndim == 1 else src
        self.sample_rate = int(sample_rate)
        self.block_size = int(block_size)
        self.input_channels = self.source.shape[1]
        self.output_channels = int(output_channels)
        self.realtime = realtime
        self.latency = tuple(latency)
        self.fail_at = fail_at
        self.wait_s = wait_s
        self.drop_at = sorted(int(f) for f in drop_at)
        self.dropped_blocks = 0
        self.recorded = np.zeros((len(self.source) if record else 0, self.output_channels), np.float32)
        self.ready: Callable[[int], bool] | None = None  # set by the engine: "output for the next block is there"
        self.progress: Doorbell | None = None  # rung by the engine's threads when they have made progress
        self.failure: str | None = None
        self.on_stopped: Callable[[], None] | None = None  # called when the device "unplugs" or the source runs out
        self.finished = threading.Event()
        self.position = 0
        self.device_names = ("memory", "memory")
        self._callback = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def open(self, callback: Callable) -> None:
        self._callback = callback

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="memory-device", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        n = self.block_size
        out = np.zeros((n, self.output_channels), np.float32)
        status, time_info = _Status(), _TimeInfo()
        drops = list(self.drop_at)
        period = n / self.sample_rate
        next_t = time.perf_counter()
        total = len(self.source)
        while not self._stop.is_set() and self.position + n <= total:
            if self.fail_at is not None and self.position >= self.fail_at:
                self.failure = f"memory device unplugged at frame {self.position}"
                break
            status.input_overflow = status.output_underflow = False
            if drops and self.position >= drops[0]:  # this block is lost, the next one says so
                drops.pop(0)
                self.position += n
                self.dropped_blocks += 1
                next_t += period  # a lost block takes its time on the device too
                status.input_overflow = status.output_underflow = True
                if self.position + n > total:
                    break
            time_info.inputBufferAdcTime = time_info.currentTime = self.position / self.sample_rate
            time_info.outputBufferDacTime = time_info.currentTime + self.latency[1]
            if self.realtime:
                delay = next_t - time.perf_counter()
                if delay > 0:
                    self._stop.wait(delay)
                next_t += period
            else:
                self._wait_until_ready(n)
            block = self.source[self.position:self.position + n]
            self._callback(block, out, n, time_info, status)
            if len(self.recorded):
                self.recorded[self.position:self.position + n] = out
            self.position += n
        self.finished.set()
        if self.on_stopped is not None and not self._stop.is_set():
            self.on_stopped()

    def _wait_until_ready(self, n: int) -> None:
        if self.ready is None:
            return
        deadline = time.perf_counter() + self.wait_s
        while not self.ready(n) and not self._stop.is_set():
            left = deadline - time.perf_counter()
            if left <= 0:
                return  # the engine is stuck: deliver anyway, the callback counts the underrun
            if self.progress is not None:
                self.progress.wait(min(left, 0.05))
            else:
                time.sleep(0.001)

    def alive(self) -> bool:
        return self.failure is None and self._thread is not None and not self.finished.is_set()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def close(self) -> None:
        self.stop()

