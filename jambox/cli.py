"""The ``jambox`` command line: one subcommand per module in :mod:`jambox.commands`."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from jambox import __version__
from jambox.errors import ConfigError, JamboxError

# name -> module under jambox.commands; each has HELP, add_arguments(parser) and run(args, config).
COMMANDS = {
    "demo": "demo",
    "accompany": "accompany",
    "listen": "listen",
    "run": "run",
    "bench": "bench",
    "state": "state",
    "config": "config",
    "doctor": "doctor",
    "learn": "learn",
    "train": "train",
    "export": "export",
}


def _command(name: str):
    return importlib.import_module(f"jambox.commands.{COMMANDS[name]}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jambox",
        description="A jam box for bass players: it listens to your riff, joins in with drums and keys, "
        "takes your feedback and remembers it.",
    )
    parser.add_argument("--version", action="version", version=f"jambox {__version__}")
    parser.add_argument("--config", metavar="FILE", help="configuration file (default: /etc/jambox/jambox.toml, "
                        "then the user's config directory, over the shipped defaults)")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = _command(name)
        except ImportError as e:  # a command whose optional dependency is missing still shows up
            p = sub.add_parser(name, help=f"(unavailable: {e})")
            p.set_defaults(_unavailable=str(e))
            continue
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.command is None:
        parser.print_help()
        return 2
    if getattr(args, "_unavailable", None):
        print(f"jambox {args.command}: unavailable here: {args._unavailable}", file=sys.stderr)
        return 1
    try:
        from jambox.config import load_config

        try:
            config = load_config(args.config)
        except ConfigError:
            if not getattr(args._module, "REPORTS_CONFIG_ERRORS", False):
                raise
            config = None  # the command (doctor) reports the configuration's problems itself
        return int(args._module.run(args, config) or 0)
    except JamboxError as e:
        print(f"jambox {args.command}: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
