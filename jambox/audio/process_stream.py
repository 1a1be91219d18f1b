"""The engine's side of the audio process: a stream with the SoundDeviceStream interface whose callback
runs in ``python -m jambox.audio.io_process`` (why: see that module).

The engine asks it for the shared memory first (:meth:`ProcessStream.share`), builds its rings and
its (never called) :class:`~jambox.audio.stream.DuplexCallback` on it, so the counters, times, stream
clock mark and callback thread id it reads are the audio process's own, live. ``open`` starts the
process with the memory and the doorbells' pipe ends and waits for the device to open there: its
errors come back as the same :class:`~jambox.errors.AudioDeviceError` messages.

A lost device: the engine's stall detector (or the process's own report) calls :meth:`mark_lost`,
which kills the audio process at once (its PortAudio could hang or abort in any shutdown). This
process's PortAudio was shut down cleanly while the audio process streamed, so it never saw the
server go: it scans again and the next audio process opens the new server (no re-exec, which the
in-process stream needs on JACK).
"""

from __future__ import annotations

import json
import logging
import os
import queue
import subprocess
import sys
import threading

from jambox.audio.shared import Layout, SharedAudio
from jambox.audio.stream import DeviceStream
from jambox.errors import AudioDeviceError, JamboxError

log = logging.getLogger(__name__)

OPEN_TIMEOUT_S = 30.0  # the audio process imports numpy and sounddevice and opens the device
COMMAND_TIMEOUT_S = 4.0  # start, stop, close (the process bounds PortAudio's own at 2 s)


def run_stream_class(audio_config) -> type:
    """The stream ``jambox run`` uses: the audio process (the callback off the engine's GIL) where the
    system can share the memory (Linux) and ``audio.callback_process`` is on, else the in-process one."""
    from jambox.audio.shared import supported
    from jambox.audio.stream import SoundDeviceStream

    if audio_config.callback_process and supported():
        return ProcessStream
    if audio_config.callback_process:
        log.info("the audio callback runs in this process: this system has no memfd_create")
    return SoundDeviceStream


class ProcessStream(DeviceStream):
    """A duplex stream (the interface of SoundDeviceStream) whose callback runs in an audio process."""

    kind = "process"

    def __init__(self, input_device: int | None, output_device: int | None, sample_rate: int, block_size: int,
                 input_channels: int, output_channels: int = 2):
        super().__init__(input_device, output_device, sample_rate, block_size, input_channels, output_channels)
        self.latency: tuple[float, float] = (0.0, 0.0)
        self.device_names: tuple[str, str] = ("?", "?")
        self.shared: SharedAudio | None = None
        self._proc: subprocess.Popen | None = None
        self._replies: queue.Queue = queue.Queue()
        self._reader: threading.Thread | None = None
        self._running = False
        self._closing = False

    def share(self, layout: Layout) -> SharedAudio:
        """The shared memory the engine builds its rings and callback state on (made once)."""
        if self.shared is None:
            self.shared = SharedAudio(layout)
        return self.shared

    # -- lifecycle -----------------------------------------------------------------------------
    def open(self, callback) -> None:
        if self.shared is None or callback.shared is not self.shared.callback:
            raise AudioDeviceError("the engine must build its callback on ProcessStream.share()'s memory")
        bells = [b.ring_fd for b in callback.doorbells]
        setup = {
            "layout": self.shared.layout.as_dict(), "memory_fd": self.shared.fd, "bell_fds": bells,
            "input_channel": callback.channel + 1, "input_gain_db": callback.input_gain_db,
            "dry_level": callback.dry_level,
            "stream": {"input_device": self.input_device, "output_device": self.output_device,
                       "sample_rate": self.sample_rate, "block_size": self.block_size,
                       "input_channels": self.input_channels, "output_channels": self.output_channels},
        }
        self.failure = None
        self._closing = False
        from jambox.audio import devices

        devices.release()  # no idle JACK client of this process's in the graph while the audio process runs
        env = dict(os.environ)
        if log.isEnabledFor(logging.DEBUG):
            env["JAMBOX_AUDIO_LOG"] = "DEBUG"
        self._proc = subprocess.Popen([sys.executable, "-m", "jambox.audio.io_process"], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True, pass_fds=[self.shared.fd, *bells], env=env)
        self._reader = threading.Thread(target=self._read, args=(self._proc,), name="audio-process-replies",
                                        daemon=True)
        self._reader.start()
        try:
            self._send(json.dumps(setup))
            reply = self._reply("open", OPEN_TIMEOUT_S)
        except BaseException:
            self._closing = True
            self._end(self._proc)
            devices.reacquire()
            raise
        self.latency = (float(reply["latency"][0]), float(reply["latency"][1]))
        self.device_names = (str(reply["names"][0]), str(reply["names"][1]))
        self.on_jack = bool(reply["on_jack"])
        log.info("audio process %d: the callback runs there", self._proc.pid)

    def start(self) -> None:
        self._command("start")
        self._running = True

    def stop(self) -> None:
        self._running = False
        if self._usable():
            try:
                self._command("stop")
            except JamboxError as e:
                log.warning("stopping the audio process's stream: %s", e)

    def close(self) -> None:
        self._running = False
        self._closing = True
        proc = self._proc
        if proc is None:
            return
        try:
            if self._usable():
                try:
                    self._command("close")
                except JamboxError as e:
                    log.warning("closing the audio process's stream: %s", e)
        finally:
            self._end(proc)
            if not self.lost:  # a lost server: this process's PortAudio stays down (run re-execs)
                from jambox.audio import devices

                devices.reacquire()

    def alive(self) -> bool:
        return self._running and self.failure is None and self._proc is not None and self._proc.poll() is None

    def mark_lost(self) -> None:
        """The device is gone: kill the audio process now (no PortAudio shutdown can be trusted then)."""
        self.lost = True
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
        if self.on_jack:
            from jambox.audio.devices import abandon_portaudio

            # Only if this process's PortAudio was up on the lost server (it is released while the
            # audio process streams, and then it can simply scan again: no re-exec needed).
            abandon_portaudio()

    # -- the pipe ------------------------------------------------------------------------------
    def _usable(self) -> bool:
        return self._proc is not None and self._proc.poll() is None and not self.lost and not self.abandoned

    def _send(self, line: str) -> None:
        try:
            self._proc.stdin.write(line + "\n")
            self._proc.stdin.flush()
        except (OSError, ValueError) as e:
            raise AudioDeviceError(f"the audio process is gone ({e})") from None

    def _command(self, what: str) -> dict:
        self._send(what)
        return self._reply(what, COMMAND_TIMEOUT_S)

    def _reply(self, what: str, timeout: float) -> dict:
        try:
            reply = self._replies.get(timeout=timeout)
        except queue.Empty:
            self.abandoned = True
            self._kill()
            raise AudioDeviceError(f"the audio process did not {what} the stream within {timeout:g} s") from None
        if reply is None:
            status = self._proc.poll() if self._proc is not None else None
            raise AudioDeviceError(f"the audio process exited (status {status}) before it could {what} the stream")
        if "error" in reply:
            import jambox.errors as errors

            cls = getattr(errors, str(reply.get("type")), AudioDeviceError)
            if not (isinstance(cls, type) and issubclass(cls, JamboxError)):
                cls = AudioDeviceError
            try:
                err = cls(reply["error"])
            except TypeError:
                err = AudioDeviceError(reply["error"])
            raise err
        return reply

    def _read(self, proc: subprocess.Popen) -> None:
        """The replies thread: answers to the queue, a stopped stream to ``on_stopped``; EOF is the process's end."""
        for line in proc.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                log.warning("audio process: %s", line.rstrip())
                continue
            if message.get("event") == "stopped":  # as SoundDeviceStream: the device is lost
                self.mark_lost()
                self._stopped(message.get("failure") or "the audio stream stopped by itself")
            else:
                self._replies.put(message)
        self._replies.put(None)
        proc.wait()
        if self._running and not self._closing:
            self._stopped(f"the audio process exited (status {proc.returncode})")

    def _stopped(self, failure: str) -> None:
        if self.failure is None:
            self.failure = failure
            if self.on_stopped is not None:
                self.on_stopped()

    def _kill(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()

    def _end(self, proc: subprocess.Popen) -> None:
        try:
            proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(timeout=COMMAND_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            log.warning("the audio process did not exit; killing it")
            proc.kill()
            proc.wait(timeout=COMMAND_TIMEOUT_S)
        if self._reader is not None:
            self._reader.join(timeout=COMMAND_TIMEOUT_S)
        self._proc = None
