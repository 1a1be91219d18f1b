"""The MIDI check: ports on a private JACK server (dummy backend), and a machine with no MIDI system at all."""

from __future__ import annotations

import pytest

from jambox.config import load_config
from jambox.doctor import OK, PROBLEM, SKIP, Context
from jambox.doctor.midi import check_midi
from jambox.errors import MidiError
from tests.controls.fakes import JackServer


def ctx(controls=None, performer=None) -> Context:
    cfg = load_config(search=[]).with_overrides({"controls": {"midi_api": "jack", **(controls or {})},
                                                 "performer": performer or {}})
    return Context(config=cfg)


@pytest.fixture(scope="module")
def jack_server():
    """A private JACK server (dummy backend), the default server of this process while it runs."""
    with JackServer() as server:
        yield server


@pytest.fixture
def pedals(jack_server):
    import rtmidi

    made = []

    def make(name):
        out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, "pedalboard")
        out.open_virtual_port(name)
        made.append(out)

    yield make
    for out in made:
        out.delete()


def test_nothing_configured_is_skipped():
    assert check_midi(ctx()).status == SKIP


def test_a_controller_that_is_there_is_named(pedals):
    pedals("fs-pedal")
    c = check_midi(ctx(controls={"midi_in": "fs-pedal"}))
    assert c.status == OK and c.message == "MIDI controller 'fs-pedal' on pedalboard:fs-pedal"


def test_an_absent_port_is_waited_for_not_a_problem(jack_server):
    c = check_midi(ctx(controls={"midi_in": "fs-pedal"}, performer={"midi_out": "no-such-drum-machine"}))
    assert c.status == OK, c.line()
    assert c.message.startswith("MIDI controller waiting for port 'fs-pedal' (not plugged in")
    assert "; MIDI out waiting for port 'no-such-drum-machine'" in c.message


def test_a_name_that_matches_two_ports_is_a_problem(pedals):
    pedals("fs-pedal-a")
    pedals("fs-pedal-b")
    c = check_midi(ctx(controls={"midi_in": "fs-pedal"}))
    assert c.status == PROBLEM and "2 MIDI input ports match 'fs-pedal'" in c.message
    assert "controls.midi_in" in c.fix


def test_no_midi_system_is_a_problem_with_a_fix():
    def no_midi(kind, api, client):
        raise MidiError(f"no MIDI {kind} system (is /dev/snd/seq there? load snd-seq, or start JACK): ...")

    c = check_midi(ctx(controls={"midi_in": "fs-pedal"}, performer={"midi_out": "volca"}), open_rtmidi=no_midi)
    assert c.status == PROBLEM and "no MIDI input system" in c.message and "no MIDI output system" in c.message
    assert c.fix.count("modprobe") == 1 and c.fix.endswith("or clear controls.midi_in and performer.midi_out.")
