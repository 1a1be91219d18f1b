"""``jambox train``: encode the data sets, train both step nets, print and save the held-out metrics."""

from __future__ import annotations

import json
from pathlib import Path

HELP = "train the accompaniment model on Groove and POP909 (needs the train extra: pip install 'jambox[train]')"

REPO = Path(__file__).resolve().parents[2]
DEFAULT_DATA = REPO.parent / "shared" / "data"
DEFAULT_OUT = REPO / "runs" / "train"


def add_arguments(parser) -> None:
    parser.add_argument("--data", metavar="DIR", default=str(DEFAULT_DATA),
                        help="folder holding groove/ and pop909/ (default: ../shared/data beside the repo)")
    parser.add_argument("--quick", action="store_true", help="a few files and a few batches (seconds; for tests)")
    parser.add_argument("--out", metavar="DIR", help=f"where the checkpoint and metrics go (default: {DEFAULT_OUT}, "
                        "or runs/train-quick with --quick)")
    parser.add_argument("--seed", type=int, default=0, help="seed for augmentation, initialisation and batches")
    parser.add_argument("--epochs", type=int, help="epochs of at most 80 batches of 96 windows x 128 steps "
                        "(default 4; 1 with --quick)")
    parser.add_argument("--cache", metavar="DIR", help="cache of encoded data (default: the user cache dir)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument("--metrics-only", action="store_true",
                        help="recompute the metrics of the checkpoint already in --out (no training)")


def run(args, config) -> int:
    from jambox.errors import ValueRangeError
    from jambox.train.pipeline import train_run

    if args.epochs is not None and args.epochs < 1:
        raise ValueRangeError(f"--epochs must be at least 1, not {args.epochs}")
    out = Path(args.out) if args.out else (DEFAULT_OUT.with_name("train-quick") if args.quick else DEFAULT_OUT)
    if args.metrics_only:
        from jambox.train.pipeline import evaluate_run

        result = evaluate_run(out, cache_dir=Path(args.cache) if args.cache else None, progress=not args.no_progress)
        print(json.dumps(result["metrics"], indent=2))
        return 0
    result = train_run(Path(args.data), out, quick=args.quick, seed=args.seed, epochs=args.epochs,
                       cache_dir=Path(args.cache) if args.cache else None, threads=args.threads,
                       progress=not args.no_progress)
    print(json.dumps(result["metrics"], indent=2))
    print(f"checkpoint: {result['checkpoint']}")
    return 0
