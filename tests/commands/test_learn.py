import threading
import time

import pytest

from jambox.cli import main
from jambox.controls.midi_in import MidiBinding, MidiMap, load_map, save_map
from tests.controls.fakes import JackServer


@pytest.fixture
def jack_config(tmp_path):
    """A JACK server (dummy backend) with a controller port, and a config that uses JACK for MIDI."""
    if not JackServer.available():
        pytest.skip("jackd is not installed (Debian: jackd2); the real-port learn test needs it")
    import rtmidi

    cfg = tmp_path / "jambox.toml"
    cfg.write_text('[controls]\nmidi_api = "jack"\n')
    with JackServer():
        out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, "pedalboard")
        out.open_virtual_port("fs-pedal")
        try:
            yield cfg, out
        finally:
            out.delete()


def test_learn_binds_the_next_control_change(jack_config, tmp_path, capsys):
    cfg, controller = jack_config
    midi_map = tmp_path / "midi-map.toml"

    def press_the_pedal():
        time.sleep(0.6)  # after learn has opened the port and JACK connected it
        controller.send_message([0xF8])  # clock: not learnable
        controller.send_message([0xB0 | 2, 64, 127])  # CC 64 on channel 3

    t = threading.Thread(target=press_the_pedal)
    t.start()
    rc = main(["--config", str(cfg), "learn", "start-stop", "--port", "fs-pedal", "--map", str(midi_map),
               "--timeout", "10"])
    t.join()
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "for start_stop" in out and "learned: start_stop <- CC 64 on channel 3" in out
    assert load_map(midi_map) == MidiMap([MidiBinding("cc", 3, 64, "start_stop")])


def test_learn_times_out_with_a_clear_error(jack_config, tmp_path, capsys):
    cfg, _ = jack_config
    rc = main(["--config", str(cfg), "learn", "keep", "--port", "fs-pedal", "--map", str(tmp_path / "m.toml"),
               "--timeout", "0.3"])
    assert rc == 5
    assert "jambox learn: no control change or note arrived within 0.3 s" in capsys.readouterr().err
    assert not (tmp_path / "m.toml").exists()  # nothing learned, nothing written


def test_list_and_forget(tmp_path, capsys):
    path = tmp_path / "midi-map.toml"
    assert main(["learn", "--list", "--map", str(path)]) == 0
    assert "no bindings yet" in capsys.readouterr().out
    save_map(MidiMap([MidiBinding("cc", 1, 64, "keep"), MidiBinding("note", 0, 36, "dissonance")]), path)
    assert main(["learn", "--list", "--map", str(path)]) == 0
    out = capsys.readouterr().out
    assert str(path) in out and "CC 64 on channel 1" in out and "note 36 on any channel" in out
    assert main(["learn", "tension", "--forget", "--map", str(path)]) == 0
    assert "forgot 1 binding of dissonance" in capsys.readouterr().out
    assert load_map(path) == MidiMap([MidiBinding("cc", 1, 64, "keep")])


def test_bad_targets_and_a_missing_target_are_clear(tmp_path, capsys):
    assert main(["learn", "kep", "--map", str(tmp_path / "m.toml")]) == 2
    assert "cannot map MIDI to 'kep' (did you mean 'keep'?)" in capsys.readouterr().err
    assert main(["learn", "--map", str(tmp_path / "m.toml")]) == 2
    assert "needs an ACTION_OR_CONTROL" in capsys.readouterr().err


def test_a_broken_map_file_is_reported_not_overwritten(tmp_path, capsys):
    path = tmp_path / "midi-map.toml"
    path.write_text('[[binding]]\ntarget = "keep"\ntype = "cc"\nnumber = 300\n')
    assert main(["learn", "--list", "--map", str(path)]) == 2
    assert "number must be int in range 0..127, not 300" in capsys.readouterr().err
    assert "300" in path.read_text()
