"""`jambox run` for real: a private JACK server (dummy backend), the demo riff played into the box's input
port by a JACK client, the box's output port recorded by another.

Alignment needs no guessing. The box's ``--record-plan`` says at which stream sample it first heard
sound, which ties its input stream to the riff; the dry bass it mixes into its output (at half level)
is that input, frame for frame, so finding the riff in the recording places the box's output frame 0
in the recording exactly, whatever JACK's graph adds. Subtracting the dry bass leaves the
accompaniment alone, and the plan's notes are found in it by matching the accompaniment rendered
offline from the same plan (the same FluidSynth, so the same sound).
"""

import gc
import json
import os
import signal
import subprocess
import sys
import time

import jack  # JACK-Client, a test dependency (pyproject [test])
import numpy as np
import pytest
import soundfile as sf
from scipy.signal import butter, sosfilt

from jambox.audio.jackd import JackServer
from jambox.config.load import load_config
from jambox.demo_riff import AUDIO_FILE, BPM
from jambox.events import PlayedNote
from jambox.perform.performer import Performer

SR = 48000
PERIOD = 128
BEAT = int(60 / BPM * SR)  # the demo riff's true beat, in samples (its first beat at sample 0)
DRY = 0.5
BOX_SETTINGS = ["--set", f"audio.dry_level={DRY}", "--set", "performer.reverb=false", "--set", "audio.block_size=128"]


def box_env(server):
    env = dict(server.env)
    env.pop("NOTIFY_SOCKET", None)
    env.pop("INVOCATION_ID", None)
    return env


def start_box(server, tmp_path, *args):
    cmd = [sys.executable, "-m", "jambox", "-v", "run", "--device", "system, JACK", "--no-keyboard",
           "--state", str(tmp_path / "state.db"), "--seed", "3", "--record-plan", str(tmp_path / "plan.json"),
           *BOX_SETTINGS, *args]
    return subprocess.Popen(cmd, env=box_env(server), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)


class Rig:
    """Two JACK clients in this process: one plays ``riff`` into the box, one records the box's output.

    Their callbacks are Python in this (large) process, and JACK reports any client's late cycle to
    every client, the box included: the garbage collector, whose full pass over pytest's heap takes
    longer than a period, is off while the rig plays."""

    def __init__(self, server: JackServer, riff: np.ndarray, seconds: float, stall_at_s: float | None = None):
        """``stall_at_s``: the player's callback takes 20 ms once, that far into the riff: a late cycle
        (an xrun for every client) at a known time."""
        self.stall_at = None if stall_at_s is None else int(stall_at_s * SR)
        self._gc_was_enabled = gc.isenabled()
        gc.collect()
        gc.disable()
        self.riff = riff.astype(np.float32)
        self.rec = np.zeros(int(seconds * SR), np.float32)
        self.play_pos = self.rec_pos = 0
        self.play_start = self.rec_start = None
        self.go = False
        self.xruns = 0
        self.xrun_frames: list[int] = []
        self.player = jack.Client("riff-player", servername=server.name, no_start_server=True)
        self.recorder = jack.Client("box-recorder", servername=server.name, no_start_server=True)
        self.out = self.player.outports.register("out")
        self.inp = self.recorder.inports.register("in")
        self.player.set_process_callback(self._play)
        self.recorder.set_process_callback(self._record)
        self.recorder.set_xrun_callback(self._xrun)
        self.player.activate()
        self.recorder.activate()

    def _xrun(self, delay):
        self.xruns += 1
        self.xrun_frames.append(self.recorder.frame_time)  # when, on JACK's clock (for a failure's message)

    def _play(self, frames):
        buf = self.out.get_array()
        if not self.go or self.play_pos >= len(self.riff):
            buf.fill(0)
            return
        if self.play_start is None:
            self.play_start = self.player.last_frame_time
        if self.stall_at is not None and self.play_pos >= self.stall_at:
            self.stall_at = None
            time.sleep(0.02)  # a synchronous server waits for us: this cycle ends 20 ms late
        chunk = self.riff[self.play_pos:self.play_pos + frames]
        buf[:len(chunk)] = chunk
        buf[len(chunk):] = 0
        self.play_pos += frames

    def _record(self, frames):
        if not self.go or self.rec_pos + frames > len(self.rec):
            return
        if self.rec_start is None:
            self.rec_start = self.recorder.last_frame_time
        self.rec[self.rec_pos:self.rec_pos + frames] = self.inp.get_array()
        self.rec_pos += frames

    def connect_box(self, timeout_s=60.0):
        """Wait for the box's PortAudio ports, then wire player -> box -> recorder."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            ins = self.player.get_ports("PortAudio", is_audio=True, is_input=True)
            outs = self.player.get_ports("PortAudio", is_audio=True, is_output=True)
            if ins and outs:
                self.player.connect(self.out, ins[0])
                self.recorder.connect(outs[0], self.inp)
                return ins[0].name, outs[0].name
            time.sleep(0.1)
        raise AssertionError("the box's PortAudio ports never appeared")

    def close(self):
        try:
            for c in (self.player, self.recorder):
                c.deactivate()
                c.close()
        finally:
            if self._gc_was_enabled:
                gc.enable()


def reference(plan) -> np.ndarray:
    """The plan rendered offline: index j is output frame j (stream time j + latency compensation)."""
    cfg = load_config(search=[]).with_overrides({"performer": {"reverb": False}}).performer
    perf = Performer(SR, cfg)
    perf.schedule([PlayedNote(**n) for n in plan["notes"]])
    total = max(n["time"] + n["duration"] for n in plan["notes"]) + SR
    out = np.zeros((total, 2), np.float32)
    start = plan["latency_compensation"]
    for a in range(0, total, PERIOD):
        perf.render(out[a:a + PERIOD], start + a)
    perf.close()
    return out[:, 0]


def highpass(x):
    return sosfilt(butter(4, 2000, "highpass", fs=SR, output="sos"), x)


def local_lag(rec, ref, at_rec, at_ref, search=480, width=1440):
    """The lag (samples) that best matches ``ref`` around ``at_ref`` to ``rec`` around ``at_rec``."""
    seg = ref[at_ref:at_ref + width]
    if len(seg) < width or np.sum(seg ** 2) == 0:
        return None
    best, best_lag = -np.inf, None
    for lag in range(-search, search + 1, 4):
        a = at_rec + lag
        if a < 0 or a + width > len(rec):
            continue
        c = float(np.dot(rec[a:a + width], seg))
        if c > best:
            best, best_lag = c, lag
    if best_lag is None:
        return None
    for lag in range(best_lag - 4, best_lag + 5):  # refine to the sample
        a = at_rec + lag
        if 0 <= a and a + width <= len(rec):
            c = float(np.dot(rec[a:a + width], seg))
            if c > best:
                best, best_lag = c, lag
    return best_lag


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with JackServer(SR, PERIOD, log_path=tmp_path_factory.mktemp("jackd") / "jackd.log") as s:
        yield s


@pytest.fixture(scope="module")
def riff():
    x, sr = sf.read(str(AUDIO_FILE), dtype="float32")
    assert sr == SR
    return x


def play_through_box(server, tmp_path, riff, seconds, *extra, midi=None, stall_at_s=None):
    rig = Rig(server, riff, seconds + 5, stall_at_s=stall_at_s)
    if midi is not None:
        midi.frames = lambda: rig.player.frame_time  # JACK's frame clock, not the wall clock: on a loaded
        # machine the dummy driver runs slower than real time
    box = start_box(server, tmp_path, "--duration", str(seconds), *extra)
    try:
        rig.connect_box()
        rig.go = True
        out, err = box.communicate(timeout=seconds + 120)
    finally:
        if box.poll() is None:
            box.kill()
            box.communicate()
        rig.close()
    assert box.returncode == 0, err[-3000:]
    plan = json.loads((tmp_path / "plan.json").read_text())
    return rig, plan, err


class MidiListener:
    """A JACK MIDI input port in this process that the box's MIDI out is sent to."""

    PORT = "box-midi-listener"

    def __init__(self, server):
        import rtmidi

        with server.as_default():  # rtmidi's JACK client finds its server there
            self.port = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, "midi-listener")
        self.got = []
        self.frames = lambda: 0
        self.port.ignore_types(sysex=True, timing=False, active_sense=True)
        self.port.set_callback(lambda ev, data=None: self.got.append((self.frames(), list(ev[0]))))
        self.port.open_virtual_port(self.PORT)

    def close(self):
        self.port.close_port()
        self.port.delete()


@pytest.fixture(scope="module")
def riff_run(server, tmp_path_factory, riff):
    tmp = tmp_path_factory.mktemp("run")
    midi = MidiListener(server)
    try:
        # the box comes in after about 12 s; its notes also go out as MIDI, with MIDI clock. A late
        # cycle at 8 s (the rig stalls once) must not move the box off JACK's frames: the notes it
        # plans afterwards are checked to the sample below.
        rig, plan, err = play_through_box(server, tmp, riff, 20.0, "--set", f"performer.midi_out={MidiListener.PORT}",
                                          midi=midi, stall_at_s=8.0)
    finally:
        midi.close()
    rig.midi = midi.got
    return rig, plan, err


def riff_index(plan, riff) -> int:
    """riff sample = stream sample + this (from the first sample the box heard)."""
    assert plan["first_input_sample"] is not None, "the box never heard the riff"
    r1 = int(np.flatnonzero(np.abs(riff) > plan["first_input_level"])[0])
    return r1 - plan["first_input_sample"]


def output_origin(rig, plan, riff) -> int:
    """Where the box's output frame 0 is in the recording: found by the dry bass (output frame k carries
    input sample k), searched near what JACK's frame counters suggest."""
    to_riff = riff_index(plan, riff)
    s0 = -to_riff + 4800  # a stretch of riff before the box joins
    length = 4 * SR
    dry = riff[s0 + to_riff:s0 + to_riff + length]
    guess = rig.play_start + to_riff - rig.rec_start
    best, origin = -np.inf, None
    for d in range(guess - 2048, guess + 2049):
        a = d + s0
        if a < 0 or a + length > rig.rec_pos:
            continue
        c = float(np.dot(rig.rec[a:a + length], dry))
        if c > best:
            best, origin = c, d
    assert origin is not None
    return origin


@pytest.fixture(scope="module")
def aligned(riff_run, riff):
    """(plan, accompaniment as recorded with the dry bass taken out, index of output frame 0, stderr)."""
    rig, plan, err = riff_run
    origin = output_origin(rig, plan, riff)
    to_riff = riff_index(plan, riff)
    rec = rig.rec[:rig.rec_pos].copy()
    k = np.arange(len(rec)) - origin + to_riff  # the riff sample in each recorded frame's dry bass
    ok = (k >= 0) & (k < len(riff))
    rec[ok] -= DRY * riff[k[ok]]
    return plan, rec, origin, err, rig


def test_the_dry_bass_comes_out_frame_for_frame_and_alone_before_the_box_joins(aligned, riff):
    plan, acc, origin, _, rig = aligned
    first_note = min(n["time"] for n in plan["notes"]) - plan["latency_compensation"]
    before = acc[max(0, origin + plan["first_input_sample"]):origin + first_note - 4800]
    assert len(before) > 2 * SR
    assert np.abs(before).max() < 1e-4  # the output was exactly the dry bass until then


def test_the_box_plays_its_plan_on_the_planned_samples(aligned):
    plan, acc, origin, _, _ = aligned
    drums = [n for n in plan["notes"] if n["part"] == "drums"]
    assert len(drums) >= 16, f"the box played {len(drums)} drum notes"
    ref = highpass(reference(plan))
    rec = highpass(acc)
    offset = plan["latency_compensation"]
    lags = []
    for n in drums:
        frame = n["time"] - offset  # the output frame that plays it
        lag = local_lag(rec, ref, origin + frame, frame)
        if lag is not None:
            lags.append(lag)
    assert len(lags) >= 0.8 * len(drums)
    deviation_ms = np.abs(lags) / SR * 1000
    assert np.median(deviation_ms) <= 5.0, deviation_ms
    assert plan["counters"]["performer_late_notes"] <= 0.05 * len(plan["notes"])


def test_the_accompaniment_starts_within_the_configured_bars(aligned):
    plan, acc, origin, _, _ = aligned
    loud = np.flatnonzero(np.abs(acc) > 0.01)
    assert len(loud), "nothing but the dry bass came out of the box"
    first_out = int(loud[0]) - origin + plan["latency_compensation"]  # recording index -> stream time
    riff_start = plan["first_input_sample"]
    cfg = load_config(search=[])
    bar = 4 * BEAT
    loop_bars = plan["heard"]["loop_bars"] or 2
    # the listener confirms the loop when it has heard it twice, the box then comes in at the
    # configured number of loops, on the next downbeat (up to a bar later), with the hit's attack
    allowed = ((cfg.generator.join_after_loops + 1) * loop_bars + 1) * bar + BEAT
    assert first_out - riff_start <= allowed, f"came in after {(first_out - riff_start) / bar:.2f} bars"


def test_the_same_notes_go_out_as_midi_with_midi_clock(riff_run):
    rig, plan, _ = riff_run
    msgs = [m for _, m in rig.midi]
    note_ons = [m for m in msgs if m[0] & 0xF0 == 0x90 and m[2] > 0]
    end = plan["counters"]["stream_seconds"] * SR - SR // 2  # notes planned up to the end went out
    due = [n for n in plan["notes"] if n["time"] < end]
    assert len(due) >= 16
    assert len(note_ons) >= 0.9 * len(due)
    assert {m[0] & 0x0F for m in note_ons if m[1] in {n["pitch"] for n in due if n["part"] == "drums"}} >= {9}
    ticks = [t for t, m in rig.midi if m == [0xF8]]
    assert [0xFA] in msgs and [0xFC] in msgs  # start once the tempo is known, stop when the box stops
    assert len(ticks) >= 24 * 8
    # 24 per quarter: at the riff's 100 bpm a tick every 1200 frames (JACK delivers MIDI per 128-frame
    # cycle; the listener's tempo wanders a little, and the clock follows it)
    gap = float(np.median(np.diff(ticks)))
    assert abs(gap - BEAT / 24) < 0.2 * BEAT / 24, gap


def test_the_run_reports_its_counters(riff_run):
    rig, plan, err = riff_run
    c = plan["counters"]
    assert c["stream_seconds"] >= 19.9
    assert c["underruns"] == 0 and c["input_overruns"] == 0  # the box itself never starved or overflowed
    assert "xruns" in err and "notes played" in err
    # the rig's stall was a late cycle for the box too; JACK's frames did not skip, so the stream clock
    # stayed on them (no resync), and the wall clock's run past them was counted as slip
    assert c["device_xruns"] >= 1 and rig.xruns >= 1, c
    assert c["device_resyncs"] == 0 and c["device_dropped_frames"] == 0, c
    assert c["device_slip_frames"] >= 480, c  # half the 20 ms stall at least


REALTIME_LATE_CYCLES = 0.005  # of the blocks, on a realtime server: see the minute test
STRICT = os.environ.get("JAMBOX_STRICT_XRUNS") == "1"  # a machine that holds a realtime server to zero


@pytest.mark.slow
def test_a_minute_at_128_frames_without_running_out_of_audio(server, tmp_path, riff, record_property):
    """Issue #5's target: no xruns in a minute at 128 frames.

    The box's own xruns (the callback found no accompaniment ready, or the input ring full) must be
    zero on any server.

    The device's xruns (JACK's late cycles, reported to every client at once) depend on the server:
    - realtime server (``jackd -R``, which JackServer takes wherever the machine allows SCHED_FIFO):
      zero with JAMBOX_STRICT_XRUNS=1, the issue's strict target, for a machine that holds it (a Pi,
      a quiet workstation). On this CI's 2-core VM a do-nothing client with its ports on the
      dummy driver's, no box at all, sees 3-5 late cycles a minute on a realtime server (one of
      60-80 ms: the guest losing its CPU), so there the bound is 0.5 % of the blocks (112 a minute);
      the box with its callback in the audio process measured 2-6 quiet, 9-10 at load 4, and 24 in
      one run of the whole suite from a fresh clone (a bound of 0.1 % failed it);
    - non-realtime server: the dummy driver's timer thread is scheduled like any other, and a
      do-nothing client gets late cycles too: 1 % of the blocks.
    Which case ran is in the report (``jack_server``) and in every assertion message.
    """
    case = ("realtime, strict" if STRICT else "realtime") if server.realtime else "non-realtime"
    record_property("jack_server", case)
    rig, plan, _ = play_through_box(server, tmp_path, np.tile(riff, 2), 60.0)
    c = plan["counters"]
    print(f"JACK server {case}: {c}")
    assert c["stream_seconds"] >= 59.0, (case, c)
    assert c["underruns"] == 0 and c["input_overruns"] == 0, (case, c)
    assert c["device_resyncs"] == 0, (case, c)  # JACK's frames never skip: the stream stays on them
    if server.realtime:
        bound = 0 if STRICT else REALTIME_LATE_CYCLES * c["blocks"]
        assert c["device_xruns"] <= bound, (case, c, f"rig saw {rig.xruns}")
    else:
        assert c["device_xrun_flags"] <= 0.01 * c["blocks"], (case, c)


def test_sigterm_stops_cleanly_and_still_writes_the_plan(server, tmp_path, riff):
    rig = Rig(server, riff, 20)
    box = start_box(server, tmp_path)
    try:
        rig.connect_box()
        rig.go = True
        time.sleep(3.0)
        box.send_signal(signal.SIGTERM)
        out, err = box.communicate(timeout=30)
    finally:
        if box.poll() is None:
            box.kill()
            box.communicate()
        rig.close()
    assert box.returncode == 0, err[-3000:]
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert plan["counters"]["stream_seconds"] >= 2.0
    assert "jambox run:" in err


def test_list_devices_shows_the_jack_device(server):
    out = subprocess.run([sys.executable, "-m", "jambox", "run", "--list-devices"], env=box_env(server),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert "system, JACK Audio Connection Kit (2 in, 2 out, 48000 Hz)" in out.stdout


def test_a_missing_device_is_a_clear_error(server, tmp_path):
    out = subprocess.run([sys.executable, "-m", "jambox", "run", "--device", "no-such-card-4711", "--no-keyboard",
                          "--state", str(tmp_path / "s.db"), *BOX_SETTINGS], env=box_env(server), capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 5, out.stderr
    assert "no input audio device matches 'no-such-card-4711'" in out.stderr


def test_a_refused_sample_rate_is_a_clear_error(server, tmp_path):
    out = subprocess.run([sys.executable, "-m", "jambox", "run", "--device", "system, JACK", "--no-keyboard",
                          "--state", str(tmp_path / "s.db"), *BOX_SETTINGS, "--set", "audio.sample_rate=44100"],
                         env=box_env(server), capture_output=True, text=True, timeout=120)
    assert out.returncode == 5, out.stderr
    assert "refuses 44100 Hz" in out.stderr


@pytest.mark.slow
@pytest.mark.parametrize("callback_process", [True, False], ids=["audio-process", "in-process"])
def test_with_retry_the_box_comes_back_after_the_jack_server_does(tmp_path, callback_process):
    """The server dies under the running box; with --retry it waits, and plays again on the new server.

    With the callback in the audio process, this process's PortAudio never saw the server go (it was
    shut down while the audio process streamed), so the box reopens in place; with the callback in
    this process, PortAudio cannot reconnect and the box re-execs itself."""
    first = JackServer(SR, PERIOD, log_path=tmp_path / "jackd1.log").start()
    box = start_box(first, tmp_path, "--retry", "--set", "audio.reopen_interval_s=0.5",
                    "--set", f"audio.callback_process={'true' if callback_process else 'false'}")
    second = None
    try:
        probe = jack.Client("probe", servername=first.name, no_start_server=True)
        deadline = time.monotonic() + 60
        while not probe.get_ports("PortAudio") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert probe.get_ports("PortAudio"), "the box never opened its ports"
        probe.close()
        first.stop()  # the "device" goes away
        time.sleep(2.0)
        assert box.poll() is None, "the box exited instead of waiting:\n" + box.communicate()[1][-3000:]
        second = JackServer(SR, PERIOD, name=first.name, log_path=tmp_path / "jackd2.log").start()
        probe = jack.Client("probe2", servername=second.name, no_start_server=True)
        deadline = time.monotonic() + 60
        while not probe.get_ports("PortAudio") and time.monotonic() < deadline:
            time.sleep(0.2)
        if not probe.get_ports("PortAudio"):
            box.kill()
            raise AssertionError("the box did not come back on the new server:\n" + box.communicate()[1][-3000:])
        probe.close()
        box.send_signal(signal.SIGTERM)
        _, err = box.communicate(timeout=30)
    finally:
        if box.poll() is None:
            box.kill()
            box.communicate()
        for s in (first, second):
            if s is not None:
                s.stop()
    assert box.returncode == 0, err[-3000:]
    assert "device lost" in err
    assert ("restarting jambox run" in err) is not callback_process, err[-3000:]


@pytest.mark.slow
def test_without_retry_a_lost_server_is_an_audio_device_error(tmp_path):
    server = JackServer(SR, PERIOD, log_path=tmp_path / "jackd.log").start()
    box = start_box(server, tmp_path)
    try:
        probe = jack.Client("probe", servername=server.name, no_start_server=True)
        deadline = time.monotonic() + 60
        while not probe.get_ports("PortAudio") and time.monotonic() < deadline:
            time.sleep(0.1)
        probe.close()
        server.stop()
        _, err = box.communicate(timeout=60)
    finally:
        if box.poll() is None:
            box.kill()
            box.communicate()
        server.stop()
    assert box.returncode == 5, err[-3000:]
    assert "device lost" in err and "--retry" in err


def test_the_keyboards_q_quits_cleanly(server, tmp_path):
    """With a terminal, keys are controls: q stops the box like SIGTERM does."""
    import pty

    master, slave = pty.openpty()
    cmd = [sys.executable, "-m", "jambox", "run", "--device", "system, JACK", "--state", str(tmp_path / "s.db"),
           "--record-plan", str(tmp_path / "plan.json"), *BOX_SETTINGS]
    box = subprocess.Popen(cmd, env=box_env(server), stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    os.close(slave)
    try:
        probe = jack.Client("probe-q", servername=server.name, no_start_server=True)
        deadline = time.monotonic() + 60
        while not probe.get_ports("PortAudio") and time.monotonic() < deadline:
            time.sleep(0.1)
        probe.close()
        time.sleep(1.0)
        os.write(master, b"q")
        _, err = box.communicate(timeout=30)
    finally:
        if box.poll() is None:
            box.kill()
            box.communicate()
        os.close(master)
    assert box.returncode == 0, err[-3000:]
    assert (tmp_path / "plan.json").exists()


def test_the_gpio_panel_starts_and_stops_with_the_box(server, tmp_path):
    """controls.gpio on gpiozero's mock pins (PWM-capable, for the LEDs): the panel and LEDs open, the
    box runs and everything closes again."""
    env = box_env(server) | {"GPIOZERO_PIN_FACTORY": "mock", "GPIOZERO_MOCK_PIN_CLASS": "mockpwmpin"}
    out = subprocess.run([sys.executable, "-m", "jambox", "-v", "run", "--device", "system, JACK", "--no-keyboard",
                          "--state", str(tmp_path / "s.db"), *BOX_SETTINGS, "--set", "controls.gpio=true",
                          "--duration", "2"], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "stopped (ran for 2 s)" in out.stderr


def test_the_status_hook_acknowledges_each_applied_action_and_shows_a_pending_suggestion():
    from jambox.commands.run import _status_hook
    from jambox.controls.actions import Action
    from jambox.controls.leds import NullStatusLeds
    from jambox.engine.chain import Chain
    from jambox.generate import load_model

    class Leds(NullStatusLeds):
        def __init__(self):
            super().__init__()
            self.calls = []

        def ack(self):
            self.calls.append("ack")

        def set_suggestion(self, pending):
            self.calls.append(("suggestion", pending))

    class Notifier:
        def watchdog(self):
            pass

    leds = Leds()
    chain = Chain(load_config(search=[]), model=load_model(None), memory=None, seed=1)
    try:
        hook = _status_hook(Notifier(), leds, [])
        hop = np.zeros(chain.hop_size, np.float32)
        chain.feed(hop)
        hook(chain)
        assert leds.calls == [("suggestion", False)]  # nothing applied yet: no ack
        chain.submit(Action.make("softer", source="test"))
        chain.submit(Action.make("keep", source="test"))
        chain.feed(hop)
        hook(chain)
        hook(chain)  # the same actions are acknowledged once
        assert leds.calls.count("ack") == 1
    finally:
        chain.close()
