import pytest

from jambox.errors import MidiError
from jambox.midi_ports import find_port

PORTS = ["Midi Through:0", "USB MIDI Interface:0", "FLUID Synth:0"]


def test_a_port_by_index_name_substring_or_the_only_one():
    assert find_port(PORTS, "usb", kind="output", setting="performer.midi_out") == 1
    assert find_port(PORTS, " 2 ", kind="output", setting="performer.midi_out") == 2
    assert find_port(["only"], "", kind="input", setting="controls.midi_in") == 0


@pytest.mark.parametrize("ports,wanted,message", [
    (PORTS, "volca", "no MIDI output port matches 'volca'; ports: 0: Midi Through:0, .* \\(set performer.midi_out\\)"),
    (PORTS, ":0", "3 MIDI output ports match ':0'; be more specific"),
    (PORTS, "9", "index must be in range 0..2, not 9"),
    (PORTS, "", "3 MIDI output ports; name one with --port or performer.midi_out"),
    ([], "volca", "no MIDI output port matches 'volca': there are no MIDI output ports"),
])
def test_every_miss_names_what_was_asked_and_what_there_is(ports, wanted, message):
    with pytest.raises(MidiError, match=message):
        find_port(ports, wanted, kind="output", setting="performer.midi_out")


@pytest.mark.parametrize("ports,wanted,absent", [
    (PORTS, "volca", True), ([], "volca", True), ([], "", True), (PORTS, "9", True),  # may yet be plugged in
    (PORTS, ":0", False), (PORTS, "", False),  # the name is the trouble: no port that appears can fix it
])
def test_a_port_not_there_is_told_apart_from_a_name_that_picks_none(ports, wanted, absent):
    from jambox.errors import MidiPortAbsentError

    with pytest.raises(MidiError) as e:
        find_port(ports, wanted, kind="input", setting="controls.midi_in")
    assert isinstance(e.value, MidiPortAbsentError) is absent
