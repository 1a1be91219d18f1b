"""`jambox bench --only model` figures: both backends timed, fresh and after carried state."""

from jambox.bench import model as bench_model


def test_quick_bench_reports_both_backends_with_carried_state():
    figures = bench_model.run(quick=True)
    for key in ("onnx_int8", "tflite"):
        assert f"{key}_error" not in figures
        p50, p99 = figures[f"{key}_step_ms_p50"], figures[f"{key}_step_ms_p99"]
        assert 0 < p50 <= p99
        assert figures[f"{key}_step_ms_p99_after_2000_steps"] > 0
        assert figures[f"{key}_state_finite_after_3000_steps"] is True
        assert figures[f"{key}_file_kib"] > 10
    assert figures["encode_both_step_ms"] > 0
