"""Choosing a MIDI port, for input (a controller) and output (a synth) alike: an index or a name substring."""

from __future__ import annotations

from jambox.errors import MidiError, MidiPortAbsentError


def find_port(ports: list[str], wanted: str, *, kind: str, setting: str) -> int:
    """The index in ``ports`` of the port ``wanted`` names: an index, or a case-insensitive name substring.

    ``kind`` is "input" or "output" and ``setting`` the config key that names the port, for the messages.
    An empty ``wanted`` picks the only port there is. No port to pick is a MidiPortAbsentError (it
    may yet be plugged in); a name that matches several, or several ports and no name, a MidiError.
    """
    listing = ", ".join(f"{i}: {p}" for i, p in enumerate(ports)) or "none"
    w = str(wanted).strip()
    if not ports:
        asked = f"no MIDI {kind} port matches {w!r}: " if w else ""
        raise MidiPortAbsentError(f"{asked}there are no MIDI {kind} ports (is the device plugged in?)")
    if w == "":
        if len(ports) == 1:
            return 0
        raise MidiError(f"{len(ports)} MIDI {kind} ports; name one with --port or {setting}: {listing}")
    if w.isdigit():
        if int(w) < len(ports):
            return int(w)
        raise MidiPortAbsentError(f"MIDI {kind} port index must be in range 0..{len(ports) - 1}, not {w}; ports: {listing}")
    hits = [i for i, p in enumerate(ports) if w.lower() in p.lower()]
    if len(hits) == 1:
        return hits[0]
    if not hits:
        raise MidiPortAbsentError(f"no MIDI {kind} port matches {w!r}; ports: {listing} (set {setting})")
    raise MidiError(f"{len(hits)} MIDI {kind} ports match {w!r}; be more specific: "
                    + ", ".join(f"{i}: {ports[i]}" for i in hits))


def open_named(port, wanted: str, *, kind: str, setting: str, port_name: str) -> str:
    """Open, on an rtmidi ``MidiIn``/``MidiOut``, the port ``wanted`` names; returns its name.

    The rtmidi object is deleted if that fails, so a missing port leaves nothing open behind its error.
    """
    try:
        ports = port.get_ports()
        index = find_port(ports, wanted, kind=kind, setting=setting)
        port.open_port(index, port_name)
    except BaseException:
        port.delete()
        raise
    return ports[index]


APIS = ("", "alsa", "jack")  # "": ALSA, then JACK


def open_rtmidi(kind: str, api: str = "", client: str = "jambox"):
    """An ``rtmidi.MidiIn`` (``kind`` "input") or ``rtmidi.MidiOut`` ("output") on ``api``, or a MidiError
    naming every system tried and why it failed."""
    import os

    import rtmidi

    if api not in APIS:
        raise MidiError(f"MIDI API must be one of {', '.join(repr(a) for a in APIS)}, not {api!r}")
    make = rtmidi.MidiIn if kind == "input" else rtmidi.MidiOut
    apis = {"alsa": [rtmidi.API_LINUX_ALSA], "jack": [rtmidi.API_UNIX_JACK],
            "": [rtmidi.API_LINUX_ALSA, rtmidi.API_UNIX_JACK]}[api]
    compiled = set(rtmidi.get_compiled_api())
    failures = []
    for a in apis:
        if a not in compiled:
            failures.append(f"{rtmidi.get_api_display_name(a)}: not built into python-rtmidi")
            continue
        try:
            return make(a, client)
        except rtmidi.RtMidiError as e:
            failures.append(f"{rtmidi.get_api_display_name(a)}: {e}")
    hint = " (is /dev/snd/seq there? load snd-seq, or start JACK)" if not os.path.exists("/dev/snd/seq") else ""
    raise MidiError(f"no MIDI {kind} system{hint}: " + "; ".join(failures))
