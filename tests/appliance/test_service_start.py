"""`jambox run` started as systemd starts the service: a real notify socket, a real JACK server (dummy backend).

READY=1 must come only once the model is loaded and the audio stream runs; the logic thread must keep
the watchdog fed; SIGTERM must stop it cleanly with STOPPING=1; a start-up failure must be reported to
systemd (STATUS=cannot start: ...) with the error's exit status, before any READY.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from jambox.appliance.ready import wait_for_ready

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def jack(tmp_path_factory):
    if shutil.which("jackd") is None:
        pytest.fail("jackd is missing (apt install jackd2): the service start is tested against JACK's dummy backend")
    from jambox.audio.jackd import JackServer

    with JackServer(48000, 128, log_path=tmp_path_factory.mktemp("jack") / "jackd.log") as server:
        yield server


def run_cmd(tmp_path: Path, *extra: str) -> list[str]:
    cfg = tmp_path / "jambox.toml"
    cfg.write_text('[audio]\ninput_device = "jack"\noutput_device = "jack"\n[controls]\nkeyboard = false\n'
                   + "".join(f"{line}\n" for line in extra))
    return [sys.executable, "-m", "jambox", "--config", str(cfg), "run", "--no-keyboard",
            "--state", str(tmp_path / "state.db"), "--duration", "120"]


def test_ready_after_the_model_and_the_audio_then_watchdog_then_a_clean_stop(jack, tmp_path):
    r = wait_for_ready(run_cmd(tmp_path), timeout=120, hold=3.0, watchdog_usec=1_000_000, env=jack.env)
    assert r.ready, r.output_tail
    before_ready = r.messages[:next(i for i, m in enumerate(r.messages) if "READY=1" in m)]
    assert "STATUS=loading the model" in before_ready  # the model was being loaded before READY ...
    ready_msg = next(m for m in r.messages if "READY=1" in m)
    assert "STATUS=listening on" in ready_msg  # ... and READY says the stream is open
    assert r.watchdog_pings >= 4  # every 0.5 s for 3 s, give or take the edges
    assert r.stopped_by_us and r.stopping_sent and r.exit_code == 0, r.output_tail
    assert r.stop_s < 15  # within the unit's TimeoutStopSec


def test_a_start_up_failure_reaches_systemd_without_ready(jack, tmp_path):
    cmd = run_cmd(tmp_path, "[generator]", f'model = "{tmp_path / "missing.onnx"}"')
    r = wait_for_ready(cmd, timeout=120, env=jack.env)
    assert not r.ready and not r.stopped_by_us
    assert r.exit_code == 4  # ModelError's exit status: four blinks on the error LED
    assert r.status is not None and r.status.startswith("cannot start:") and "missing.onnx" in r.status
