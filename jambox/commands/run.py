"""``jambox run``: the box, live. Bass in on the audio input, drums and keys (and the dry bass) out.

Start-up order, each undone in reverse in ``finally``: stop signals, the model and the memory file,
then per audio session: the stream and the chain, the engine's threads, the controls (keyboard,
GPIO panel, MIDI controller), READY to systemd. A lost device ends the audio session; under systemd
or with ``--retry`` the box waits ``audio.reopen_interval_s`` and opens it again (a fresh session on
the same model and memory), feeding the watchdog meanwhile, instead of exiting.
"""

from __future__ import annotations

import logging
import random
import sys
import threading
import time

from jambox.errors import AudioDeviceError

log = logging.getLogger(__name__)

HELP = "play live: listen on the audio input and play along on the output (Ctrl-C or SIGTERM stops)"


def add_arguments(parser) -> None:
    parser.add_argument("--device", metavar="NAME|INDEX", help="audio device for input and output (name substring "
                        "or index; default: audio.input_device / audio.output_device, else the system default)")
    parser.add_argument("--input-device", metavar="NAME|INDEX", help="audio input device (overrides --device)")
    parser.add_argument("--output-device", metavar="NAME|INDEX", help="audio output device (overrides --device)")
    parser.add_argument("--list-devices", action="store_true", help="list the audio devices and exit")
    parser.add_argument("--state", metavar="F", help="memory file (default: memory.state_file, else the user's)")
    parser.add_argument("--seed", type=int, help="random seed (default: generator.seed, or a new one)")
    parser.add_argument("--no-keyboard", action="store_true", help="do not read terminal keys as controls")
    parser.add_argument("--duration", type=float, metavar="S", help="stop after S seconds of audio (for tests)")
    parser.add_argument("--retry", action="store_true", help="keep reopening a missing or lost audio device "
                        "every audio.reopen_interval_s (the default under systemd)")
    parser.add_argument("--record-plan", metavar="F.json", help="write the notes the box planned (stream "
                        "samples), what it heard and its counters to F.json when it stops")
    parser.add_argument("--set", metavar="NAME=VALUE", action="append", default=[],
                        help="set a control at the start (energy=0.4), or a config key (audio.block_size=64)")


def run(args, config) -> int:
    from jambox.audio import devices

    if args.list_devices:
        print(devices.list_devices())
        return 0
    from jambox.appliance import Notifier, StopSignals, fatal_errors_shown, show_fatal, under_systemd
    from jambox.commands.accompany import split_sets
    from jambox.config.load import parse_set

    set_actions, overrides = split_sets(args.set)
    if overrides:
        config = config.with_overrides(parse_set(overrides), "--set")
    retry = bool(args.retry or under_systemd())
    notifier = Notifier()
    outcome: int | str = 0
    try:
        with StopSignals() as stop:
            with fatal_errors_shown(notifier=notifier, leds=lambda: _error_leds(config)):
                notifier.status("loading the model")
                model, memory = _load(config, args)
            try:
                seed = args.seed if args.seed is not None else (
                    config.generator.seed or random.SystemRandom().randrange(1, 2**31))
                runner = _Runner(config, args, model, memory, seed, set_actions, stop, notifier, retry)
                try:
                    outcome = runner.play()
                except Exception as e:
                    if runner.was_ready:  # it played, then failed: not a start-up error
                        log.error("stopped: %s", e)
                        notifier.failed(f"stopped: {e}")
                    else:  # the audio never started: the journal, systemd and the error LED say why
                        show_fatal(e, notifier=notifier, leds=_error_leds_quietly(config))
                    raise
            finally:
                memory.close()
    finally:
        if outcome == REEXEC:
            notifier.status("restarting to reconnect to JACK")
        else:
            notifier.stopping("stopped")
        notifier.close()
    if outcome == REEXEC:
        _reexec()
    return int(outcome)


REEXEC = "re-exec"


def _reexec() -> None:
    """Start this command afresh in this process (same PID, so systemd keeps watching the same service).

    Used when the JACK server went away: PortAudio can neither reconnect nor shut down in the old
    process (see :func:`jambox.audio.devices.abandon_portaudio`)."""
    import os

    log.warning("restarting jambox run to reconnect to the JACK server")
    sys.stdout.flush()
    sys.stderr.flush()
    _close_on_exec()
    os.execv(sys.executable, [sys.executable, "-m", "jambox", *sys.argv[1:]])


def _close_on_exec() -> None:
    """Every descriptor but stdin, stdout and stderr closed by the exec.

    Python opens its own files close-on-exec, C libraries often do not: libjack's sockets and
    semaphores of a client of the old server would live on in the new program, and the server would
    keep a client nobody answers for (a synchronous server waits on it every cycle)."""
    import os

    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:  # no /proc: nothing more to do than exec
        return
    for fd in fds:
        if fd > 2:
            try:
                os.set_inheritable(fd, False)
            except OSError:  # the listing's own descriptor, closed by now
                pass


def _load(config, args):
    from jambox.generate import load_model
    from jambox.memory import Memory

    model = load_model(config.generator.model or None, backend=config.generator.backend)
    # A state file that cannot be opened must not stop the music (nor crash-loop under systemd): the box
    # plays on an in-memory database and says so.
    memory = Memory.open(args.state if args.state is not None else (config.memory.state_file or None),
                         fallback_to_memory=True)
    if memory.problem:
        log.error("memory: %s", memory.problem)
    return model, memory


def _error_leds(config):
    if not config.controls.gpio:
        return None
    from jambox.controls.gpio import make_status_leds

    return make_status_leds(config)


def _error_leds_quietly(config):
    try:
        return _error_leds(config)
    except Exception:  # noqa: BLE001 - the LEDs are how an error is shown; they must not replace it
        log.exception("could not open the LEDs to show the error")
        return None


class _Runner:
    """Audio sessions on one model and one memory until stopped."""

    def __init__(self, config, args, model, memory, seed, set_actions, stop, notifier, retry):
        self.config, self.args = config, args
        self.model, self.memory, self.seed = model, memory, seed
        self.set_actions = list(set_actions)
        self.stop, self.notifier, self.retry = stop, notifier, retry
        self.quit = threading.Event()  # the keyboard's q
        self.on_jack = False
        self.was_ready = False  # READY was sent once: later failures are not start-up failures

    def stopping(self) -> bool:
        return self.stop.received is not None or self.quit.is_set()

    def play(self) -> int | str:
        """Returns the exit status, or REEXEC."""
        from jambox.audio import devices

        while True:
            try:
                engine, chain = self._open()
            except AudioDeviceError as e:
                if not self.retry:
                    raise
                self._wait_to_reopen(e)
                if self.stopping():
                    return 0
                continue
            actions, self.set_actions = self.set_actions, []  # --set applies to the first session only
            try:
                reason = self._session(engine, chain, actions)
            except AudioDeviceError as e:  # the stream would not open or start (busy, refused rate)
                if not self.retry:
                    raise
                self._wait_to_reopen(e)
                if self.stopping():
                    return 0
                continue
            if not engine.device_lost or self.stopping():
                return 0
            in_process = getattr(engine.stream, "kind", None) == "sounddevice"
            if devices.abandoned() or (self.on_jack and in_process):  # PortAudio cannot re-scan here any more
                devices.abandon_portaudio()
                if not self.retry:
                    raise AudioDeviceError(f"{reason}; run with --retry (the default under systemd) to keep "
                                           "reconnecting")
                self._wait_to_reopen(AudioDeviceError(reason), rescan=False)
                return 0 if self.stopping() else REEXEC
            if not self.retry:
                raise AudioDeviceError(f"{reason}; run with --retry (the default under systemd) to keep reopening it")
            self._wait_to_reopen(AudioDeviceError(reason))
            if self.stopping():
                return 0

    def _wait_to_reopen(self, error: Exception, rescan: bool = True) -> None:
        interval = self.config.audio.reopen_interval_s
        if not self.stopping():
            self.stop.event.clear()  # the lost engine set it; a stop signal is told apart by stop.received
        log.error("%s; trying again in %g s", error, interval)
        self.notifier.status(f"waiting for the audio device: {error}")
        deadline = time.monotonic() + interval
        while not self.stopping():
            self.notifier.watchdog()
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self.stop.wait(min(left, 1.0))
        if rescan and not self.stopping():
            from jambox.audio import devices

            try:
                devices.refresh()  # a card plugged back in appears only after a re-scan
            except AudioDeviceError as e:
                log.debug("re-scanning devices: %s", e)

    def _open(self):
        """Resolve the devices, build the stream, the chain and the engine (nothing started yet)."""
        from jambox.audio import devices
        from jambox.audio.process_stream import run_stream_class
        from jambox.engine.chain import Chain
        from jambox.engine.live import LiveEngine

        a, args = self.config.audio, self.args
        in_dev = devices.resolve(args.input_device or args.device or a.input_device, "input")
        out_dev = devices.resolve(args.output_device or args.device or a.output_device, "output")
        self.on_jack = devices.is_jack(in_dev, "input") or devices.is_jack(out_dev, "output")
        out_channels = min(2, _max_channels(out_dev, "output"))
        stream = run_stream_class(a)(in_dev, out_dev, a.sample_rate, a.block_size, a.input_channel, out_channels)
        chain = Chain(self.config, model=self.model, memory=self.memory, seed=self.seed)
        try:
            engine = LiveEngine(self.config, chain, stream, stop_event=self.stop.event, realtime=True)
        except BaseException:
            chain.close()
            raise
        return engine, chain

    def _session(self, engine, chain, actions) -> str:
        """One audio session: start the engine and the controls, wait, stop them in reverse."""
        for action in actions:
            chain.submit(action)
        controls: list = []
        leds = None
        counters: dict = {}
        try:
            engine.start()
            leds = _start_controls(self.config, self.args, chain, self._quit, controls)
            engine.on_hop.append(_status_hook(self.notifier, leds, controls))
            names = getattr(engine.stream, "device_names", ("?", "?"))
            self.notifier.ready(f"listening on {names[0]}")
            self.was_ready = True
            if leds is not None:
                leds.set_listening(True)
            log.info("listening on %s, playing on %s", *names)
            engine.wait(self.args.duration)
        finally:
            for c in reversed(controls):
                try:
                    c.close()
                except Exception:  # noqa: BLE001 - keep stopping the rest
                    log.exception("closing %s", type(c).__name__)
            try:
                engine.stop()
            finally:
                try:
                    if self.args.record_plan:
                        engine.write_plan(self.args.record_plan)
                finally:
                    counters = engine.counters()
                    try:
                        self.memory.end_session(chain.now)
                    except Exception:  # noqa: BLE001 - a failed fold must not stop the shutdown
                        log.exception("ending the memory session")
                    chain.close()
                    if leds is not None:
                        leds.close()
        log.info("stopped (%s): %s", engine.stop_reason or "signal", counters)
        print(_summary(engine, counters), file=sys.stderr)
        if engine.error is not None:
            raise engine.error
        return engine.stop_reason or "stopped"

    def _quit(self) -> None:
        self.quit.set()
        self.stop.event.set()


def _max_channels(device: int | None, kind: str) -> int:
    import sounddevice as sd

    try:
        d = sd.query_devices(device) if device is not None else sd.query_devices(kind=kind)
        return int(d[f"max_{kind}_channels"]) or 2
    except (sd.PortAudioError, ValueError):
        return 2


def _summary(engine, counters: dict) -> str:
    played = len(engine.chain.record.played)
    return (f"jambox run: {counters['stream_seconds']} s, {played} notes played, {counters['xruns']} xruns, "
            f"{counters.get('performer_late_notes', 0)} late notes, callback p99 {counters['callback_us_p99']} us")


def _start_controls(config, args, chain, on_quit, controls: list):
    """Keyboard, GPIO panel and MIDI controller, each optional; a missing one is a log line, not a failure.

    Returns the status LEDs (or None)."""
    leds = None
    use_keyboard = config.controls.keyboard and not args.no_keyboard and sys.stdin is not None and sys.stdin.isatty()
    if use_keyboard:
        try:
            from jambox.controls.keyboard import KEY_HELP, KeyboardControls

            controls.append(KeyboardControls(chain.submit, controls=chain.session.controls(), on_quit=on_quit))
            print(KEY_HELP, file=sys.stderr)
        except ImportError as e:
            log.warning("keyboard controls unavailable (%s); running without them", e)
    if config.controls.gpio:
        from jambox.controls.gpio import make_controls
        from jambox.errors import GpioError

        try:
            panel, leds = make_controls(config, chain.submit)
        except GpioError as e:  # the music goes on without the panel; doctor says how to fix it
            log.error("GPIO panel unavailable: %s; playing without it", e)
        else:
            if panel is not None:
                controls.append(panel)
    if config.controls.midi_in:
        from jambox.errors import MidiError

        try:
            from jambox.controls.midi_in import MidiControls

            controls.append(MidiControls(config, chain.submit))
        except (ImportError, MidiError) as e:
            log.error("MIDI controller input unavailable: %s; playing without it", e)
    return leds


def _status_hook(notifier, leds, controls):
    """Run by the logic thread after each hop: the watchdog, the LEDs, and the controls' view of the session."""
    state = {"beats": 0, "playing": None, "controls": None, "actions": 0, "suggestion": None}

    def hook(chain) -> None:
        notifier.watchdog()
        current = chain.session.controls()
        if current is not state["controls"]:
            state["controls"] = current
            for c in controls:
                sync = getattr(c, "sync", None)
                if sync is not None:
                    sync(current)
        if leds is None:
            return
        applied = len(chain.record.actions)  # applied by the session and committed to memory: acknowledge
        if applied > state["actions"]:
            state["actions"] = applied
            leds.ack()
        pending = chain.session.suggestion_pending
        if pending != state["suggestion"]:
            state["suggestion"] = pending
            leds.set_suggestion(pending)
        playing = chain.join.playing
        if playing != state["playing"]:
            state["playing"] = playing
            leds.set_playing(playing)
        beats = chain.record.beats
        while state["beats"] < len(beats):
            leds.beat(downbeat=beats[state["beats"]].position == 0)
            state["beats"] += 1

    return hook
