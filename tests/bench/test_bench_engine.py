"""`jambox bench --only engine`'s JACK figures: the stream jambox run uses, on a realtime and a non-realtime server."""

import pytest

from jambox.audio.jackd import realtime_allowed
from jambox.bench.engine import jack_run

pytestmark = pytest.mark.slow


def test_the_jack_figures_are_for_the_run_path_on_each_kind_of_server():
    f = jack_run(quick=True)
    assert f["jack_run_stream"] == "process"  # jambox run's stream on Linux: the callback in its own process
    tags = (["rt"] if realtime_allowed() else []) + ["nonrt"]
    for tag in tags:
        key = f"jack_{tag}_run"
        assert isinstance(f[f"{key}_box_xruns"], int) and f[f"{key}_box_xruns"] >= 0, f  # held to 0 by the JACK minute test
        assert f[f"{key}_load_1min"] >= 0
        assert f[f"jack_{tag}_reference_xruns_per_minute"] >= 0  # the machine's share (JACK-Client is a test dependency)
        assert f[f"{key}_device_xruns_per_minute"] >= 0 and f[f"{key}_server_late_cycles"] >= 0
        assert 0 < f[f"{key}_callback_us_p50"] <= f[f"{key}_callback_us_p99"] <= f[f"{key}_callback_us_max"]
    assert not any(k.startswith("jack_rt_") for k in f) or realtime_allowed()
    assert not any("in_process" in k for k in f)  # the quick run measures only what jambox run uses
