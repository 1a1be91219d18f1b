"""``jambox accompany INPUT``: the box plays along with a bass recording (WAV/FLAC or MIDI)."""

from __future__ import annotations

import json
from pathlib import Path

from jambox.config.load import parse_set
from jambox.controls.actions import Action

HELP = "accompany a bass recording (WAV, FLAC or MIDI) and write the mix and the accompaniment's MIDI"


def add_arguments(parser) -> None:
    parser.add_argument("input", metavar="INPUT", help="bass audio file (any rate, mono or stereo) or MIDI file")
    add_run_options(parser)


def add_run_options(parser, default_wav: str | None = None, default_midi: str | None = None) -> None:
    parser.add_argument("--out-wav", metavar="F", default=default_wav, help="write the bass with the accompaniment mixed in")
    parser.add_argument("--out-midi", metavar="F", default=default_midi, help="write the accompaniment as MIDI (tracks drums, keys)")
    parser.add_argument("--set", metavar="NAME=VALUE", action="append", default=[],
                        help="fix a control for the run (energy, dissonance, surprise, level, drums_level, keys_level; "
                             "0..1), or a config key as section.key=value")
    parser.add_argument("--events", metavar="F.json", help='timed actions, e.g. [{"t": 8.0, "action": "softer"}]')
    parser.add_argument("--state", metavar="F", help="memory file (default: the user's state file)")
    parser.add_argument("--seed", type=int, help="random seed (default: config generator.seed, or a new one)")
    parser.add_argument("--json", action="store_true", help="print a JSON summary instead of plain words")


def split_sets(items: list[str]) -> tuple[list[Action], list[str]]:
    """``--set`` items: control names become SET actions at time 0; dotted names are config overrides."""
    actions, overrides = [], []
    for item in items:
        if "=" not in item:
            from jambox.errors import UnknownActionError

            raise UnknownActionError(f"--set {item!r} must look like NAME=VALUE, e.g. energy=0.4")
        name, value = item.split("=", 1)
        if "." in name:
            overrides.append(item)
        else:
            actions.append(Action.make("set", source="cli", control=name, value=value, at=0))
    return actions, overrides


def run_with(args, config, bass_path: str, *, default_state_temp: bool = False) -> dict:
    from jambox.audio.files import load_bass
    from jambox.engine.accompany import accompany

    set_actions, overrides = split_sets(args.set)
    if overrides:
        config = config.with_overrides(parse_set(overrides), "--set")
    sr = config.audio.sample_rate
    bass = load_bass(bass_path, sr, soundfont=config.performer.soundfont)
    actions = list(set_actions)
    if args.events:
        from jambox.controls.events_file import load_events

        actions += load_events(args.events, sr)
    state = args.state
    tmp = None
    if state is None and default_state_temp:
        import tempfile

        tmp = tempfile.TemporaryDirectory(prefix="jambox-demo-")
        state = str(Path(tmp.name) / "state.db")
    try:
        result = accompany(config, bass, actions=actions, state_path=state, seed=args.seed,
                           out_wav=args.out_wav, out_midi=args.out_midi)
    finally:
        if tmp is not None:
            tmp.cleanup()
    result.summary["input"] = str(bass_path)
    return result.summary


def print_summary(summary: dict, as_json: bool) -> None:
    from jambox.engine.summary import describe

    if as_json:
        print(json.dumps(summary, indent=2))
    else:
        print(describe(summary))
        for key in ("wav", "midi"):
            if key in summary:
                print(f"Wrote {summary[key]}")


def run(args, config) -> int:
    if args.out_wav is None and args.out_midi is None and not args.json:
        stem = Path(args.input).with_suffix("")
        args.out_wav, args.out_midi = f"{stem}-jambox.wav", f"{stem}-jambox.mid"
    summary = run_with(args, config, args.input)
    print_summary(summary, args.json)
    return 0
