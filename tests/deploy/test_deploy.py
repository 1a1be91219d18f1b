"""deploy.sh, run for real: `--local --root` into a temporary root, offline, reusing this venv's packages.

The venv is created, the package is built from this checkout and installed, the models, unit and config
land where the box has them, the installed release passes its readiness check (the installed
`jambox doctor` loads the config, the model and the soundfont), a second run changes nothing, a config
changed on the box is kept, and a release that fails its readiness check is rolled back.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy.sh"
SITE = sysconfig.get_paths()["purelib"]  # this venv's packages, reused instead of downloading them
BASE_PYTHON = getattr(sys, "_base_executable", sys.executable)  # the Python this venv was made from


def copy_checkout(dest: Path) -> Path:
    """The checkout's files as git sees them (tracked and new, not ignored), frozen: other people editing
    the shared checkout while the test runs must not change what is deployed. Its .venv is this one."""
    dest.mkdir(parents=True)
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                           capture_output=True, check=True).stdout.split(b"\0")
    for name in filter(None, files):
        src = REPO / name.decode()
        if src.is_file():
            (dest / name.decode()).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name.decode())
    (dest / ".venv").symlink_to(REPO / ".venv")
    return dest


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Path:
    return copy_checkout(tmp_path_factory.mktemp("checkout") / "jambox")


def deploy(root: Path, checkout: Path, models: Path, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    cmd = ["bash", str(checkout / "deploy.sh"), "--local", "--root", str(root), "--site-packages", SITE,
           "--python", BASE_PYTHON, "--models", str(models), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=checkout)


def snapshot(root: Path) -> dict[str, tuple]:
    """Every path under root with its type, mode, mtime and content hash (or link target)."""
    out = {}
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        if p.is_symlink():
            out[str(p)] = ("link", os.readlink(p))
        elif p.is_file():
            out[str(p)] = ("file", st.st_mode, st.st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
        else:
            out[str(p)] = ("dir", st.st_mode)
    return out


@pytest.fixture(scope="module")
def models() -> Path:
    """The shipped models (JAMBOX_TEST_MODELS deploys another set, e.g. a fresh export)."""
    m = Path(os.environ.get("JAMBOX_TEST_MODELS", REPO / "models"))
    assert (m / "jambox-int8.onnx").is_file(), f"the model {m}/jambox-int8.onnx is missing"
    return m


@pytest.fixture(scope="module")
def first(tmp_path_factory, models, checkout):
    root = tmp_path_factory.mktemp("box")
    r = deploy(root, checkout, models)
    assert r.returncode == 0, r.stdout + r.stderr
    return root, r


def test_shellcheck_is_clean():
    if shutil.which("shellcheck") is None:
        pytest.fail("shellcheck is not installed (apt install shellcheck): deploy.sh must be checked")
    r = subprocess.run(["shellcheck", str(DEPLOY)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout


def test_help_and_bad_arguments():
    r = subprocess.run(["bash", str(DEPLOY), "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "--dry-run" in r.stdout and "pi@host" in r.stdout
    r = subprocess.run(["bash", str(DEPLOY)], capture_output=True, text=True)
    assert r.returncode != 0 and "say where to install" in r.stderr
    r = subprocess.run(["bash", str(DEPLOY), "--local", "--hat", "hifiberry"], capture_output=True, text=True)
    assert r.returncode != 0 and "unknown HAT 'hifiberry'" in r.stderr and "hifiberry-dacplusadc" in r.stderr
    r = subprocess.run(["bash", str(DEPLOY), "--local", "--keep", "1"], capture_output=True, text=True)
    assert r.returncode != 0 and "at least 2" in r.stderr


def test_dry_run_changes_nothing(tmp_path, models, checkout):
    root = tmp_path / "box"
    root.mkdir()
    r = deploy(root, checkout, models, "--dry-run", "--hat", "pisound")
    assert r.returncode == 0, r.stderr
    assert "+ mkdir -p" in r.stdout and " -m venv " in r.stdout and "pip install" in r.stdout
    assert str(root / "etc/asound.conf") in r.stdout
    assert list(root.iterdir()) == []


@pytest.mark.slow
def test_the_release_lands_where_the_box_has_it(first):
    root, r = first
    current = root / "opt/jambox/current"
    assert current.is_symlink() and os.readlink(current).startswith("releases/0.1.0-")
    jambox = current / "venv/bin/jambox"
    out = subprocess.run([str(jambox), "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("jambox ")
    # the package comes from the release's own site-packages, not from the checkout
    where = subprocess.run([str(current / "venv/bin/python"), "-c", "import jambox; print(jambox.__file__)"],
                           capture_output=True, text=True, cwd="/")
    assert str(root) in where.stdout, where.stdout + where.stderr
    assert (current / "venv/share/jambox/models/jambox-int8.onnx").is_file()
    assert (root / "etc/systemd/system/jambox.service").read_text() == (REPO / "systemd/jambox.service").read_text()
    assert (root / "etc/systemd/system/jambox-retry.service").is_file()
    assert (root / "etc/jambox/jambox.toml").read_text() == (REPO / "systemd/jambox.toml").read_text()
    assert "ready: release" in r.stdout


@pytest.mark.slow
def test_the_installed_unit_verifies_against_the_installed_release(first, tmp_path):
    """systemd-analyze on the unit as installed, with /opt/jambox pointing into the temp root."""
    if shutil.which("systemd-analyze") is None:
        pytest.fail("systemd-analyze is missing (apt install systemd)")
    root, _ = first
    unit = (root / "etc/systemd/system/jambox.service").read_text().replace("/opt/jambox", str(root / "opt/jambox"))
    (tmp_path / "jambox.service").write_text(unit)
    shutil.copy(root / "etc/systemd/system/jambox-retry.service", tmp_path)
    r = subprocess.run(["systemd-analyze", "verify", "jambox.service", "jambox-retry.service"], cwd=tmp_path,
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stderr.strip() == "", r.stderr


@pytest.mark.slow
def test_the_installed_release_really_runs_its_checks(first):
    root, _ = first
    jambox = root / "opt/jambox/current/venv/bin/jambox"
    env = {k: v for k, v in os.environ.items() if k != "JAMBOX_MODELS"}  # as the service: no override
    r = subprocess.run([str(jambox), "--config", str(root / "etc/jambox/jambox.toml"), "doctor", "--only", "model",
                        "--only", "config"], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stdout
    assert str(root / "opt/jambox") in r.stdout  # the model found in the release, not the checkout


@pytest.mark.slow
def test_redeploy_is_idempotent_keeps_a_changed_config_and_rolls_back_a_bad_release(tmp_path, models, checkout):
    root = tmp_path / "box"
    root.mkdir()
    r = deploy(root, checkout, models)
    assert r.returncode == 0, r.stdout + r.stderr
    first_release = os.readlink(root / "opt/jambox/current")

    # 1. The same checkout again: nothing changes, not even a timestamp.
    before = snapshot(root)
    r = deploy(root, checkout, models)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "already up to date" in r.stdout
    assert snapshot(root) == before

    # 2. The player changed the config on the box; a deploy with another shipped config keeps theirs.
    config = root / "etc/jambox/jambox.toml"
    mine = config.read_text() + "\n[initial]\nenergy = 0.3\n"
    config.write_text(mine)
    (root / "boot/firmware").mkdir(parents=True)
    (root / "boot/firmware/config.txt").write_text("# the Pi's own lines\narm_boost=1\n")
    r = deploy(root, checkout, models, "--hat", "pisound")
    assert r.returncode == 0, r.stdout + r.stderr
    assert config.read_text() == mine and "kept" in r.stdout
    assert (root / "etc/jambox/jambox.toml.new").read_text() == (REPO / "firmware/hats/pisound/jambox.toml").read_text()
    assert (root / "etc/asound.conf").read_text() == (REPO / "firmware/hats/pisound/asound.conf").read_text()
    boot = (root / "boot/firmware/config.txt").read_text()
    assert boot.startswith("# the Pi's own lines\narm_boost=1\n") and "dtoverlay=pisound" in boot
    assert (root / "etc/systemd/system.conf.d/jambox-watchdog.conf").is_file()
    r = deploy(root, checkout, models, "--hat", "pisound")  # again: the boot block is replaced, not repeated
    assert r.returncode == 0 and (root / "boot/firmware/config.txt").read_text().count("dtoverlay=pisound") == 1

    # 3. A new release (other models, a changed unit) whose readiness check fails: everything is put back.
    other = tmp_path / "models"
    shutil.copytree(models, other)
    (other / "NOTE.md").write_text("a retrained model\n")
    changed = copy_checkout(tmp_path / "changed")
    with open(changed / "systemd/jambox.service", "a") as f:
        f.write("# a change to the unit\n")
    unit = root / "etc/systemd/system/jambox.service"
    unit_before = unit.read_text()
    before = snapshot(root / "etc")
    r = deploy(root, changed, other, "--hat", "pisound", "--ready-cmd", "echo 'no READY'; exit 3")
    assert r.returncode != 0
    assert "installed " + str(unit) in r.stdout  # the new unit was in place ...
    assert "rolled back" in r.stderr and "no READY" in r.stdout
    assert os.readlink(root / "opt/jambox/current") == first_release
    assert unit.read_text() == unit_before and config.read_text() == mine  # ... and is gone again
    assert snapshot(root / "etc") == before


@pytest.mark.slow
def test_remote_mode_ships_the_bundle_and_runs_on_the_box(tmp_path, models, checkout):
    """`./deploy.sh pi@host` end to end, with ssh and sudo that run their command here (the box is this machine)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "ssh.log"
    (bin_dir / "ssh").write_text('#!/usr/bin/env bash\nwhile [ "${1#-}" != "$1" ]; do shift; done\n'
                                 'host=$1; shift\nprintf "%s %s\\n" "$host" "$*" >>"$FAKE_SSH_LOG"\nexec bash -c "$*"\n')
    (bin_dir / "sudo").write_text('#!/usr/bin/env bash\nexec "$@"\n')
    for f in bin_dir.iterdir():
        f.chmod(0o755)
    root = tmp_path / "box"
    root.mkdir()
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", FAKE_SSH_LOG=str(log))
    r = subprocess.run(["bash", str(checkout / "deploy.sh"), "--root", str(root), "--site-packages", SITE,
                        "--python", BASE_PYTHON, "--models", str(models), "pi@jambox.local"],
                       capture_output=True, text=True, timeout=300, cwd=checkout, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    calls = log.read_text().splitlines()
    assert len(calls) == 3 and all(c.startswith("pi@jambox.local ") for c in calls)  # mkdir, copy, install
    remote = re.search(r"(/tmp/jambox-deploy\.\d+)", calls[0]).group(1)
    assert (root / "opt/jambox/current/venv/bin/jambox").is_file()
    assert (root / "opt/jambox/current/venv/share/jambox/models/jambox-int8.onnx").is_file()
    assert "ready: release" in r.stdout
    assert not Path(remote).exists()  # the bundle is removed from the box afterwards


@pytest.mark.slow
def test_readiness_by_the_notify_protocol_starts_the_installed_release_for_real(tmp_path, models, checkout):
    """The installed `jambox run` started as systemd would start it (jambox.appliance.ready), on JACK's dummy
    backend: deploy.sh succeeds only because the installed release sent READY=1."""
    if shutil.which("jackd") is None:
        pytest.fail("jackd is missing (apt install jackd2)")
    from jambox.audio.jackd import JackServer

    root = tmp_path / "box"
    root.mkdir()
    ready = ('"$JAMBOX_CURRENT/venv/bin/python" -m jambox.appliance.ready --timeout 90 -- '
             '"$JAMBOX_CURRENT/venv/bin/jambox" --config "$JAMBOX_CONFIG" run --device jack --duration 30 '
             f'--state {tmp_path / "state.db"}')
    with JackServer(48000, 128, log_path=tmp_path / "jackd.log") as server:
        cmd = ["bash", str(checkout / "deploy.sh"), "--local", "--root", str(root), "--site-packages", SITE,
               "--python", BASE_PYTHON, "--models", str(models), "--ready-cmd", ready]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=checkout, env=server.env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "ready after " in r.stdout and "listening on" in r.stdout  # the installed run's own READY status
    assert "ready: release" in r.stdout


@pytest.mark.slow
def test_a_box_deployed_with_a_hat_passes_the_doctors_hat_checks(tmp_path, models, checkout):
    """deploy.sh --hat writes the boot lines, asound.conf and config; the installed doctor, looking at that root
    with the HAT's card present, finds the overlay, the card, SPI and a panel clear of the HAT's pins."""
    root = tmp_path / "box"
    (root / "boot/firmware").mkdir(parents=True)
    (root / "boot/firmware/config.txt").write_text("[all]\ndtparam=audio=on\n")
    r = deploy(root, checkout, models, "--hat", "hifiberry-dacplusadc")
    assert r.returncode == 0, r.stdout + r.stderr
    (root / "proc/device-tree").mkdir(parents=True)
    (root / "proc/device-tree/model").write_bytes(b"Raspberry Pi 4 Model B Rev 1.5\0")
    (root / "proc/asound").mkdir(parents=True)
    (root / "proc/asound/cards").write_text(" 0 [sndrpihifiberry]: HifiberryDacp - snd_rpi_hifiberry_dacplusadc\n"
                                            "                      snd_rpi_hifiberry_dacplusadc\n")
    (root / "dev").mkdir()
    (root / "dev/spidev0.0").write_text("")
    jambox = root / "opt/jambox/current/venv/bin/jambox"
    d = subprocess.run([str(jambox), "--config", str(root / "etc/jambox/jambox.toml"), "doctor", "--root", str(root),
                        "--only", "hat", "--only", "pins", "--only", "spi", "--only", "mixer"],
                       capture_output=True, text=True)
    lines = d.stdout.splitlines()
    assert d.returncode == 0, d.stdout
    assert lines[0].startswith("OK       hat: HiFiBerry DAC+ ADC is card 0") and "/boot/firmware/config.txt" in lines[0]
    assert lines[1].startswith("SKIP     mixer:") and lines[2].startswith("OK       pins:")
    assert lines[3].startswith("OK       spi: /dev/spidev0.0")
    boot = (root / "boot/firmware/config.txt").read_text()
    assert boot.index("dtparam=audio=on") < boot.index("dtparam=audio=off")  # the later line wins on the Pi


STAND_IN_SYSTEMCTL = r'''#!/usr/bin/env bash
# A stand-in for systemctl on a box: logs each call; `restart` starts the installed release as systemd
# starts a Type=notify unit (jambox.appliance.ready: a real notify socket) and returns once it is READY
# or has failed; `is-active` answers from the last restart. FAKE_FAIL=1 makes the service fail to start.
echo "$*" >>"$FAKE_LOG"
state="$FAKE_ROOT/.service-state"
case "$1" in
    restart)
        current="$FAKE_ROOT/opt/jambox/current/venv/bin"
        if [ "${FAKE_FAIL:-0}" = 1 ] && [ "$(readlink "$FAKE_ROOT/opt/jambox/current")" != "$FAKE_GOOD" ]; then
            echo failed >"$state"; exit 1
        fi
        if "$current/python" -m jambox.appliance.ready --timeout 60 -- "$current/jambox" \
                --config "$FAKE_ROOT/etc/jambox/jambox.toml" run --device jack --duration 20 --state "$FAKE_ROOT/state.db"; then
            echo active >"$state"
        else
            echo failed >"$state"; exit 1
        fi ;;
    is-active) [ "$(cat "$state" 2>/dev/null)" = active ] ;;
    *) exit 0 ;;
esac
'''


@pytest.mark.slow
def test_with_systemctl_deploy_waits_for_ready_and_restarts_the_old_release_on_failure(tmp_path, models, checkout):
    if shutil.which("jackd") is None:
        pytest.fail("jackd is missing (apt install jackd2)")
    from jambox.audio.jackd import JackServer

    root = tmp_path / "box"
    root.mkdir()
    stand_in = tmp_path / "systemctl"
    stand_in.write_text(STAND_IN_SYSTEMCTL)
    stand_in.chmod(0o755)
    log = tmp_path / "systemctl.log"
    with JackServer(48000, 128, log_path=tmp_path / "jackd.log") as server:
        env = dict(server.env, FAKE_LOG=str(log), FAKE_ROOT=str(root))
        cmd = ["bash", str(checkout / "deploy.sh"), "--local", "--root", str(root), "--site-packages", SITE,
               "--python", BASE_PYTHON, "--systemctl", str(stand_in)]
        r = subprocess.run(cmd + ["--models", str(models)], capture_output=True, text=True, timeout=300,
                           cwd=checkout, env=env)
        assert r.returncode == 0, r.stdout + r.stderr
        assert log.read_text().splitlines() == ["daemon-reload", "enable --quiet jambox.service",
                                                "reset-failed jambox.service", "restart jambox.service",
                                                "is-active --quiet jambox.service"]
        assert "ready after " in r.stdout and "ready: release" in r.stdout
        good = os.readlink(root / "opt/jambox/current")

        # A new release that does not start: deploy.sh puts the old one back and restarts it.
        other = tmp_path / "models"
        shutil.copytree(models, other)
        (other / "NOTE.md").write_text("a retrained model\n")
        log.write_text("")
        r = subprocess.run(cmd + ["--models", str(other)], capture_output=True, text=True, timeout=300, cwd=checkout,
                           env=dict(env, FAKE_FAIL="1", FAKE_GOOD=good))
        assert r.returncode != 0 and "rolled back" in r.stderr
        assert os.readlink(root / "opt/jambox/current") == good
        calls = log.read_text().splitlines()
        assert calls[-3:] == ["restart jambox.service", "daemon-reload", "restart jambox.service"]
        assert (root / ".service-state").read_text().strip() == "active"  # the old release runs again
