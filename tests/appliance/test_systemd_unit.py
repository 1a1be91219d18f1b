"""The systemd unit: `systemd-analyze verify` accepts it (systemd 252 here, as on Debian 12), and it says what the box needs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "systemd" / "jambox.service"
RETRY = ROOT / "systemd" / "jambox-retry.service"

needs_analyze = pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                                   reason="systemd-analyze is not installed (apt install systemd)")


def unit_options(path: Path) -> dict[str, dict[str, list[str]]]:
    """Every section's keys with all their values (systemd allows a key several times)."""
    out: dict[str, dict[str, list[str]]] = {}
    section = None
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            out.setdefault(section, {})
            continue
        key, _, value = line.partition("=")
        out[section].setdefault(key.strip(), []).append(value.strip())
    return out


def verify(tmp_path: Path, unit_text: str) -> subprocess.CompletedProcess:
    """Verify the unit as installed, with /opt/jambox pointing into tmp_path so ExecStart exists."""
    opt = tmp_path / "opt" / "jambox"
    exe = opt / "current" / "venv" / "bin" / "jambox"
    exe.parent.mkdir(parents=True)
    exe.write_text("#!/bin/sh\nexit 0\n")
    exe.chmod(0o755)
    (tmp_path / "jambox.service").write_text(unit_text.replace("/opt/jambox", str(opt)))
    shutil.copy(RETRY, tmp_path / "jambox-retry.service")
    return subprocess.run(["systemd-analyze", "verify", "jambox.service", "jambox-retry.service"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)


@needs_analyze
def test_systemd_analyze_verify_accepts_the_unit_and_its_retry_without_a_warning(tmp_path):
    r = verify(tmp_path, UNIT.read_text())
    assert r.returncode == 0, r.stderr
    # verify exits 0 on unknown keys (e.g. RestartSteps= before systemd 254) but warns: no warning allowed
    assert r.stderr.strip() == "" and r.stdout.strip() == "", r.stderr + r.stdout


@needs_analyze
def test_verify_would_catch_a_key_this_systemd_does_not_know(tmp_path):
    r = verify(tmp_path, UNIT.read_text().replace("[Service]\n", "[Service]\nRestartSteps=5\n", 1))
    assert "RestartSteps" in r.stderr


@needs_analyze
def test_verify_would_catch_a_missing_executable(tmp_path):
    text = UNIT.read_text().replace("/opt/jambox/current/venv/bin/jambox", "/opt/jambox/nowhere/jambox")
    r = verify(tmp_path, text)
    assert r.returncode != 0 and "nowhere" in r.stderr


def test_the_unit_runs_jambox_as_a_notify_service_with_a_watchdog_and_restarts():
    o = unit_options(UNIT)
    s = o["Service"]
    assert s["Type"] == ["notify"]
    assert s["ExecStart"][0].split()[1:] == ["run"]
    assert s["ExecStart"][0].startswith("/opt/jambox/current/venv/bin/jambox")
    assert s["Restart"] == ["on-failure"]
    assert float(s["WatchdogSec"][0].rstrip("s")) > 0
    assert float(s["RestartSec"][0].rstrip("s")) > 0
    assert int(o["Unit"]["StartLimitBurst"][0]) > 1
    assert o["Unit"]["OnFailure"] == ["jambox-retry.service"]
    assert o["Install"]["WantedBy"] == ["multi-user.target"]
    assert o["Unit"]["PropagatesStopTo"] == ["jambox-retry.service"]  # stop means stopped
    retry = unit_options(RETRY)
    assert retry["Service"]["Type"] == ["oneshot"] and retry["Service"]["TimeoutStartSec"] == ["infinity"]
    steps = retry["Service"]["ExecStart"]
    assert steps[0].startswith("/usr/bin/sleep ") and int(steps[0].split()[1]) >= int(o["Unit"]["StartLimitIntervalSec"][0])
    assert steps[-1] == "/usr/bin/systemctl --no-block start jambox.service"


def test_the_unit_is_unprivileged_realtime_and_hardened():
    s = unit_options(UNIT)["Service"]
    assert s["User"] == ["jambox"]
    assert set(s["SupplementaryGroups"][0].split()) == {"audio", "gpio", "spi"}
    assert int(s["LimitRTPRIO"][0]) >= 70 and s["LimitMEMLOCK"] == ["infinity"]
    assert s["StateDirectory"] == ["jambox"] and s["ConfigurationDirectory"] == ["jambox"]
    assert s["NoNewPrivileges"] == ["yes"] and s["ProtectSystem"] == ["strict"]
    assert s["ProtectHome"] == ["yes"] and s["PrivateTmp"] == ["yes"]
    assert s["IPAddressDeny"] == ["any"]
    families = s["RestrictAddressFamilies"][0].split()
    assert "AF_INET" not in families and "AF_INET6" not in families and "AF_UNIX" in families
    allowed = {v.split()[0] for v in s["DeviceAllow"]}
    assert {"char-alsa", "char-gpiochip", "char-spi"} <= allowed
    assert s["DevicePolicy"] == ["closed"]
    assert "RestrictRealtime" not in s  # the audio threads need SCHED_FIFO
    assert "GPIOZERO_PIN_FACTORY=lgpio" in s["Environment"]


@needs_analyze
def test_security_exposure_is_low(tmp_path):
    """`systemd-analyze security` rates the unit; 'OK' or better (< 4.0 exposure) on its 0..10 scale."""
    r = subprocess.run(["systemd-analyze", "security", "--offline=yes", str(UNIT)],
                       capture_output=True, text=True, timeout=60)
    line = [ln for ln in r.stdout.splitlines() if "Overall exposure level" in ln]
    assert line, r.stdout + r.stderr
    exposure = float(line[0].split(":")[1].split()[0])
    assert exposure < 4.0, line[0]
