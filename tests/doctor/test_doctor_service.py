"""The service check: systemd's view of jambox.service, from a systemctl that prints given properties."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from jambox.config import load_config
from jambox.doctor import OK, PROBLEM, SKIP, Context
from jambox.doctor.service import check_service


@pytest.fixture
def systemctl(tmp_path, monkeypatch):
    """Put a `systemctl` on PATH whose `show` prints these properties (or fails, as without systemd)."""
    def install(props: dict[str, str] | None):
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir(exist_ok=True)
        script = bin_dir / "systemctl"
        if props is None:
            body = 'echo "System has not been booted with systemd as init system (PID 1)." >&2\nexit 1\n'
        else:
            lines = "".join(f"{k}={v}\n" for k, v in props.items())
            body = f'[ "$1" = show ] && [ "$2" = jambox.service ] || exit 2\ncat <<"END"\n{lines}END\n'
        script.write_text("#!/bin/sh\n" + body)
        script.chmod(0o755)
        monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return install


def ctx(root="/") -> Context:
    return Context(config=load_config(search=[]), root=Path(root))


def test_running(systemctl):
    systemctl({"LoadState": "loaded", "ActiveState": "active", "SubState": "running",
               "StatusText": "listening on sndrpihifiberry", "NRestarts": "0"})
    c = check_service(ctx())
    assert c.status == OK and "running: listening on sndrpihifiberry" in c.message


def test_failed_repeats_the_boxs_own_words_and_the_blink_code(systemctl):
    systemctl({"LoadState": "loaded", "ActiveState": "failed", "SubState": "failed", "Result": "exit-code",
               "ExecMainStatus": "4", "StatusText": "cannot start: model file /opt/x.onnx is corrupt",
               "NRestarts": "5"})
    c = check_service(ctx())
    assert c.status == PROBLEM
    assert "exit status 4: the model or soundfont, 4 blinks" in c.message
    assert "cannot start: model file /opt/x.onnx is corrupt" in c.message
    assert "journalctl -u jambox" in c.fix and "jambox-retry.service" in c.fix


def test_restarting(systemctl):
    systemctl({"LoadState": "loaded", "ActiveState": "activating", "SubState": "auto-restart",
               "ExecMainStatus": "5", "StatusText": "cannot start: no input audio device", "NRestarts": "3"})
    c = check_service(ctx())
    assert c.status == PROBLEM and "keeps failing and restarting (3 restarts" in c.message


def test_installed_not_enabled(systemctl):
    systemctl({"LoadState": "loaded", "ActiveState": "inactive", "SubState": "dead", "UnitFileState": "disabled"})
    c = check_service(ctx())
    assert c.status == PROBLEM and "enable --now" in c.fix


def test_not_installed_and_no_systemd_are_skipped(systemctl):
    systemctl({"LoadState": "not-found", "ActiveState": "inactive"})
    assert check_service(ctx()).status == SKIP
    systemctl(None)
    c = check_service(ctx())
    assert c.status == SKIP and "systemd is not running here" in c.message


def test_another_root_is_skipped(tmp_path):
    assert check_service(ctx(tmp_path)).status == SKIP
