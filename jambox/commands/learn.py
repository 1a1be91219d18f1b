"""``jambox learn ACTION_OR_CONTROL``: bind the next knob, pedal or pad you touch on a MIDI controller.

It waits for the next control change or note on the port and stores the binding in
``midi-map.toml`` (the user's config directory, or ``controls.midi_map``); ``jambox run`` then
reads it for ``controls.midi_in``. ``--list`` shows the map, ``--forget`` drops a target's
bindings, ``--list-ports`` names the ports to choose from.
"""

from __future__ import annotations

from jambox.controls.midi_in import ACTION_TARGETS, CONTROLS, SWITCH_TARGETS

HELP = "map a MIDI controller's knob, pedal or pad to an action or a control (stored in midi-map.toml)"


def add_arguments(parser) -> None:
    parser.add_argument("target", metavar="ACTION_OR_CONTROL", nargs="?",
                        help=f"an action ({', '.join(ACTION_TARGETS)}), a control ({', '.join(CONTROLS)}, "
                             f"tension, volume), or a switch of the panel ({', '.join(SWITCH_TARGETS)}: "
                             "press, long and double press then do what [controls] says for it)")
    parser.add_argument("--port", metavar="NAME", help="MIDI input port: index or name substring "
                        "(default: controls.midi_in, or the only port there is)")
    parser.add_argument("--timeout", metavar="S", type=float, default=30.0,
                        help="seconds to wait for the knob, pedal or pad (default 30)")
    parser.add_argument("--add", action="store_true", help="keep the target's other bindings (default: move it)")
    parser.add_argument("--forget", action="store_true", help="drop every binding of ACTION_OR_CONTROL")
    parser.add_argument("--list", action="store_true", help="print the map and where it is stored")
    parser.add_argument("--list-ports", action="store_true", help="print the MIDI input ports")
    parser.add_argument("--map", metavar="FILE", help="map file (default: controls.midi_map or the user's midi-map.toml)")


def run(args, config) -> int:
    from pathlib import Path

    from jambox.controls.midi_in import (MidiBinding, load_map, map_path, open_midi_in, open_port, save_map,
                                         target_name, wait_for_binding_message)
    from jambox.errors import UnknownActionError, ValueRangeError

    path = Path(args.map) if args.map else map_path(config)
    api = config.controls.midi_api
    if args.list_ports:
        midi_in = open_midi_in(api)
        try:
            ports = midi_in.get_ports()
        finally:
            midi_in.delete()
        for i, name in enumerate(ports):
            print(f"{i}: {name}")
        if not ports:
            print("no MIDI input ports")
        return 0
    midi_map = load_map(path)
    if args.list:
        print(f"# {path}")
        for b in midi_map.bindings:
            print(b.describe())
        if not midi_map.bindings:
            print("no bindings yet: `jambox learn keep` (then press the pedal) makes one")
        return 0
    if args.target is None:
        raise UnknownActionError("jambox learn needs an ACTION_OR_CONTROL to map, e.g. `jambox learn keep`, "
                                 "or --list / --list-ports")
    target = target_name(args.target)
    if args.forget:
        n = midi_map.forget(target)
        save_map(midi_map, path)
        print(f"forgot {n} binding{'s' if n != 1 else ''} of {target} in {path}")
        return 0
    if not args.timeout > 0:
        raise ValueRangeError(f"--timeout must be a number of seconds > 0, not {args.timeout:g}")
    midi_in, port = open_port(args.port if args.port is not None else config.controls.midi_in, api)
    try:
        print(f"Move a knob, press a pedal or hit a pad on {port} for {target} "
              f"(waiting up to {args.timeout:g} s)...", flush=True)
        type_, channel, number = wait_for_binding_message(midi_in, args.timeout)
    finally:
        midi_in.delete()
    binding = MidiBinding(type_, channel, number, target)
    midi_map.bind(binding, add=args.add)
    save_map(midi_map, path)
    print(f"learned: {' '.join(binding.describe().split())} (in {path})")
    return 0
