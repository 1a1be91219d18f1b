"""``jambox export``: a training checkpoint -> float ONNX, int8 ONNX and TFLite models, parity-checked."""

from __future__ import annotations

from pathlib import Path

HELP = "export a trained checkpoint to models/ (float and int8 ONNX, TFLite, model card), with parity checks"

REPO = Path(__file__).resolve().parents[2]


def add_arguments(parser) -> None:
    parser.add_argument("--checkpoint", metavar="FILE", default=str(REPO / "runs" / "train" / "checkpoint.pt"),
                        help="checkpoint written by `jambox train` (default: runs/train/checkpoint.pt)")
    parser.add_argument("--out", metavar="DIR", default=str(REPO / "models"), help="output folder (default: models/)")
    parser.add_argument("--data", metavar="DIR", help="data for the parity check's validation sequence "
                        "(default: the checkpoint's training data)")


def run(args, config) -> int:
    from jambox.train.pipeline import export_run

    result = export_run(Path(args.checkpoint), Path(args.out), data_dir=Path(args.data) if args.data else None)
    for name, path in result["files"].items():
        print(f"{name:8s} {path} ({path.stat().st_size / 1024:.0f} KiB)")
    for backend, err in result["parity"].items():
        print(f"parity   {backend}: max abs difference {err:.2e}")
    return 0
