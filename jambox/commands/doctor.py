"""``jambox doctor``: check the audio devices, the HAT, the model, the soundfont, GPIO and the state file.

One line per check: ``OK``, ``PROBLEM`` (what is wrong, then how to fix it) or ``SKIP`` (does not
apply on this machine). The exit status is 0 when nothing is a PROBLEM, 1 otherwise, so scripts
(and deploy.sh's readiness check in a container) can rely on it.
"""

from __future__ import annotations

import json
from pathlib import Path

HELP = "check audio devices, HAT, model, soundfont, GPIO and state file, and say how to fix what is wrong"

# cli.py loads the configuration before calling run(); with this set, a configuration that does not
# load is passed as config=None so the doctor can report it as one of its checks.
REPORTS_CONFIG_ERRORS = True


def _names() -> list[str]:
    from jambox.doctor import checks

    return list(checks())


def add_arguments(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print the checks as JSON")
    parser.add_argument("--only", action="append", metavar="CHECK", choices=_names(),
                        help=f"run only this check (repeatable): {', '.join(_names())}")
    parser.add_argument("--root", metavar="DIR", default="/",
                        help="look for /proc, /boot, /dev and /var/lib/alsa under DIR (a mounted SD card, tests)")
    parser.add_argument("--state", metavar="FILE", help="check this state file instead of the configured one")


def run(args, config) -> int:
    from jambox.doctor import Context, run_checks

    error = None
    sources: list[str] = []
    if config is None:
        from jambox.config import load_config
        from jambox.errors import ConfigError

        try:
            config = load_config(getattr(args, "config", None))
        except ConfigError as e:
            error = str(e)
            config = None
    if config is not None:
        sources = list(config.sources)
    ctx = Context(config=config, config_error=error, config_sources=sources, root=Path(args.root),
                  state_file=args.state)
    results = run_checks(ctx, args.only)
    healthy = all(c.ok for c in results)
    if args.json:
        print(json.dumps({"ok": healthy, "checks": [c.as_dict() for c in results]}, indent=2))
    else:
        for c in results:
            print(c.line())
        problems = sum(1 for c in results if not c.ok)
        print("All checks passed." if healthy else f"{problems} problem(s) found.")
    return 0 if healthy else 1
