"""The listener bench's own arithmetic: the signed beat phase and onset bias it reports, and their summary."""

import numpy as np
import pytest

from jambox.bench.listener import beat_phase_errors, onset_errors, summarize

TRUE_BEATS = list(np.arange(0.0, 20.0, 0.5))


def row(phase, bias, behind=False):
    return {"onset_f": 1.0, "note_f": 1.0, "beat_f": 1.0, "meter_ok": True, "key_ok": True, "loop_ok": True,
            "tempo_ok": True, "onset_latency": [0.01], "note_latency_e1": [], "first_pitch_latency_e1": [],
            "aubio_notes": {"onset_f": 1.0, "note_f": 1.0}, "onset_yin": {"onset_f": 1.0, "note_f": 1.0, "beat_f": 1.0},
            "name": "x", "program": "finger", "degradation": "clean", "meter": "4/4",
            "beat_phase": phase, "onset_bias": bias, "behind": behind}


def test_a_late_grid_reads_as_a_positive_phase_and_the_locking_seconds_are_left_out():
    late = [t + 0.02 for t in TRUE_BEATS]
    errors = beat_phase_errors(TRUE_BEATS, late)
    assert len(errors) == sum(1 for t in late if t >= 5.0)
    assert np.allclose(errors, 0.02)
    assert np.allclose(beat_phase_errors(TRUE_BEATS, [t - 0.01 for t in TRUE_BEATS]), -0.01)


def test_a_grid_between_the_beats_is_no_phase_error():
    assert beat_phase_errors(TRUE_BEATS, [t + 0.25 for t in TRUE_BEATS]) == []
    assert beat_phase_errors(TRUE_BEATS, []) == []


def test_onset_bias_is_signed_and_ignores_onsets_beyond_the_tolerance():
    ref = [1.0, 2.0, 3.0, 4.0]
    est = [1.012, 1.9, 3.004, 5.0]  # 2.0 is heard 100 ms early (a miss), 4.0 not at all
    assert np.allclose(onset_errors(ref, est), [0.012, 0.004])
    assert np.allclose(onset_errors(ref, [2.03]), [0.03])
    assert onset_errors(ref, []) == []


def test_the_summary_keeps_behind_the_beat_clips_out_of_the_phase_figure():
    rows = [row([0.004, 0.006, 0.005], [0.002, 0.003]), row([0.025, 0.024, 0.026], [0.001], behind=True)]
    out = summarize(rows, 60.0, 1.0)
    assert out["beat_phase_ms_median"] == pytest.approx(5.0)
    assert out["beat_phase_ms_iqr"] == pytest.approx(1.0)
    assert out["beat_phase_ms_median_all_clips"] == pytest.approx(15.0)
    assert out["onset_bias_ms_median"] == pytest.approx(2.0)
    assert out["by_program"]["finger"]["beat_phase_ms"] == pytest.approx(5.0)


def test_rows_without_phase_figures_summarise_to_none():
    out = summarize([row([], [])], 60.0, 1.0)
    assert out["beat_phase_ms_median"] is None and out["onset_bias_ms_median"] is None
