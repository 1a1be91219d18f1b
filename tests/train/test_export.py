"""Export and parity: torch vs float ONNX vs int8 ONNX vs TFLite on real held-out inputs, 256 steps
of carried state; the shipped models against each other; the TFLite writer's refusals."""

from pathlib import Path

import numpy as np
import pytest

from jambox.errors import TrainingError
from jambox.generate import features as F
from jambox.train import dataset as D
from jambox.train.parity import TOLERANCE, backend_outputs, check_parity, max_differences, validation_inputs
from tests.train.conftest import DATA

MODELS = Path(__file__).resolve().parents[2] / "models"
STEPS = 256


@pytest.fixture(scope="module")
def real_inputs(tmp_path_factory):
    drums, harmony, _ = D.build_tables(DATA, quick=True, seed=0, cache_dir=tmp_path_factory.mktemp("c"),
                                       progress=False)
    return validation_inputs(drums, harmony, STEPS)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    import torch

    from jambox.train.export import export_all
    from jambox.train.net import JamNets

    torch.manual_seed(7)
    nets = JamNets().eval()
    with torch.no_grad():  # livelier than the initialisation: a state that moves as a trained one does
        nets.drum_rnn.weight_hh_l0.mul_(3.0)
        nets.harm_rnn.weight_hh_l0.mul_(3.0)
    out = tmp_path_factory.mktemp("models")
    return nets, export_all(nets, out, {"seed": 7})


def test_export_writes_every_file_small_enough(exported):
    _, paths = exported
    for key in ("float", "int8", "tflite", "meta"):
        assert paths[key].is_file() and paths[key].stat().st_size > 0
    assert paths["int8"].stat().st_size < paths["float"].stat().st_size / 2.5
    total = sum(p.stat().st_size for p in paths.values())
    assert total < 5 * 2**20


def test_every_backend_matches_torch_through_256_steps_of_state(exported, real_inputs):
    nets, paths = exported
    dx, hx = real_inputs
    assert dx.shape == (STEPS, F.DRUM_IN) and hx.shape == (STEPS, F.HARM_IN)
    diffs = check_parity(nets, {"float": (paths["float"], "onnx"), "int8": (paths["int8"], "onnx"),
                                "tflite": (paths["tflite"], "tflite")}, dx, hx)
    for name, d in diffs.items():
        assert max(d.values()) <= TOLERANCE[name], (name, d)
    assert max(diffs["int8"].values()) > 0  # quantisation really happened


def test_shipped_models_agree_on_real_inputs(real_inputs):
    dx, hx = real_inputs
    ref = backend_outputs(MODELS / "jambox.onnx", "onnx", dx, hx)
    for path, backend, tol in ((MODELS / "jambox-int8.onnx", "onnx", TOLERANCE["int8"]),
                               (MODELS / "jambox.tflite", "tflite", TOLERANCE["tflite"])):
        d = max_differences(ref, backend_outputs(path, backend, dx, hx))
        assert max(d.values()) <= tol, (path.name, d)


def test_tflite_writer_refuses_ops_it_cannot_translate(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    from jambox.train.tflite_writer import onnx_to_tflite

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    g = helper.make_graph([helper.make_node("Softplus", ["x"], ["y"])], "g", [x], [y])
    p = tmp_path / "m.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), str(p))
    with pytest.raises(TrainingError, match="Softplus"):
        onnx_to_tflite(p, tmp_path / "m.tflite")


def test_tflite_writer_translates_a_small_graph_exactly(tmp_path):
    """Gemm (+bias), MatMul, Slice, Add, Sub, Mul with a constant, Sigmoid, Tanh, Relu: against onnxruntime."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper
    from tflite_runtime.interpreter import Interpreter

    from jambox.train.tflite_writer import onnx_to_tflite

    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.normal(size=(6, 4)).astype(np.float32), "w")
    b = numpy_helper.from_array(rng.normal(size=6).astype(np.float32), "b")
    m = numpy_helper.from_array(rng.normal(size=(3, 5)).astype(np.float32), "m")
    half = numpy_helper.from_array(np.array(0.5, np.float32), "half")
    st, en, ax = (numpy_helper.from_array(np.array([v], np.int64), n) for v, n in ((0, "st"), (3, "en"), (1, "ax")))
    st2, en2 = (numpy_helper.from_array(np.array([v], np.int64), n) for v, n in ((3, "st2"), (6, "en2")))
    nodes = [
        helper.make_node("Gemm", ["x", "w", "b"], ["g"], transB=1),
        helper.make_node("Slice", ["g", "st", "en", "ax"], ["a"]),
        helper.make_node("Slice", ["g", "st2", "en2", "ax"], ["c"]),
        helper.make_node("Sigmoid", ["a"], ["sa"]),
        helper.make_node("Tanh", ["c"], ["tc"]),
        helper.make_node("Mul", ["sa", "tc"], ["p"]),
        helper.make_node("Sub", ["p", "a"], ["q"]),
        helper.make_node("Mul", ["q", "half"], ["r"]),
        helper.make_node("Relu", ["r"], ["s"]),
        helper.make_node("Add", ["s", "sa"], ["t"]),
        helper.make_node("MatMul", ["t", "m"], ["y"]),
    ]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5])],
                          initializer=[w, b, m, half, st, en, ax, st2, en2])
    p = tmp_path / "m.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), str(p))
    onnx_to_tflite(p, tmp_path / "m.tflite")
    sess = ort.InferenceSession(str(p), providers=["CPUExecutionProvider"])
    it = Interpreter(model_path=str(tmp_path / "m.tflite"))
    it.allocate_tensors()
    assert it.get_input_details()[0]["name"] == "x" and it.get_output_details()[0]["name"] == "y"
    for _ in range(5):
        x = rng.normal(size=(1, 4)).astype(np.float32)
        it.set_tensor(it.get_input_details()[0]["index"], x)
        it.invoke()
        np.testing.assert_allclose(it.get_tensor(it.get_output_details()[0]["index"]),
                                   sess.run(None, {"x": x})[0], atol=1e-5)
