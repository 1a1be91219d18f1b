import os
import queue
import threading
import time

import pytest

from jambox.controls.actions import Action, ActionKind
from jambox.controls.midi_in import (MidiBinding, MidiControls, MidiMap, MidiMapper, decode, find_port, load_map,
                                     map_path, open_midi_in, open_port, save_map, target_name,
                                     wait_for_binding_message)
from jambox.errors import ConfigError, MidiError, UnknownActionError
from tests.controls.fakes import config_with, wait_until

K = ActionKind
CC, NOTE_ON, NOTE_OFF = 0xB0, 0x90, 0x80


def cc(number, value, channel=1):
    return [CC | (channel - 1), number, value]


def note(number, velocity=100, channel=1):
    return [NOTE_ON | (channel - 1), number, velocity]


def test_decode():
    assert decode(cc(64, 127, channel=3)) == ("cc", 3, 64, 127)
    assert decode(note(36, 90, channel=10)) == ("note", 10, 36, 90)
    assert decode(note(36, 0)) == ("note_off", 1, 36, 0)  # running-status note-off
    assert decode([NOTE_OFF, 36, 40]) == ("note_off", 1, 36, 0)
    assert decode([0xF8]) is None  # clock
    assert decode([0xC0, 5]) is None  # program change: not mapped
    assert decode([CC, 200, 1]) is None and decode([]) is None and decode([0x12]) is None  # garbage


def mapper(*bindings):
    return MidiMapper(MidiMap(list(bindings)))


def test_a_cc_bound_to_a_control_sets_it_on_every_change():
    m = mapper(MidiBinding("cc", 1, 7, "level"))
    assert m.message(cc(7, 127)) == Action(K.SET, "midi", "level", 1.0)
    assert m.message(cc(7, 127)) is None  # no change, no action
    assert m.message(cc(7, 0)) == Action(K.SET, "midi", "level", 0.0)
    assert m.message(cc(7, 64)).value == pytest.approx(64 / 127, abs=1e-4)
    assert m.message(cc(7, 64, channel=2)) is None  # another channel
    assert m.message(cc(8, 64)) is None  # another controller


def test_a_cc_bound_to_an_action_fires_on_the_rising_edge():
    m = mapper(MidiBinding("cc", 0, 64, "start_stop"))
    got = [m.message(cc(64, v, channel=5)) for v in (127, 127, 0, 100, 30, 0, 127)]
    assert [a.kind if a else None for a in got] == [K.START_STOP, None, None, K.START_STOP, None, None, K.START_STOP]


def test_notes_fire_actions_on_note_on_only():
    m = mapper(MidiBinding("note", 10, 36, "keep"), MidiBinding("note", 0, 38, "energy"))
    assert m.message(note(36, channel=10)) == Action(K.KEEP, "midi")
    assert m.message(note(36, 0, channel=10)) is None
    assert m.message([NOTE_OFF | 9, 36, 0]) is None
    assert m.message(note(36, channel=1)) is None
    assert m.message(note(38, 127, channel=4)) == Action(K.SET, "midi", "energy", 1.0)


def test_a_cc_or_note_bound_to_a_switch_moves_it():
    from jambox.controls.midi_in import SwitchEdge

    m = mapper(MidiBinding("cc", 1, 64, "footswitch"), MidiBinding("note", 0, 40, "keep_button"))
    got = [m.message(cc(64, v)) for v in (127, 120, 0, 10, 64)]
    assert got == [SwitchEdge("footswitch", True), None, SwitchEdge("footswitch", False), None,
                   SwitchEdge("footswitch", True)]
    assert m.message(note(40, channel=2)) == SwitchEdge("keep", True)
    assert m.message([NOTE_OFF | 1, 40, 0]) == SwitchEdge("keep", False)
    assert m.message(note(40, 0)) == SwitchEdge("keep", False)


def test_targets_are_actions_or_controls_with_aliases():
    assert target_name("More-Dissonance") == "more_dissonance"
    assert target_name("tension") == "dissonance"
    with pytest.raises(UnknownActionError, match="cannot map MIDI to 'kep' \\(did you mean 'keep'\\?\\)"):
        target_name("kep")
    with pytest.raises(UnknownActionError, match="cannot map MIDI to 'set'"):
        target_name("set")


def test_bind_moves_a_target_and_a_message():
    m = MidiMap()
    m.bind(MidiBinding("cc", 1, 64, "keep"))
    m.bind(MidiBinding("cc", 1, 65, "keep"))  # learning keep again moves it
    assert m.bindings == [MidiBinding("cc", 1, 65, "keep")]
    m.bind(MidiBinding("cc", 1, 66, "keep"), add=True)  # --add keeps both
    assert len(m.bindings) == 2
    m.bind(MidiBinding("cc", 0, 65, "softer"))  # the message now means softer (any channel)
    assert {b.target for b in m.bindings} == {"keep", "softer"} and len(m.bindings) == 2
    assert m.forget("keep") == 1 and [b.target for b in m.bindings] == ["softer"]


def test_the_map_file_round_trips(tmp_path):
    path = tmp_path / "sub" / "midi-map.toml"
    m = MidiMap([MidiBinding("cc", 1, 64, "start_stop"), MidiBinding("note", 0, 36, "dissonance")])
    save_map(m, path)
    assert load_map(path) == m
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".midi-map-")]  # no temp left over
    assert load_map(tmp_path / "none.toml") == MidiMap()


def test_every_bad_binding_is_reported_at_once(tmp_path):
    path = tmp_path / "midi-map.toml"
    path.write_text('[[binding]]\ntarget = "keep"\ntype = "cc"\nchannel = 1\nnumber = 64\n'
                    '[[binding]]\ntarget = "kep"\ntype = "pc"\nchannel = 17\nnumber = 128\n'
                    '[[binding]]\ntarget = "energy"\ntype = "note"\nnumber = 3\ncolour = "red"\n')
    with pytest.raises(ConfigError) as e:
        load_map(path)
    p = e.value.problems
    assert len(p) == 5
    assert "binding 1: type must be one of 'cc', 'note', not 'pc'" in p
    assert "binding 1: channel must be int in range 0..16 (0 = any), not 17" in p
    assert "binding 1: number must be int in range 0..127, not 128" in p
    assert any(x.startswith("binding 1: cannot map MIDI to 'kep'") for x in p)
    assert "binding 2: unknown key 'colour'; expected target, type, channel, number" in p
    path.write_text("[[binding]\n")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_map(path)


def test_map_path_follows_the_config(tmp_path):
    assert map_path(config_with()).name == "midi-map.toml"
    assert map_path(config_with(controls={"midi_map": str(tmp_path / "m.toml")})) == tmp_path / "m.toml"


def test_find_port_by_index_or_name():
    ports = ["Midi Through:Midi Through Port-0 14:0", "nanoKONTROL2:nanoKONTROL2 MIDI 1 20:0", "FS-6 pedal 24:0"]
    assert find_port(ports, "nano") == 1
    assert find_port(ports, "fs-6") == 2
    assert find_port(ports, "0") == 0
    assert find_port(["only one"], "") == 0
    with pytest.raises(MidiError, match="no MIDI input port matches 'korg'; ports: 0: Midi Through"):
        find_port(ports, "korg")
    with pytest.raises(MidiError, match="2 MIDI input ports match 'midi'"):
        find_port(ports, "midi")
    with pytest.raises(MidiError, match="3 MIDI input ports; name one with --port"):
        find_port(ports, "")
    with pytest.raises(MidiError, match="index must be in range 0..2, not 7"):
        find_port(ports, "7")
    with pytest.raises(MidiError, match="there are no MIDI input ports"):
        find_port([], "nano")


def test_a_bad_api_name_is_clear():
    with pytest.raises(MidiError, match="MIDI API must be one of '', 'alsa', 'jack', not 'coremidi'"):
        open_midi_in("coremidi")


@pytest.mark.skipif(os.path.exists("/dev/snd/seq"), reason="this machine has the ALSA sequencer")
def test_no_alsa_sequencer_is_a_clear_midi_error():
    with pytest.raises(MidiError, match="no MIDI input system \\(is /dev/snd/seq there"):
        open_midi_in("alsa")


# -- real ports: rtmidi on a JACK server with the dummy backend ---------------------------------------

@pytest.fixture
def controller(jack):
    """A MIDI controller: an rtmidi output with a virtual port other clients can open."""
    import rtmidi

    out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, "pedalboard")
    out.open_virtual_port("fs-pedal")
    yield out
    out.delete()


def wait_connected():
    time.sleep(0.2)  # JACK connects ports on its own thread; the first message after it gets through


def test_midi_controls_on_a_real_port(controller):
    got: queue.SimpleQueue = queue.SimpleQueue()
    cfg = config_with(controls={"midi_api": "jack", "midi_in": "fs-pedal"})
    midi_map = MidiMap([MidiBinding("cc", 1, 64, "start_stop"), MidiBinding("cc", 1, 7, "level")])
    with MidiControls(cfg, got.put, midi_map=midi_map) as midi:
        assert "fs-pedal" in midi.port_name
        wait_connected()
        controller.send_message(cc(64, 127))
        controller.send_message(cc(64, 0))
        controller.send_message(cc(7, 100))
        controller.send_message([0xF8])  # clock: ignored
        assert got.get(timeout=3) == Action(K.START_STOP, "midi")
        assert got.get(timeout=3) == Action(K.SET, "midi", "level", round(100 / 127, 4))
        time.sleep(0.1)
        assert got.empty()
        assert midi.submitted == 2


def test_a_midi_foot_switch_has_the_foot_switch_gestures(controller):
    """Bound to ``footswitch``: a tap starts/stops, a hold joins now (config long_press_s), as on the jack."""
    got: queue.SimpleQueue = queue.SimpleQueue()
    cfg = config_with(controls={"midi_api": "jack", "midi_in": "fs-pedal", "long_press_s": 0.2})
    with MidiControls(cfg, got.put, midi_map=MidiMap([MidiBinding("cc", 0, 64, "footswitch")])):
        wait_connected()
        controller.send_message(cc(64, 127))
        controller.send_message(cc(64, 0))
        assert got.get(timeout=3) == Action(K.START_STOP, "midi")
        time.sleep(0.05)  # past the debounce spell
        controller.send_message(cc(64, 127))
        assert got.get(timeout=3) == Action(K.JOIN_NOW, "midi")  # while still held
        controller.send_message(cc(64, 0))
        time.sleep(0.1)
        assert got.empty()


def test_waiting_for_a_message_to_learn(controller):
    midi_in, name = open_port("fs-pedal", "jack")
    try:
        wait_connected()
        controller.send_message([0xF8])
        controller.send_message(note(40, 0))  # a note-off is not something to learn
        controller.send_message(cc(11, 90, channel=2))
        assert wait_for_binding_message(midi_in, 3.0) == ("cc", 2, 11)
        with pytest.raises(MidiError, match="no control change or note arrived within 0.2 s"):
            wait_for_binding_message(midi_in, 0.2)
    finally:
        midi_in.delete()


@pytest.mark.hardware
@pytest.mark.skipif(os.environ.get("JAMBOX_HARDWARE") != "1" or not os.path.exists("/dev/snd/seq"),
                    reason="the ALSA sequencer: opt in with JAMBOX_HARDWARE=1 on a machine with /dev/snd/seq")
def test_midi_controls_on_an_alsa_virtual_port():
    import rtmidi

    out = rtmidi.MidiOut(rtmidi.API_LINUX_ALSA, "pedalboard")
    out.open_virtual_port("fs-pedal")
    got: queue.SimpleQueue = queue.SimpleQueue()
    try:
        cfg = config_with(controls={"midi_api": "alsa", "midi_in": "fs-pedal"})
        with MidiControls(cfg, got.put, midi_map=MidiMap([MidiBinding("note", 0, 36, "keep")])):
            wait_connected()
            out.send_message(note(36))
            assert got.get(timeout=3) == Action(K.KEEP, "midi")
    finally:
        out.delete()


# -- hot-plug: the controller comes, goes and comes back (JACK MIDI ports, polled every 0.1 s) ---------

POLL_S = 0.1


def make_controller(name="fs-pedal"):
    import rtmidi

    out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, "pedalboard")
    out.open_virtual_port(name)
    return out


def play(controller, *messages):
    """Send ``messages`` as a player does, some milliseconds apart.

    Back to back, within one JACK cycle, rtmidi 5's JACK input can hand the first message over
    twice and lose the second: its process callback waits for the GIL to run our callback, and on a
    non-realtime server the next cycle has by then reused the buffer it was reading (it ignores
    jack_midi_event_get's error). A foot on a pedal never sends that fast; a test must not either."""
    for m in messages:
        controller.send_message(m)
        time.sleep(0.01)


def hot_plug_controls(got, **controls):
    cfg = config_with(controls={"midi_api": "jack", "midi_in": "fs-pedal", "midi_poll_s": POLL_S, **controls})
    return MidiControls(cfg, got.put, midi_map=MidiMap([MidiBinding("cc", 1, 64, "keep"),
                                                        MidiBinding("note", 0, 36, "softer")]))


def test_a_controller_plugged_in_after_the_start_is_picked_up(jack, caplog):
    got: queue.SimpleQueue = queue.SimpleQueue()
    caplog.set_level("INFO", logger="jambox.midi_watch")
    with hot_plug_controls(got) as midi:
        assert not midi.connected and midi.port_name is None
        assert midi.describe().startswith("waiting for port 'fs-pedal' (no MIDI input port matches 'fs-pedal'")
        time.sleep(3 * POLL_S)
        controller = make_controller()
        try:
            assert wait_until(lambda: midi.connected)
            assert midi.port_name == "pedalboard:fs-pedal" and midi.describe() == "on pedalboard:fs-pedal"
            wait_connected()
            play(controller, cc(64, 127), note(36))
            assert got.get(timeout=3) == Action(K.KEEP, "midi")
            assert got.get(timeout=3) == Action(K.SOFTER, "midi")
        finally:
            controller.delete()
    waiting = [r for r in caplog.records if "waiting for it" in r.getMessage()]
    assert len(waiting) == 1  # said once, not once a poll
    assert [r.getMessage() for r in caplog.records if "' connected" in r.getMessage()] == [
        "MIDI controller 'fs-pedal' connected (pedalboard:fs-pedal)"]


def test_a_controller_unplugged_and_plugged_back_works_again(jack, caplog):
    got: queue.SimpleQueue = queue.SimpleQueue()
    caplog.set_level("INFO", logger="jambox.midi_watch")
    controller = make_controller()
    with hot_plug_controls(got) as midi:
        assert midi.connected  # there at the start: open when the constructor returns
        for round_ in range(2):
            wait_connected()
            play(controller, cc(64, 127), cc(64, 0))
            assert got.get(timeout=3) == Action(K.KEEP, "midi"), f"round {round_}"
            controller.delete()  # kicked out of the socket
            assert wait_until(lambda: not midi.connected)
            time.sleep(3 * POLL_S)  # several looks while it is away: still one "lost" line
            controller = make_controller()  # plugged back
            assert wait_until(lambda: midi.connected)
        wait_connected()
        controller.send_message(note(36))
        assert got.get(timeout=3) == Action(K.SOFTER, "midi")
        assert midi._watch.connects == 3 and midi._watch.losses == 2
    controller.delete()
    lost = [r.getMessage() for r in caplog.records if "lost" in r.getMessage()]
    assert lost == ["MIDI controller 'fs-pedal' lost (pedalboard:fs-pedal); waiting for it"] * 2
    assert got.empty()


CHATTY_CONTROLLER = """
import sys, time, rtmidi
out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, "pedalboard")
out.open_virtual_port("fs-pedal")
print("up", flush=True)
v = 0
while True:  # a knob turned without pause, until the plug is pulled (SIGKILL)
    out.send_message([0xB0, 7, v % 128])
    v += 1
    time.sleep(0.0005)
"""


def test_a_controller_pulled_out_mid_stream_does_not_crash_the_box(jack):
    """A controller process killed while it streams CCs: the box sees it go, waits, and takes the next one."""
    import signal
    import subprocess
    import sys

    got: queue.SimpleQueue = queue.SimpleQueue()
    cfg = config_with(controls={"midi_api": "jack", "midi_in": "fs-pedal", "midi_poll_s": POLL_S})
    midi_map = MidiMap([MidiBinding("cc", 1, 7, "level"), MidiBinding("cc", 1, 64, "keep")])
    chatty = subprocess.Popen([sys.executable, "-c", CHATTY_CONTROLLER], stdout=subprocess.PIPE)
    try:
        assert chatty.stdout.readline() == b"up\n"
        with MidiControls(cfg, got.put, midi_map=midi_map) as midi:
            assert wait_until(lambda: midi.submitted > 50)  # the knob's stream is coming in
            chatty.send_signal(signal.SIGKILL)
            chatty.wait(5)
            assert wait_until(lambda: not midi.connected)
            controller = make_controller()
            try:
                assert wait_until(lambda: midi.connected)
                wait_connected()
                while not got.empty():
                    got.get()
                controller.send_message(cc(64, 127))
                assert got.get(timeout=3) == Action(K.KEEP, "midi")
            finally:
                controller.delete()
    finally:
        if chatty.poll() is None:
            chatty.kill()
            chatty.wait(5)


def test_a_pedal_held_when_the_cable_goes_does_not_stay_held(jack):
    """Kicked out while pressed: no long press fires for it, and the first press after the replug counts."""
    got: queue.SimpleQueue = queue.SimpleQueue()
    cfg = config_with(controls={"midi_api": "jack", "midi_in": "fs-pedal", "midi_poll_s": POLL_S,
                                "long_press_s": 1.0})
    controller = make_controller()
    with MidiControls(cfg, got.put, midi_map=MidiMap([MidiBinding("cc", 0, 64, "footswitch")])) as midi:
        wait_connected()
        controller.send_message(cc(64, 127))  # down ...
        assert wait_until(lambda: midi.received == 1)
        controller.delete()  # ... and the cable goes before the release
        assert wait_until(lambda: not midi.connected)
        time.sleep(1.2)  # past the long-press time of a pedal that never came up
        assert got.empty()
        controller = make_controller()
        assert wait_until(lambda: midi.connected)
        wait_connected()
        play(controller, cc(64, 127), cc(64, 0))
        assert got.get(timeout=3) == Action(K.START_STOP, "midi")
    # closed with the port open: closing the port detaches it, which starts a fresh gesture bank; none outlives it
    assert not [t.name for t in threading.enumerate() if t.name == "jambox-midi-gestures" and t.is_alive()]
    controller.delete()
