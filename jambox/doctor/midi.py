"""The MIDI controller (``controls.midi_in``) and the MIDI out synth (``performer.midi_out``).

A configured port that is not there is not a problem: the box watches for it and picks it up when
it is plugged in or switched on (:mod:`jambox.midi_watch`), so the check says "waiting for port
'X'" and passes. What is a problem: no MIDI system to ask (no ALSA sequencer and no JACK server),
and a name that matches several ports (the box would not know which to take). The ports are listed
with the same rtmidi opener and the same name matching as ``jambox run``, and nothing is opened.
"""

from __future__ import annotations

from jambox import midi_ports
from jambox.doctor import Check, Context, ok, problem, skip
from jambox.errors import MidiError, MidiPortAbsentError


def _ports(kind: str, wanted: str, api: str, setting: str, label: str, open_rtmidi) -> tuple[str, str | None]:
    """``(what to say, the fix if it is a problem, else None)`` for one configured port."""
    try:
        rt = open_rtmidi(kind, api, "jambox-doctor")
    except MidiError as e:
        return (f"{label} {wanted!r}: {e}",
                "load the ALSA sequencer (sudo modprobe snd-seq; add snd-seq to /etc/modules) or start JACK, "
                f"or clear {setting}.")
    try:
        ports = list(rt.get_ports())
    finally:
        rt.delete()
    try:
        index = midi_ports.find_port(ports, wanted, kind=kind, setting=setting)
    except MidiPortAbsentError:
        return f"{label} waiting for port {wanted!r} (not plugged in or switched on yet; picked up when it appears)", None
    except MidiError as e:
        return f"{label} {wanted!r}: {e}", f"set {setting} to a name only one port has."
    return f"{label} {wanted!r} on {ports[index]}", None


def check_midi(ctx: Context, *, open_rtmidi=midi_ports.open_rtmidi) -> Check:
    """``open_rtmidi`` is the seam for a machine without any MIDI system."""
    name = "midi"
    cfg = ctx.config
    wanted = [("input", cfg.controls.midi_in, cfg.controls.midi_api, "controls.midi_in", "MIDI controller"),
              ("output", cfg.performer.midi_out, "", "performer.midi_out", "MIDI out")]
    wanted = [w for w in wanted if str(w[1]).strip()]
    if not wanted:
        return skip(name, "no MIDI controller (controls.midi_in) or MIDI out (performer.midi_out) configured")
    said, fixes = [], []
    for kind, port, api, setting, label in wanted:
        text, fix = _ports(kind, port, api, setting, label, open_rtmidi)
        said.append(text)
        if fix is not None:
            fixes.append(fix)
    message = "; ".join(said)
    return problem(name, message, " ".join(fixes)) if fixes else ok(name, message)
