"""The audio process: ``python -m jambox.audio.io_process``, whose Python does nothing but the callback.

Why a process of its own: the audio callback is Python, and Python code runs only with the GIL. In
the engine's process the logic thread holds it for whole aubio calls (aubio never releases it), model
steps and the rest, so the callback waited for it past its 2.67 ms period (128 frames at 48 kHz) and
the device counted xruns. Here no other Python thread runs: the callback takes the GIL at once.
Nothing else may pause it either: the garbage collector is off once the stream is open (see
:func:`_no_collector_pauses`), the shared memory is mapped up front (no page faults), and the
callback's thread runs SCHED_FIFO (libjack's doing on a realtime JACK server; ours, with
:func:`_callback_thread_realtime`, on ALSA).

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

import gc
import json
import logging
import os
import signal
import sys
import threading

log = logging.getLogger("jambox.audio.io_process")

CALLBACK_PRIORITY = 80  # above the engine's renderer (70) and logic thread (60), below the kernel's IRQ threads


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
                              doorbells=tuple(RemoteBell(fd) for fd in setup["bell_fds"]), shared=shared.callback,
                              sample_rate=setup["stream"]["sample_rate"])
    s = setup["stream"]
    stream = SoundDeviceStream(s["input_device"], s["output_device"], s["sample_rate"], s["block_size"],
                               s["input_channels"], s["output_channels"])
    stream.on_stopped = lambda: replies.send({"event": "stopped", "failure": stream.failure})
    try:
        stream.open(callback)
    except Exception as e:  # noqa: BLE001 - every start-up error goes back to the engine, which raises it
        replies.send(_error(e))
        return
    callback.follow_device_clock = not stream.on_jack  # JACK's frames never skip (see DuplexCallback.resync)
    _no_collector_pauses()
    replies.send({"ok": "open", "latency": list(stream.latency), "names": list(stream.device_names),
                  "on_jack": stream.on_jack, "pid": os.getpid()})
    for line in commands:
        command = line.strip()
        try:
            if command == "start":
                stream.start()
                if not stream.on_jack:
                    _callback_thread_realtime(callback)
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


def _no_collector_pauses() -> None:
    """No garbage-collector pass inside the callback.

    The callback allocates small objects (sounddevice's array views, numpy's scalars) and so, every
    few hundred blocks, would trigger a collection, which walks every tracked object of the process
    (numpy's and sounddevice's modules: milliseconds, more than a 128-frame period now and then).
    What this process does makes no reference cycles, so reference counting frees everything: the
    objects there are now are frozen out of the collector's sight and the collector is switched off."""
    gc.collect()
    gc.freeze()
    gc.disable()


def _callback_thread_realtime(callback, timeout_s: float = 2.0) -> None:
    """SCHED_FIFO for the callback's thread, as a JACK client's process thread gets from libjack.

    PortAudio's ALSA thread runs at normal priority unless asked (sounddevice does not ask), so on
    the Pi's card the callback would compete with every other task. Once the first block has named
    its thread, this (main) thread moves it to CALLBACK_PRIORITY where the process may
    (LimitRTPRIO in the unit; root). On JACK, libjack does this itself, exactly when the server is
    realtime, and it is left alone: a realtime callback under a normal-priority server would only
    move the engine's helper threads above the server."""
    import time

    from jambox.appliance.realtime import rt_limit

    deadline = time.monotonic() + timeout_s
    while callback.thread_id is None and time.monotonic() < deadline:
        time.sleep(0.01)
    tid = callback.thread_id
    if tid is None or rt_limit() <= 0:
        return
    try:
        if os.sched_getscheduler(tid) in (os.SCHED_FIFO, os.SCHED_RR):
            return
        prio = min(CALLBACK_PRIORITY, rt_limit(), os.sched_get_priority_max(os.SCHED_FIFO))
        os.sched_setscheduler(tid, os.SCHED_FIFO, os.sched_param(prio))
    except OSError as e:  # EPERM (a container without the capability, a seccomp filter)
        log.info("the audio callback stays at normal priority (%s)", e.strerror or e)
        return
    log.debug("the audio callback's thread %d runs SCHED_FIFO at %d", tid, prio)


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
