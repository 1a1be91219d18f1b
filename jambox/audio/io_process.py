"""The audio process: ``python -m jambox.audio.io_process``, whose Python does nothing but the callback.

Why a process of its own: the audio callback is Python, and Python code runs only with the GIL. In
the engine's process the logic thread holds it for whole aubio calls (aubio never releases it), model
steps and the rest, so the callback waited for it past its 2.67 ms period (128 frames at 48 kHz) and
the device counted xruns. Here no other Python thread runs: the callback takes the GIL at once.

It maps the engine's shared memory (:mod:`jambox.audio.shared`: both rings, the counters, the
times), opens the duplex stream with the same :class:`~jambox.audio.stream.SoundDeviceStream` and
runs the same :class:`~jambox.audio.stream.DuplexCallback` on it, ringing the engine's doorbells
through the pipe ends it inherited.

Protocol (see :class:`jambox.audio.process_stream.ProcessStream`, the engine's side): one JSON line
per message. The first line on stdin is the setup; the process answers it (``{"ok": ...}`` with the
stream's latency and device names, or ``{"error": message, "type": JamboxError subclass}``), then
answers each command (``start``, ``stop``, ``close``) the same way, and reports a stream that stopped
by itself as ``{"event": "stopped", "failure": ...}``. It ignores SIGINT and SIGTERM (Ctrl-C and
systemd reach the whole process group; the engine decides when the audio stops) and exits when its
stdin closes: an engine that died takes its audio process with it.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading

log = logging.getLogger("jambox.audio.io_process")


class _Replies:
    """JSON lines to the engine, from the command loop and PortAudio's finished callback."""

    def __init__(self, fd: int):
        self._f = os.fdopen(fd, "w", buffering=1)
        self._lock = threading.Lock()

    def send(self, message: dict) -> None:
        with self._lock:
            try:
                self._f.write(json.dumps(message) + "\n")
                self._f.flush()
            except (OSError, ValueError):  # the engine is gone; stdin's EOF ends us
                pass


def _error(e: BaseException) -> dict:
    from jambox.errors import JamboxError

    if isinstance(e, JamboxError):
        return {"error": str(e), "type": type(e).__name__}
    return {"error": f"the audio process failed: {type(e).__name__}: {e}", "type": "AudioDeviceError"}


def serve(setup: dict, commands, replies: _Replies) -> None:
    from jambox.audio.ring import RemoteBell
    from jambox.audio.shared import Layout, SharedAudio
    from jambox.audio.stream import DuplexCallback, SoundDeviceStream

    shared = SharedAudio(Layout(**setup["layout"]), fd=setup["memory_fd"])
    callback = DuplexCallback(shared.input_ring, shared.output_ring, input_channel=setup["input_channel"],
                              input_gain_db=setup["input_gain_db"], dry_level=setup["dry_level"],
                              doorbells=tuple(RemoteBell(fd) for fd in setup["bell_fds"]), shared=shared.callback)
    s = setup["stream"]
    stream = SoundDeviceStream(s["input_device"], s["output_device"], s["sample_rate"], s["block_size"],
                               s["input_channels"], s["output_channels"])
    stream.on_stopped = lambda: replies.send({"event": "stopped", "failure": stream.failure})
    try:
        stream.open(callback)
    except Exception as e:  # noqa: BLE001 - every start-up error goes back to the engine, which raises it
        replies.send(_error(e))
        return
    replies.send({"ok": "open", "latency": list(stream.latency), "names": list(stream.device_names),
                  "on_jack": stream.on_jack, "pid": os.getpid()})
    for line in commands:
        command = line.strip()
        try:
            if command == "start":
                stream.start()
            elif command == "stop":
                stream.stop()
            elif command == "close":
                stream.close()
                _terminate_portaudio(stream)
                replies.send({"ok": "close"})
                return
            else:
                raise ValueError(f"unknown command {command!r} (start, stop, close)")
        except Exception as e:  # noqa: BLE001 - reported; the engine decides
            replies.send(_error(e))
            continue
        replies.send({"ok": command})


def _terminate_portaudio(stream) -> None:
    """After a clean close, shut PortAudio down so its JACK client leaves the server properly (a client
    that just vanishes keeps a synchronous server waiting on it for a cycle or more). Not after the
    stream was abandoned: that shutdown is what asserts once the server is gone."""
    from jambox.audio import devices

    if stream.abandoned or stream.lost or devices.abandoned():
        return
    try:
        devices._sd()._terminate()
    except Exception as e:  # noqa: BLE001 - we exit next either way
        log.debug("terminating PortAudio: %s", e)


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    reply_fd = os.dup(1)
    os.dup2(2, 1)  # anything a library prints goes to stderr; stdout's pipe carries only replies
    sys.stdout = sys.stderr
    logging.basicConfig(level=os.environ.get("JAMBOX_AUDIO_LOG", "WARNING"), stream=sys.stderr,
                        format="jambox audio process: %(levelname)s %(message)s")
    replies = _Replies(reply_fd)
    line = sys.stdin.readline()
    if line:
        try:
            setup = json.loads(line)
        except ValueError as e:
            replies.send({"error": f"bad setup line from the engine: {e}", "type": "AudioDeviceError"})
        else:
            serve(setup, sys.stdin, replies)
    sys.stderr.flush()
    # Never run PortAudio's exit handler: after a lost JACK server it asserts and aborts, and the
    # stream was closed (or is being abandoned) already.
    os._exit(0)


if __name__ == "__main__":
    main()
