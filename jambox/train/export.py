"""Export the trained nets: float ONNX (state as explicit inputs/outputs), int8 ONNX, TFLite.

- Float ONNX via torch's TorchScript exporter (the torch.export-based one needs onnxscript, which
  the ``train`` extra does not pull in), opset 17, fixed batch 1: Gemm, Slice, Add, Mul, Sub,
  Sigmoid, Tanh, Relu and constants.
- int8 via ``onnxruntime.quantization.quantize_dynamic``: the Gemm/MatMul weights become int8 with
  per-output-channel scales (a third less error than per-tensor here); activations are quantised on
  the fly (DynamicQuantizeLinear + MatMulInteger), which onnxruntime runs on any CPU.
- TFLite via :mod:`jambox.train.tflite_writer`, translated op by op from the float ONNX graph.
"""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path

from jambox.errors import TrainingError
from jambox.generate import features as F
from jambox.train.net import JamNets, StepGraph, torch

try:
    import flatbuffers  # noqa: F401  (the TFLite writer's)
    import onnx  # noqa: F401
    import tflite  # noqa: F401
except ImportError as e:  # the train extra brings them
    raise TrainingError(f"export needs onnx, tflite and flatbuffers: pip install 'jambox[train]' ({e})") from None

FLOAT_NAME = "jambox.onnx"
INT8_NAME = "jambox-int8.onnx"
TFLITE_NAME = "jambox.tflite"
META_NAME = "jambox.json"


def export_onnx(nets: JamNets, path: Path, metadata: dict | None = None) -> Path:
    import onnx

    graph = StepGraph(nets).eval()
    args = (
        torch.zeros(1, F.DRUM_IN),
        torch.zeros(1, F.HARM_IN),
        torch.zeros(1, nets.cfg.drum_hidden),
        torch.zeros(1, nets.cfg.harm_hidden),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(graph, args, str(tmp), dynamo=False, input_names=list(F.INPUT_NAMES),
                          output_names=list(F.OUTPUT_NAMES), opset_version=17, do_constant_folding=True)
    model = onnx.load(str(tmp))
    _set_metadata(model, metadata)
    onnx.checker.check_model(model)
    onnx.save(model, str(tmp))
    tmp.replace(path)
    return path


def _set_metadata(model, metadata: dict | None) -> None:
    import onnx

    meta = {"jambox_features": f"DRUM_IN={F.DRUM_IN},HARM_IN={F.HARM_IN},N_CHORDS={F.N_CHORDS},"
                               f"N_VOICINGS={F.N_VOICINGS}"}
    meta.update({k: str(v) for k, v in (metadata or {}).items()})
    del model.metadata_props[:]
    onnx.helper.set_model_props(model, meta)


def quantize_int8(float_path: Path, int8_path: Path) -> Path:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = int8_path.with_suffix(".tmp.onnx")
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the quantiser warns that pre-processing (shape inference) could help; not here
    try:
        quantize_dynamic(str(float_path), str(tmp), op_types_to_quantize=["Gemm", "MatMul"],
                         weight_type=QuantType.QInt8, per_channel=True)
    except Exception as e:
        raise TrainingError(f"int8 quantisation of {float_path} failed: {type(e).__name__}: {e}") from None
    finally:
        root.setLevel(level)
    tmp.replace(int8_path)
    return int8_path


def export_all(nets: JamNets, out_dir: Path, metadata: dict | None = None) -> dict[str, Path]:
    """Write the float, int8 and TFLite models and the metadata JSON into ``out_dir``."""
    from jambox.train.tflite_writer import onnx_to_tflite

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"float": out_dir / FLOAT_NAME, "int8": out_dir / INT8_NAME, "tflite": out_dir / TFLITE_NAME,
             "meta": out_dir / META_NAME}
    export_onnx(nets, paths["float"], metadata)
    quantize_int8(paths["float"], paths["int8"])
    onnx_to_tflite(paths["float"], paths["tflite"])
    meta = {
        "inputs": {"drum_x": F.DRUM_IN, "harm_x": F.HARM_IN, "drum_h": nets.cfg.drum_hidden,
                   "harm_h": nets.cfg.harm_hidden},
        "outputs": list(F.OUTPUT_NAMES),
        "drum_voices": list(F.DRUM_VOICES),
        "chord_qualities": list(F.CHORD_QUALITIES),
        "voicings": list(F.VOICINGS),
        "files": {k: p.name for k, p in paths.items() if k != "meta"},
        **(metadata or {}),
    }
    paths["meta"].write_text(json.dumps(meta, indent=2, default=str) + "\n")
    return paths
