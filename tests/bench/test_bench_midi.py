import shutil

import pytest

from jambox.bench import midi


@pytest.mark.skipif(shutil.which("jackd") is None, reason="jackd is not installed (Debian: jackd2)")
def test_the_midi_bench_measures_a_look_and_both_devices_coming_back():
    figures = midi.run(quick=True)
    assert 0 < figures["midi_port_look_us"] < 100_000
    for device in ("controller", "synth"):
        prefix = f"midi_{device}_back_poll_0_1s"
        assert figures[f"{prefix}_missed"] == 0, figures
        assert 0 < figures[f"{prefix}_median_ms"] <= figures[f"{prefix}_max_ms"] < 2100  # poll interval + 2 s
