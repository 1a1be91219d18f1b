"""``jambox bench``: speed, accuracy and memory figures for every stage of the box."""

from __future__ import annotations

import importlib
import json
import time

from jambox.bench import AREAS

HELP = "measure the listener, the model, the real-time engine and the memory (figures for the README)"


def add_arguments(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--quick", action="store_true", help="a few seconds per area instead of the full set")
    parser.add_argument("--only", action="append", choices=AREAS, help="measure only these areas")


def run(args, config) -> int:
    from jambox.bench.machine import describe

    report = {"machine": describe(), "quick": bool(args.quick)}
    failed = False
    for area in args.only or AREAS:
        t0 = time.perf_counter()
        try:
            module = importlib.import_module(f"jambox.bench.{area}")
            figures = module.run(quick=args.quick)
        except ImportError as e:
            figures = {"error": f"not available: {e}"}
            failed = True
        figures["bench_seconds"] = round(time.perf_counter() - t0, 2)
        report[area] = figures
        if not args.json:
            print(f"[{area}]")
            for k, v in figures.items():
                print(f"  {k:40s} {v}")
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    return 1 if failed else 0
