"""The shipped step model loads in both backends, carries its state, and bad files fail clearly."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from jambox.errors import ModelError, ValueRangeError
from jambox.generate import features as F
from jambox.generate.model import default_model_path, load_model

MODELS = Path(__file__).resolve().parents[2] / "models"


def _inputs(seed=0):
    """Real-looking rows: a 4/4 bar with a bass onset on the beats, from the step encoders."""
    rng = np.random.default_rng(seed)
    meter = F.meter_for(4, 4)
    dx = np.zeros((1, F.DRUM_IN), np.float32)
    hx = np.zeros((1, F.HARM_IN), np.float32)
    z = np.zeros(F.N_DRUMS, np.float32)
    rows = []
    for s in range(32):
        on = s % 4 == 0
        F.encode_drum_step(dx, meter, s % 16, 100.0, 0.5, on, 0.8, float(rng.normal(0, 0.05)), True, (s + 1) % 4 == 0,
                           0.6, 0.3, 0.5, 0.0, z, z, z)
        F.encode_harm_step(hx, meter, s % 16, 100.0, 0.5, on, 0.8, True, (s + 1) % 4 == 0, 0, False, 0.2, 0.4, 0.5,
                           F.chord_index(0, 0), 0, False, 0.0)
        rows.append((dx.copy(), hx.copy()))
    return rows


@pytest.mark.parametrize("backend", ["onnx", "tflite"])
def test_shipped_model_steps_with_outputs_in_range(backend):
    model = load_model(None, backend)
    assert model.path == default_model_path(backend) and model.path.is_file()
    for dx, hx in _inputs():
        out = model.step(dx, hx)
    assert out.drum_hit_logits.shape == (F.N_DRUMS,)
    assert out.chord_logits.shape == (F.N_CHORDS,)
    assert out.voicing_logits.shape == (F.N_VOICINGS,)
    assert np.all((out.drum_velocity >= 0) & (out.drum_velocity <= 1))
    assert np.all(np.abs(out.drum_offset) <= 0.5)
    assert 0.0 <= out.keys_velocity <= 1.0
    assert np.isfinite(out.chord_logits).all() and np.isfinite(out.keys_hit_logit)


@pytest.mark.parametrize("backend", ["onnx", "tflite"])
def test_state_is_carried_and_can_be_saved_and_restored(backend):
    model = load_model("", backend)
    rows = _inputs(1)
    for dx, hx in rows[:16]:
        model.step(dx, hx)
    saved = model.get_state()
    assert np.abs(saved[0]).sum() > 0 and np.abs(saved[1]).sum() > 0
    first = [model.step(dx, hx).chord_logits.copy() for dx, hx in rows[16:]]
    model.set_state(saved)
    again = [model.step(dx, hx).chord_logits.copy() for dx, hx in rows[16:]]
    np.testing.assert_array_equal(np.array(first), np.array(again))
    model.reset_state()
    fresh = model.step(*rows[16]).chord_logits.copy()
    assert not np.allclose(fresh, first[0], atol=1e-6)  # the state mattered
    with pytest.raises(ValueRangeError, match="state must be"):
        model.set_state((np.zeros(3), np.zeros(3)))


def test_outputs_are_views_reused_between_steps():
    model = load_model()
    rows = _inputs()
    a = model.step(*rows[0])
    before = a.chord_logits.copy()
    b = model.step(*rows[5])
    assert np.shares_memory(a.chord_logits, b.chord_logits)
    assert not np.allclose(before, b.chord_logits)


def test_wrong_input_width_is_refused():
    model = load_model()
    with pytest.raises(ValueRangeError, match=str(F.DRUM_IN)):
        model.step(np.zeros(3, np.float32), np.zeros(F.HARM_IN, np.float32))


def test_non_finite_inputs_are_refused_and_the_state_kept():
    model = load_model()
    rows = _inputs()
    model.step(*rows[0])
    state = model.get_state()
    dx = rows[1][0].copy()
    dx[0, F.POS_TEMPO] = np.nan
    with pytest.raises(ValueRangeError, match=f"drum_x columns \\[{F.POS_TEMPO}\\]"):
        model.step(dx, rows[1][1])
    np.testing.assert_array_equal(model.get_state()[0], state[0])


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(ModelError, match="nothing-here.onnx.*not found"):
        load_model(tmp_path / "nothing-here.onnx")


@pytest.mark.parametrize("backend, content", [("onnx", b"not a model at all"), ("tflite", b"\x00" * 64), ("onnx", b"")])
def test_corrupt_file_is_a_model_error(tmp_path, backend, content):
    p = tmp_path / f"bad.{backend}"
    p.write_bytes(content)
    with pytest.raises(ModelError, match=str(p)):
        load_model(p, backend)


def test_truncated_shipped_model_is_a_model_error(tmp_path):
    src = MODELS / "jambox-int8.onnx"
    p = tmp_path / "cut.onnx"
    p.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    with pytest.raises(ModelError, match="cut.onnx"):
        load_model(p)


def test_model_with_other_features_is_refused(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("drum_x", TensorProto.FLOAT, [1, 7])
    y = helper.make_tensor_value_info("drum_hit_logits", TensorProto.FLOAT, [1, 7])
    g = helper.make_graph([helper.make_node("Identity", ["drum_x"], ["drum_hit_logits"])], "g", [x], [y])
    p = tmp_path / "other.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), str(p))
    with pytest.raises(ModelError, match="does not match"):
        load_model(p)


def test_unknown_backend():
    with pytest.raises(ValueRangeError, match="onnx, tflite.*'onxx'|'onxx'"):
        load_model(None, "onxx")


def test_models_dir_from_environment(tmp_path, monkeypatch):
    shutil.copy(MODELS / "jambox-int8.onnx", tmp_path / "jambox-int8.onnx")
    monkeypatch.setenv("JAMBOX_MODELS", str(tmp_path))
    assert load_model().path == tmp_path / "jambox-int8.onnx"
    monkeypatch.setenv("JAMBOX_MODELS", str(tmp_path / "empty"))
    assert load_model().path == MODELS / "jambox-int8.onnx"  # falls through to the checkout's models/
