"""``jambox config``: print the effective configuration."""

from __future__ import annotations

import json

HELP = "print the effective configuration (defaults, then /etc/jambox and user files, or --config)"


def add_arguments(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of TOML")
    parser.add_argument("--sources", action="store_true", help="also list the files that were read")


def run(args, config) -> int:
    if args.sources:
        for s in config.sources:
            print(f"# read: {s}")
    print(json.dumps(config.as_dict(), indent=2) if args.json else config.to_toml())
    return 0
