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


NO_SYSTEM, AMBIGUOUS = "no MIDI system", "ambiguous"


def _port(kind: str, wanted: str, api: str, setting: str, label: str, open_rtmidi) -> tuple[str, str | None]:
    """``(what to say, None or what is wrong: NO_SYSTEM, AMBIGUOUS)`` for one configured port."""
    try:
        rt = open_rtmidi(kind, api, "jambox-doctor")
    except MidiError as e:
        return f"{label} {wanted!r}: {e}", NO_SYSTEM
    try:
        ports = list(rt.get_ports())
    finally:
        rt.delete()
    try:
        index = midi_ports.find_port(ports, wanted, kind=kind, setting=setting)
    except MidiPortAbsentError:
        return f"{label} waiting for port {wanted!r} (not plugged in or switched on yet; picked up when it appears)", None
    except MidiError as e:
        return f"{label} {wanted!r}: {e}", AMBIGUOUS
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
    said, wrong = [], {NO_SYSTEM: [], AMBIGUOUS: []}
    for kind, port, api, setting, label in wanted:
        text, trouble = _port(kind, port, api, setting, label, open_rtmidi)
        said.append(text)
        if trouble is not None:
            wrong[trouble].append(setting)
    fixes = []
    if wrong[NO_SYSTEM]:
        fixes.append("load the ALSA sequencer (sudo modprobe snd-seq; add snd-seq to /etc/modules) or start JACK, "
                     f"or clear {' and '.join(wrong[NO_SYSTEM])}.")
    if wrong[AMBIGUOUS]:
        fixes.append(f"set {' and '.join(wrong[AMBIGUOUS])} to a name only one port has.")
    message = "; ".join(said)
    return problem(name, message, " ".join(fixes)) if fixes else ok(name, message)
