"""MIDI out: notes and clock at their stream times, through a recording port and through JACK MIDI for real."""

import threading
import time

import numpy as np
import pytest

from jambox.audio.jackd import JackServer
from jambox.errors import MidiError
from jambox.events import DRUM_CHANNEL, PlayedNote
from jambox.perform.midi_out import CLOCK, START, STOP, MidiOut, StreamClock, find_output_port
from tests.controls.fakes import wait_until

SR = 48000


class RecordingPort:
    """The port seam: what was sent, and when (perf_counter seconds)."""

    def __init__(self):
        self.got = []
        self.lock = threading.Lock()

    def send_message(self, msg):
        with self.lock:
            self.got.append((time.perf_counter(), list(msg)))


def running_clock(offset=0, out_latency_s=0.0):
    """A stream clock whose stream started now: stream time t is heard at start + t / SR (+ latency)."""
    t0 = time.perf_counter_ns()
    return StreamClock(SR, offset, out_latency_s, source=lambda: (0, t0)), t0 * 1e-9


def note(t, pitch=36, dur=SR // 10, channel=DRUM_CHANNEL, part="drums"):
    return PlayedNote(part, t, dur, pitch, 100, channel, 0)


def test_notes_go_out_when_their_stream_time_is_heard():
    port = RecordingPort()
    clock, start = running_clock(offset=480, out_latency_s=0.01)
    out = MidiOut(port, SR, clock=False, stream_clock=clock)
    times = [int(0.15 * SR), int(0.3 * SR), int(0.42 * SR)]
    out.schedule([note(t) for t in times])
    time.sleep(0.7)
    out.close()
    ons = [(w, m) for w, m in port.got if m[0] == 0x90 | DRUM_CHANNEL]
    assert [m[1] for _, m in ons] == [36, 36, 36]
    want = [start + (t - 480) / SR + 0.01 for t in times]
    err_ms = [abs(w - x) * 1000 for (w, _), x in zip(ons, want)]
    assert np.median(err_ms) < 5.0 and max(err_ms) < 20.0, err_ms  # the sender sleeps until due: OS wake-up jitter
    offs = [m for _, m in port.got if m[0] == 0x80 | DRUM_CHANNEL]
    assert len(offs) == 3
    assert out.counters()["late"] == 0


def test_without_a_stream_clock_notes_go_out_at_once_in_order():
    port = RecordingPort()
    out = MidiOut(port, SR, clock=True)
    out.program(0, 4)
    out.schedule([note(SR, pitch=40, channel=0, part="keys"), note(0, pitch=38)])
    deadline = time.monotonic() + 2
    while len(port.got) < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    out.close()
    msgs = [m for _, m in port.got]
    assert msgs[0] == [0xC0, 4]
    assert msgs[1:5] == [[0x99, 38, 100], [0x89, 38, 0], [0x90, 40, 100], [0x80, 40, 0]]


def test_clock_ticks_24_per_quarter_on_the_beat_grid():
    port = RecordingPort()
    clock, start = running_clock()
    out = MidiOut(port, SR, clock=True, stream_clock=clock)
    out.set_tempo(150.0, beat_phase=0, meter=(4, 4))  # a quarter every 0.4 s: a tick every 16.7 ms
    time.sleep(1.05)
    out.close()
    ticks = [w for w, m in port.got if m == [CLOCK]]
    assert [m for _, m in port.got].count([START]) == 1
    assert [STOP] in [m for _, m in port.got]  # close stops the slaved devices
    assert 55 <= len(ticks) <= 65  # about 1 s / 16.7 ms
    gaps = np.diff(ticks) * 1000
    assert abs(np.median(gaps) - 400 / 24) < 1.0
    # each tick on the grid through beat_phase 0
    phase_err = [((w - start) * 1000) % (400 / 24) for w in ticks]
    phase_err = [min(e, 400 / 24 - e) for e in phase_err]
    assert np.median(phase_err) < 3.0


def test_clock_in_six_eight_counts_eighths_as_beats():
    port = RecordingPort()
    clock, _ = running_clock()
    out = MidiOut(port, SR, clock=True, stream_clock=clock)
    out.set_tempo(240.0, beat_phase=0, meter=(6, 8))  # 240 eighths a minute = 120 quarters: 20.8 ms a tick
    time.sleep(0.6)
    out.close()
    ticks = [w for w, m in port.got if m == [CLOCK]]
    assert abs(np.median(np.diff(ticks)) * 1000 - 500 / 24) < 1.0


def test_all_notes_off_drops_pending_notes_and_releases_sounding_ones():
    port = RecordingPort()
    clock, _ = running_clock()
    out = MidiOut(port, SR, clock=False, stream_clock=clock)
    out.schedule([note(0, pitch=50, dur=SR * 10, channel=0, part="keys"), note(SR // 2, pitch=51)])
    time.sleep(0.1)
    out.all_notes_off()
    time.sleep(0.6)
    out.close()
    msgs = [m for _, m in port.got]
    assert [0x90, 50, 100] in msgs and [0x80, 50, 0] in msgs
    assert [0x99, 51, 100] not in msgs
    assert [0xB0, 123, 0] in msgs


def test_port_names_are_found_by_substring_or_index():
    ports = ["Midi Through:0", "USB MIDI Interface:0", "FLUID Synth:0"]
    assert find_output_port(ports, "usb") == 1
    assert find_output_port(ports, "2") == 2
    with pytest.raises(MidiError, match="no MIDI output port matches 'volca'"):
        find_output_port(ports, "volca")
    with pytest.raises(MidiError, match="2 MIDI output ports match ':0'|3 MIDI output ports match ':0'"):
        find_output_port(ports, ":0")


@pytest.fixture(scope="module")
def jack_server(tmp_path_factory):
    with JackServer(SR, 128, log_path=tmp_path_factory.mktemp("jack") / "jackd.log") as server, server.as_default():
        yield server


def test_real_jack_midi_port_receives_the_notes(jack_server):
    import rtmidi

    listener = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, "jambox-test-listener")
    got = []
    listener.set_callback(lambda ev, data=None: got.append(ev[0]))
    listener.ignore_types(timing=False)
    listener.open_virtual_port("box-listener")
    try:
        out = MidiOut.open("box-listener", SR, api="jack", client="jambox-test-out")
        out.schedule([note(0, pitch=38), note(SR // 20, pitch=42)])
        deadline = time.monotonic() + 5
        while len([m for m in got if m[0] == 0x99]) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        out.close()
    finally:
        listener.close_port()
        listener.delete()
    assert [m[:2] for m in got if m[0] == 0x99] == [[0x99, 38], [0x99, 42]]
    assert [0x89, 38, 0] in [list(m) for m in got]


def test_a_missing_port_is_waited_for_or_without_waiting_a_midi_error(jack_server):
    out = MidiOut.open("no-such-synth", SR, api="jack", client="jambox-test-missing", poll_s=POLL_S)
    try:
        assert not out.connected and out.name is None
        assert out.describe().startswith("waiting for port 'no-such-synth' (no MIDI output port matches")
        out.schedule([note(0)])
        assert wait_until(lambda: out.counters()["dropped"] == 1)
    finally:
        out.close()
    with pytest.raises(MidiError, match="no MIDI output port matches 'no-such-synth'"):
        MidiOut.open("no-such-synth", SR, api="jack", client="jambox-test-missing", wait=False)


def test_the_performer_sends_the_same_notes_as_midi(tmp_path):
    from jambox.config.load import load_config
    from jambox.perform.performer import Performer

    cfg = load_config(search=[]).with_overrides({"performer": {"midi_keys_channel": 3, "keys_program": 5}}).performer
    port = RecordingPort()
    perf = Performer(SR, cfg, midi_out=MidiOut(port, SR, clock=False))
    perf.schedule([note(0, pitch=38), note(100, pitch=60, channel=2, part="keys")])
    deadline = time.monotonic() + 2
    while len(port.got) < 6 and time.monotonic() < deadline:
        time.sleep(0.01)
    perf.close()
    msgs = [m for _, m in port.got]
    assert msgs[:2] == [[0xC9, 0], [0xC2, 5]]  # drum kit on channel 10, keys program on channel 3
    assert [0x99, 38, 100] in msgs and [0x92, 60, 100] in msgs


def test_midi_waits_for_its_audio_when_the_device_runs_slow():
    """A device that stops calling back: notes whose audio has not gone out are held, however late."""
    port = RecordingPort()
    t0 = time.perf_counter_ns()
    clock = StreamClock(SR, 0, 0.0, source=lambda: (0, t0), block=128)  # only the first block ever went out
    out = MidiOut(port, SR, clock=False, stream_clock=clock)
    out.schedule([note(64, pitch=40), note(SR // 20, pitch=41)])  # in the handed block; 50 ms later
    time.sleep(0.3)
    out.close()
    ons = [m for _, m in port.got if m[0] == 0x99]
    assert ons == [[0x99, 40, 100]]


# -- hot-plug: the synth is switched on late, off and on again (JACK MIDI ports, polled every 0.1 s) ---

POLL_S = 0.1


class Synth:
    """An external synth: a JACK MIDI input client with a virtual port, recording what arrives.

    It reads rtmidi's own queue rather than taking a Python callback: a callback makes rtmidi 5's
    JACK process thread wait for the GIL, and on a non-realtime server a late cycle can then repeat
    one message and lose the next, which would be the harness's fault, not the box's."""

    def __init__(self, port="drum-machine"):
        import rtmidi

        self.got: list[list[int]] = []
        self.deltas: list[float] = []  # seconds since the previous message, stamped by rtmidi's JACK thread
        self._in = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, "synth", queue_size_limit=8192)
        self._in.ignore_types(timing=False)
        self._in.open_virtual_port(port)

    def messages(self) -> list[list[int]]:
        while (m := self._in.get_message()) is not None:
            self.got.append(list(m[0]))
            self.deltas.append(m[1])
        return list(self.got)

    def notes_on(self) -> list[int]:
        return [m[1] for m in self.messages() if m[0] & 0xF0 == 0x90 and m[2] > 0]

    def switch_off(self):
        self._in.close_port()
        self._in.delete()


def running_stream_clock():
    t0 = time.perf_counter_ns()
    return StreamClock(SR, 0, 0.0, source=lambda: (0, t0)), t0


def stream_now(t0) -> int:
    return int((time.perf_counter_ns() - t0) * 1e-9 * SR)


def test_a_synth_switched_on_after_the_box_gets_notes_clock_and_programs(jack_server):
    out = MidiOut.open("drum-machine", SR, api="jack", client="jambox-test-late", poll_s=POLL_S)
    synth = None
    try:
        clock, t0 = running_stream_clock()
        out.stream_clock = clock
        out.program(DRUM_CHANNEL, 25)
        out.set_tempo(120.0, beat_phase=0)
        out.schedule([note(stream_now(t0) + SR // 20, pitch=40)])  # due while nobody listens: dropped
        time.sleep(3 * POLL_S)
        assert not out.connected and out.counters()["dropped"] == 1
        synth = Synth()
        assert wait_until(lambda: out.connected)
        time.sleep(0.2)  # JACK connects on its own thread
        out.schedule([note(stream_now(t0) + SR // 10, pitch=42)])
        assert wait_until(lambda: 42 in synth.notes_on())
        assert wait_until(lambda: [CLOCK] in synth.messages())
        msgs = synth.messages()
        assert [0xB0 | DRUM_CHANNEL, 123, 0] in msgs and [0xC0 | DRUM_CHANNEL, 25] in msgs
        assert msgs.index([0xC0 | DRUM_CHANNEL, 25]) < msgs.index([START]) < msgs.index([CLOCK])
        assert synth.notes_on() == [42]  # the note planned while it was off never arrives
    finally:
        out.close()
        if synth is not None:
            synth.switch_off()


def test_a_synth_switched_off_and_on_again_gets_no_stale_notes(jack_server):
    synth = Synth()
    out = MidiOut.open("drum-machine", SR, api="jack", client="jambox-test-replug", poll_s=POLL_S)
    try:
        assert out.connected and out.name == "synth:drum-machine"
        clock, t0 = running_stream_clock()
        out.stream_clock = clock
        out.set_tempo(150.0, beat_phase=0)  # a tick every 16.7 ms
        time.sleep(0.2)
        out.schedule([note(stream_now(t0) + SR // 20, pitch=38)])
        assert wait_until(lambda: 38 in synth.notes_on())
        assert wait_until(lambda: [CLOCK] in synth.messages())
        # a long note sounding, and more planned, when the synth goes off
        out.schedule([note(stream_now(t0), pitch=50, dur=SR * 5, channel=0, part="keys")]
                     + [note(stream_now(t0) + SR // 2 + i * SR // 32, pitch=60 + i) for i in range(8)])
        assert wait_until(lambda: 50 in synth.notes_on())
        synth.switch_off()
        assert wait_until(lambda: not out.connected)
        t_off = stream_now(t0)
        out.schedule([note(stream_now(t0) + SR // 10 + i * SR // 32, pitch=70 + i) for i in range(8)]
                     + [note(stream_now(t0) + SR * 6 // 5, pitch=80)])  # due after it is back: still stale
        out.set_tempo(120.0, beat_phase=stream_now(t0))  # the tempo moves while it is off
        time.sleep(0.8)  # every note planned before and while it was off falls due meanwhile
        synth = Synth()
        assert wait_until(lambda: out.connected)
        time.sleep(0.2)
        out.schedule([note(stream_now(t0) + SR // 10, pitch=45)])
        assert wait_until(lambda: 45 in synth.notes_on())
        assert wait_until(lambda: len([m for m in synth.messages() if m == [CLOCK]]) >= 20)
        msgs = synth.messages()
        assert stream_now(t0) > t_off + SR * 6 // 5  # the last stale note's time has come and gone
        assert synth.notes_on() == [45]  # nothing of the 17 stale notes came out
        assert [0xB0, 123, 0] in msgs and msgs.index([0xB0, 123, 0]) < msgs.index([START])
        ticks = [i for i, m in enumerate(msgs) if m == [CLOCK]]
        assert msgs.index([START]) < ticks[0]
        c = out.counters()
        assert c["dropped"] >= 17 and c["reconnects"] == 1 and c["connected"] == 1
    finally:
        out.close()
        synth.switch_off()


def test_the_clock_resumes_on_the_current_tempo_after_a_replug(jack_server):
    synth = Synth()
    out = MidiOut.open("drum-machine", SR, api="jack", client="jambox-test-tempo", poll_s=POLL_S)
    try:
        out.stream_clock, t0 = running_stream_clock()
        out.set_tempo(100.0, beat_phase=0)
        time.sleep(0.3)
        synth.switch_off()
        assert wait_until(lambda: not out.connected)
        out.set_tempo(150.0, beat_phase=0)  # a tick every 16.7 ms
        synth = Synth()
        assert wait_until(lambda: out.connected)
        assert wait_until(lambda: len([m for m in synth.messages() if m == [CLOCK]]) > 20)
        msgs = synth.messages()
        at = np.cumsum(synth.deltas)
        ticks = [t for t, m in zip(at, msgs) if m == [CLOCK]]
        assert msgs.count([START]) == 1 and msgs.index([START]) < msgs.index([CLOCK])
        assert abs(np.median(np.diff(ticks)) * 1000 - 400 / 24) < 1.5  # 150 bpm, not the 100 before
    finally:
        out.close()
        synth.switch_off()
