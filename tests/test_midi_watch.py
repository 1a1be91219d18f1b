"""The port watch on real JACK MIDI ports (a private dummy server): found, lost, found again, logged once."""

from __future__ import annotations

import logging

import pytest

from jambox.errors import MidiError
from jambox.midi_watch import CONNECTED, LOST, PortWatch, PortWatcher, open_watch
from tests.controls.fakes import JackServer


@pytest.fixture(scope="module")
def jack_server():
    """A private JACK server (dummy backend), the default server of this process while it runs."""
    with JackServer() as server:
        yield server


def pedal(name="fs-pedal", client="pedalboard"):
    import rtmidi

    out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, client)
    out.open_virtual_port(name)
    return out


def watch(calls, wanted="fs-pedal"):
    return open_watch("input", wanted, api="jack", client="watch-test", setting="controls.midi_in",
                      label="MIDI controller", port_name="jambox in",
                      on_open=lambda p: calls.append(("open", p.is_port_open())),
                      on_close=lambda p: calls.append(("close", p.is_port_open())))


def test_a_port_is_opened_when_it_appears_and_closed_when_it_goes(jack_server, caplog):
    caplog.set_level(logging.INFO, logger="jambox.midi_watch")
    calls = []
    w = watch(calls)
    try:
        assert not w.connected and w.waiting_for.startswith("no MIDI input port matches 'fs-pedal'")
        assert [w.poll() for _ in range(3)] == [None, None, None]
        p = pedal()
        assert w.poll() == CONNECTED and w.name == "pedalboard:fs-pedal" and w.port.is_port_open()
        assert w.poll() is None  # still there: nothing to do
        p.delete()
        assert w.poll() == LOST and not w.connected and not w.port.is_port_open()
        assert [w.poll() for _ in range(3)] == [None, None, None]
        p = pedal()
        assert w.poll() == CONNECTED and w.connects == 2 and w.losses == 1
        assert calls == [("open", True), ("close", True), ("open", True)]  # before close, after open
    finally:
        w.close()
        p.delete()
    assert calls[-1] == ("close", True) and w.port is None
    w.close()  # twice is fine
    said = [r.getMessage() for r in caplog.records]
    assert said == [
        "MIDI controller 'fs-pedal' not connected (no MIDI input port matches 'fs-pedal': there are no MIDI input "
        "ports (is the device plugged in?)); waiting for it",
        "MIDI controller 'fs-pedal' connected (pedalboard:fs-pedal)",
        "MIDI controller 'fs-pedal' lost (pedalboard:fs-pedal); waiting for it",
        "MIDI controller 'fs-pedal' connected (pedalboard:fs-pedal)"]


def test_a_port_that_comes_back_under_another_client_is_found_by_its_name(jack_server):
    """An ALSA client often comes back under another number: the name substring finds it again."""
    calls = []
    p = pedal(client="pedalboard-20")
    w = watch(calls)
    try:
        assert w.connected and w.name == "pedalboard-20:fs-pedal"
        p.delete()
        p = pedal(client="pedalboard-24")
        assert w.poll() == LOST and w.connected and w.name == "pedalboard-24:fs-pedal"  # lost and found in one look
        assert [c[0] for c in calls] == ["open", "close", "open"]
    finally:
        w.close()
        p.delete()


def test_a_name_two_ports_match_is_waited_out_and_said_once(jack_server, caplog):
    caplog.set_level(logging.INFO, logger="jambox.midi_watch")
    a, b = pedal("fs-pedal-a"), pedal("fs-pedal-b", client="other")
    w = watch([])
    try:
        assert not w.connected and "2 MIDI input ports match 'fs-pedal'" in w.describe()
        w.poll()
        w.poll()
        b.delete()
        assert w.poll() == CONNECTED and w.describe() == "on pedalboard:fs-pedal-a"
    finally:
        w.close()
        a.delete()
    assert len([r for r in caplog.records if "2 MIDI input ports match" in r.getMessage()]) == 1


def test_a_failing_callback_or_listing_does_not_stop_the_watch(jack_server):
    class Broken:
        """An rtmidi object whose MIDI system has gone away."""

        def get_ports(self):
            raise OSError("JACK server gone")

    w = PortWatch(Broken(), "fs-pedal", kind="input", setting="controls.midi_in", port_name="in", label="MIDI controller")
    assert w.poll() is None and "cannot list the MIDI input ports: JACK server gone" in w.waiting_for

    p = pedal()

    def boom(_port):
        raise RuntimeError("bad callback")

    w = open_watch("input", "fs-pedal", api="jack", client="watch-test", setting="controls.midi_in",
                   label="MIDI controller", port_name="in", on_open=boom, on_close=boom)
    try:
        assert w.connected
        p.delete()
        assert w.poll() == LOST and not w.port.is_port_open()  # closed despite the callback
    finally:
        w.close()


def test_the_watcher_thread_polls_and_stops_at_once(jack_server):
    import time

    w = watch([])
    watcher = PortWatcher(w, 0.05).start()
    p = pedal()
    try:
        deadline = time.monotonic() + 3
        while not w.connected and time.monotonic() < deadline:
            time.sleep(0.01)
        assert w.connected
    finally:
        t = time.monotonic()
        watcher.close()
        assert time.monotonic() - t < 1.0
        w.close()
        p.delete()
    with pytest.raises(MidiError, match="MIDI poll interval must be > 0 s, not 0"):
        PortWatcher(w, 0)
