"""Hot-plug for MIDI ports: keep the configured controller or synth open across unplug and replug.

On stage a USB foot controller gets kicked out and plugged back, and a drum machine on MIDI out is
switched on after the box. rtmidi has no portable hot-plug callback (ALSA announces new clients on
its own system port, JACK has a registration callback, and rtmidi exposes neither), so a
:class:`PortWatch` looks at ``get_ports()`` every ``poll_s`` (a listing costs some tens of
microseconds on JACK) and:

- when the wanted port (:func:`jambox.midi_ports.find_port`: an index or a name substring) is
  there and ours is not open, opens it and calls ``on_open``;
- when the port we opened is no longer listed, calls ``on_close`` and closes ours cleanly, then
  waits for a port the name picks to come back (an ALSA client may come back under another number:
  the name substring finds it again).

Each change is logged once ("MIDI controller 'fs-pedal' lost; waiting for it"), never a line per
poll; so is each reason for waiting (not there, several ports match, the listing failed).

:meth:`PortWatch.poll` does one look, on whichever thread owns the rtmidi object (rtmidi objects are
not thread-safe): the MIDI out's sender thread calls it between messages, and a
:class:`PortWatcher` thread calls it for the controller input. Neither is the audio callback nor
the logic thread.

A port that vanishes and comes back under the same name between two looks is not seen to have
gone (rtmidi does not say when a connection drops); a USB device takes longer than that to come
back, and ``controls.midi_poll_s`` makes the look more frequent.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

from jambox import midi_ports
from jambox.errors import MidiError

log = logging.getLogger(__name__)

POLL_S = 1.0  # controls.midi_poll_s
CONNECTED, LOST = "connected", "lost"


class PortWatch:
    """One rtmidi ``MidiIn``/``MidiOut`` (``port``, not yet opened; the watch owns it) kept on the port
    ``wanted`` names, through :meth:`poll`.

    ``label`` names the device in the log ("MIDI controller", "MIDI out"); ``kind`` ("input",
    "output") and ``setting`` (the config key) go into :func:`jambox.midi_ports.find_port`'s messages.
    ``on_open(port)`` runs after our port is opened, ``on_close(port)`` before it is closed (both on the
    polling thread), so an input can set its callback (rtmidi forgets it when the port closes) and
    an output can resynchronise the synth.
    """

    def __init__(self, port, wanted: str, *, kind: str, setting: str, port_name: str, label: str,
                 on_open: Callable[[object], None] | None = None, on_close: Callable[[object], None] | None = None):
        self._port = port
        self.wanted = str(wanted)
        self.kind = kind
        self.setting = setting
        self.port_name = port_name
        self.label = label
        self.on_open = on_open
        self.on_close = on_close
        self.name: str | None = None  # the port we have open, as listed; None while waiting
        self.waiting_for = ""  # why we are waiting (find_port's message), "" while connected
        self.connects = 0  # how many times the port was opened
        self.losses = 0  # how many times it went away
        self._said = ""  # the last waiting reason logged, so that each is logged once

    @property
    def port(self):
        """The rtmidi object (open on :attr:`name` while :attr:`connected`)."""
        return self._port

    @property
    def connected(self) -> bool:
        return self.name is not None

    def poll(self) -> str | None:
        """One look at the ports: :data:`CONNECTED` if ours was just opened, :data:`LOST` if ours just
        went away (:attr:`connected` says whether a port the name picks was opened in its place in the
        same look), else None. Never raises for a missing, vanishing or unlistable port: that is
        logged once and waited out."""
        if self._port is None:  # closed
            return None
        try:
            ports = list(self._port.get_ports())
        except Exception as e:  # noqa: BLE001 - a MIDI system that hiccups is waited out, not fatal
            self._waiting(f"cannot list the MIDI {self.kind} ports: {e}")
            return None
        lost = False
        if self.name is not None:
            if self.name in ports:
                return None
            self._lose()
            lost = True
        try:
            index = midi_ports.find_port(ports, self.wanted, kind=self.kind, setting=self.setting)
            self._port.open_port(index, self.port_name)
        except Exception as e:  # noqa: BLE001 - MidiError (not there, ambiguous) or a port gone since the listing
            self._waiting(str(e), said=lost)  # just lost: "lost; waiting for it" said it already
            return LOST if lost else None
        self.name = ports[index]
        self.waiting_for = ""
        self._said = ""
        self.connects += 1
        log.info("%s %r connected (%s)", self.label, self.wanted, self.name)
        if self.on_open is not None:
            try:
                self.on_open(self._port)
            except Exception:  # noqa: BLE001 - the watch goes on; the next loss or close cleans up
                log.exception("%s %r: setting up the port failed", self.label, self.wanted)
        return LOST if lost else CONNECTED  # (a port that came back in one look: lost, then found)

    def _waiting(self, why: str, said: bool = False) -> None:
        self.waiting_for = why
        if why != self._said:
            self._said = why
            if not said:
                log.warning("%s %r not connected (%s); waiting for it", self.label, self.wanted, why)

    def _lose(self) -> None:
        log.warning("%s %r lost (%s); waiting for it", self.label, self.wanted, self.name)
        self._said = ""
        self.losses += 1
        self._close_port()

    def _close_port(self) -> None:
        if self.name is None:
            return
        self.name = None
        try:
            if self.on_close is not None:
                self.on_close(self._port)
        except Exception:  # noqa: BLE001 - the port is closed whatever the callback did
            log.exception("%s %r: tearing down the port failed", self.label, self.wanted)
        finally:
            try:
                self._port.close_port()
            except Exception as e:  # noqa: BLE001 - closing a port whose device is gone
                log.debug("%s %r: close_port: %s", self.label, self.wanted, e)

    def close(self) -> None:
        """Close our port (``on_close`` first) and delete the rtmidi object. Idempotent."""
        if self._port is None:
            return
        try:
            self._close_port()
        finally:
            port, self._port = self._port, None
            delete = getattr(port, "delete", None)
            if delete is not None:
                delete()

    def describe(self) -> str:
        """``"on PORT"`` or ``"waiting for port 'X' (why)"``, for status lines and the doctor."""
        if self.name is not None:
            return f"on {self.name}"
        return f"waiting for port {self.wanted!r}" + (f" ({self.waiting_for})" if self.waiting_for else "")


class PortWatcher:
    """A daemon thread that calls ``watch.poll()`` every ``poll_s`` seconds until :meth:`close`.

    The wait is on an Event, so closing does not wait out a poll interval."""

    def __init__(self, watch: PortWatch, poll_s: float = POLL_S, *, name: str = "jambox-midi-watch"):
        if not poll_s > 0:
            raise MidiError(f"MIDI poll interval must be > 0 s, not {poll_s!r}")
        self.watch = watch
        self.poll_s = float(poll_s)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> "PortWatcher":
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.poll_s):
            try:
                self.watch.poll()
            except Exception:  # noqa: BLE001 - poll never raises by design; the thread outlives a bug anyway
                log.exception("%s %r: watching the port failed", self.watch.label, self.watch.wanted)

    def close(self, timeout: float = 2.0) -> None:
        """Stop the thread (then the owner may close the watch: nothing else touches the port)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)


def open_watch(kind: str, wanted: str, *, api: str = "", client: str = "jambox", setting: str, label: str,
               port_name: str, on_open=None, on_close=None) -> PortWatch:
    """A :class:`PortWatch` on a new rtmidi client for ``kind`` ("input"/"output") on ``api``, after one
    look (so a port that is there is open on return). Raises MidiError only when there is no MIDI
    system at all (:func:`jambox.midi_ports.open_rtmidi`); an absent port is waited for."""
    port = midi_ports.open_rtmidi(kind, api, client)
    watch = PortWatch(port, wanted, kind=kind, setting=setting, port_name=port_name, label=label,
                      on_open=on_open, on_close=on_close)
    watch.poll()
    return watch
