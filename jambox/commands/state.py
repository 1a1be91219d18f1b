"""``jambox state show|export|reset``: what the box remembers, in plain words, as JSON, or forgotten."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HELP = "show what the box remembers (kept parts, your most used controls, the taste it learned), export it, or reset it"

ACTION_WORDS = {
    "keep": "keep", "softer": "softer", "softer_all": "softer (everything)", "more_dissonance": "more dissonance",
    "resolve": "resolve", "let_go": "let go", "start_stop": "start/stop", "join_now": "join now", "tap": "tap tempo",
    "set": "knob turns",
}
KEY_WORDS = {"dissonance": "tension", "drums_level": "drums", "keys_level": "keys", "keys_density": "keys density"}


def add_arguments(parser) -> None:
    _state_option(parser, None)
    sub = parser.add_subparsers(dest="state_command", metavar="{show,export,reset}")
    show = sub.add_parser("show", help="what the box remembers, in plain words (the default)")
    _state_option(show, argparse.SUPPRESS)
    export = sub.add_parser("export", help="everything in the state file as JSON")
    _state_option(export, argparse.SUPPRESS)
    export.add_argument("--out", metavar="F", help="write the JSON to F instead of stdout")
    reset = sub.add_parser("reset", help="forget everything (a backup of the file is kept beside it)")
    _state_option(reset, argparse.SUPPRESS)
    reset.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def _state_option(parser, default) -> None:
    parser.add_argument("--state", metavar="F", default=default,
                        help="state file (default: memory.state_file, $STATE_DIRECTORY/state.db under systemd, "
                             "else the user's data directory)")


def run(args, config) -> int:
    from jambox.memory.paths import state_path

    path = state_path(getattr(args, "state", None), config.memory.state_file)
    command = getattr(args, "state_command", None) or "show"
    return {"show": _show, "export": _export, "reset": _reset}[command](args, path)


def _open(path: Path):
    from jambox.memory import Memory

    return Memory.open(path)


def _show(args, path: Path) -> int:
    if not path.exists():
        print(f"No state file at {path} yet: the box has nothing to remember so far.")
        return 0
    with _open(path) as memory:
        print(describe(memory.overview()))
    return 0


def _export(args, path: Path) -> int:
    if path.exists():
        with _open(path) as memory:
            data = memory.export()
    else:
        from jambox.memory.memory import Memory
        from jambox.memory.store import open_in_memory

        with Memory(open_in_memory(), None) as memory:
            data = memory.export()
        data["path"] = str(path)
    text = json.dumps(data, indent=2, default=str)
    if args.out:
        Path(args.out).write_text(text + "\n")
        print(f"Wrote {args.out} ({len(data['actions'])} actions, {len(data['sessions'])} sessions)")
    else:
        print(text)
    return 0


def _reset(args, path: Path) -> int:
    if not path.exists():
        print(f"Nothing to reset: no state file at {path}.")
        return 0
    with _open(path) as memory:
        o = memory.overview()
        kept = sum(p["count"] for p in o["kept_by_part"].values())
        what = f"{_n(o['sessions'], 'session')}, {_n(o['actions'], 'action')}, {_n(kept, 'kept part')}"
        if not args.yes:
            if not sys.stdin.isatty():
                print(f"jambox state reset: {path} holds {what}; not resetting without confirmation "
                      "(run it in a terminal, or add --yes)", file=sys.stderr)
                return 1
            answer = input(f"Forget everything in {path} ({what})? A backup is kept. [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                print("Nothing changed.")
                return 1
        backup = memory.backup(_backup_name(path))
        memory.clear()
    print(f"Reset {path} ({what} forgotten). Backup: {backup}")
    return 0


def _backup_name(path: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target, n = path.with_name(f"{path.name}.backup-{stamp}"), 1
    while target.exists():
        target, n = path.with_name(f"{path.name}.backup-{stamp}-{n}"), n + 1
    return target


def _when(t: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(t)) if t else "never"


def _n(n: int, thing: str) -> str:
    return f"{n} {thing}{'' if n == 1 else 's'}"


def _times(n: int) -> str:
    return "once" if n == 1 else "twice" if n == 2 else f"{n} times"


def describe(o: dict) -> str:
    """The overview in plain words, for a player rather than a programmer."""
    lines = [f"State file: {o['path'] or 'in memory only'} (schema v{o['schema_version']})."]
    if o["problem"]:
        lines.append(f"Problem: {o['problem']}")
    if not o["sessions"]:
        lines.append("Nothing remembered yet: no sessions.")
        return "\n".join(lines)
    lines.append(f"{o['sessions']} session{'s' if o['sessions'] != 1 else ''} since {_when(o['first_session'])}, "
                 f"the latest {_when(o['last_session'])}; {o['riffs_heard']} different riff"
                 f"{'s' if o['riffs_heard'] != 1 else ''} remembered.")
    kept = o["kept_by_part"]
    if kept:
        parts = ", ".join(f"{p['count']} {part} pattern{'s' if p['count'] != 1 else ''} (latest {_when(p['latest'])})"
                          for part, p in kept.items())
        lines.append(f"What you kept: {parts}, for {o['kept_riffs']} riff{'s' if o['kept_riffs'] != 1 else ''}.")
    else:
        lines.append("What you kept: nothing yet (press KEEP when the box plays something you like).")
    asked = [(n, ACTION_WORDS.get(k, k)) for k, n in o["actions_by_kind"].items() if k != "set"]
    asked += [(n, f"the {KEY_WORDS.get(c, c)} knob") for c, n in o.get("knobs", {}).items()]
    if asked:
        top = sorted(asked, key=lambda a: (-a[0], a[1]))[:5]
        lines.append("What you asked for most: " + ", ".join(f"{what} {_times(n)}" for n, what in top) + ".")
    for kind, s in o["suggestions"].items():
        lines.append(f"Suggestion '{kind}': adopted {s['adopted']} of {s['offered']}.")
    if o["taste"]:
        lines.append("The taste it learned (where the box starts next time):")
        # the detailed buckets and the overall one; the in-between levels repeat them
        shown = {n: b for n, b in o["taste"].items() if n.count("*") in (0, 2)}
        for name, b in sorted(shown.items(), key=lambda kv: (kv[0].count("*"), kv[0])):
            taste = b["taste"]
            values = ", ".join(f"{KEY_WORDS.get(k, k)} {v:.2f}" for k, v in taste.items() if k != "confidence")
            lines.append(f"  {_bucket_words(name)} ({b['sessions']} session{'s' if b['sessions'] != 1 else ''}, "
                         f"{taste['confidence']:.0%} sure): {values or 'nothing yet'}")
    else:
        lines.append("The taste it learned: nothing yet.")
    return "\n".join(lines)


def _bucket_words(name: str) -> str:
    if name == "*@*":
        return "overall"
    meter, _, tempo = name.partition("@")
    m = "any meter" if meter == "*" else meter
    t = "any tempo" if tempo == "*" else f"{tempo} bpm"
    return f"{m}, {t}"
