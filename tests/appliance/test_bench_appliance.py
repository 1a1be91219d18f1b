"""`jambox bench --only appliance`: the figures come from a real start of `jambox run` (JACK dummy backend)."""

from __future__ import annotations

import pytest

from jambox.bench import appliance

pytestmark = pytest.mark.slow


def test_quick_bench_measures_a_real_start():
    figures = appliance.run(quick=True)
    assert "error" not in figures, figures["error"] if "error" in figures else ""
    assert 0 < figures["start_to_ready_s_median"] <= figures["start_to_ready_s_max"] < 120
    assert figures["start_to_ready_runs"] == 1
    assert figures["watchdog_pings_per_s"] >= 0.5  # fed every half interval (2 s) while it plays
    assert figures["stopping_sent"] is True and figures["exit_codes"] == [0]
    assert 0 < figures["doctor_s"] < 60
