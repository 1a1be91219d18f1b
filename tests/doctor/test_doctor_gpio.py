"""The GPIO and SPI checks: the real panel code on gpiozero's MockFactory, and the machine's real (absent) GPIO."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from gpiozero import Button
from gpiozero.pins.mock import MockFactory, MockPWMPin

from jambox.config import load_config
from jambox.doctor import OK, PROBLEM, SKIP, Context
from jambox.doctor.gpio import check_gpio, check_spi

REPO = Path(__file__).resolve().parents[2]


def ctx(root: Path = Path("/"), **controls) -> Context:
    cfg = load_config(search=[]).with_overrides({"controls": {"gpio": True, "knobs": "none"} | controls})
    return Context(config=cfg, root=root)


@pytest.fixture
def factory():
    f = MockFactory(pin_class=MockPWMPin)
    yield f
    f.reset()


def test_gpio_off_is_skipped():
    c = check_gpio(Context(config=load_config(search=[])))
    assert c.status == SKIP


def test_every_pin_claimed_and_released(factory):
    c = check_gpio(ctx(), pin_factory=factory)
    assert c.status == OK and "claimed their pins and were released" in c.message
    keep = load_config(search=[]).gpio.keep_pin
    Button(keep, pin_factory=factory).close()  # released: the pin can be had again


def test_a_pin_held_by_another_program_is_busy(factory):
    cfg = load_config(search=[])
    holder = Button(cfg.gpio.softer_pin, pin_factory=factory)
    try:
        c = check_gpio(ctx(), pin_factory=factory)
    finally:
        holder.close()
    assert c.status == PROBLEM
    assert f"BCM {cfg.gpio.softer_pin}" in c.message and "systemctl stop jambox" in c.fix


def test_a_pin_given_twice_in_the_config(factory):
    cfg = load_config(search=[]).with_overrides({"controls": {"gpio": True, "knobs": "none"},
                                                "gpio": {"softer_pin": 17, "keep_pin": 17}})
    c = check_gpio(Context(config=cfg), pin_factory=factory)
    assert c.status == PROBLEM and "BCM 17" in c.message and "its own free BCM pin" in c.fix


def test_for_real_a_machine_without_gpio():
    """This machine has no GPIO chip: gpiozero's real factories all fail, and the doctor says so."""
    env = {k: v for k, v in os.environ.items() if k != "GPIOZERO_PIN_FACTORY"}
    if Path("/dev/gpiochip0").exists() or Path("/dev/gpiomem").exists():
        pytest.skip("this machine has GPIO; the no-GPIO case needs one without")
    cfg = Path(os.environ.get("TMPDIR", "/tmp")) / f"jambox-doctor-gpio-{os.getpid()}.toml"
    cfg.write_text('[controls]\ngpio = true\nknobs = "none"\n')
    try:
        r = subprocess.run([sys.executable, "-m", "jambox", "--config", str(cfg), "doctor", "--only", "gpio"],
                           capture_output=True, text=True, timeout=60, cwd=REPO, env=env)
    finally:
        cfg.unlink()
    assert r.returncode == 1
    assert r.stdout.startswith("PROBLEM  gpio:") and "no GPIO" in r.stdout and "lgpio" in r.stdout


# -- SPI for the MCP3008 -----------------------------------------------------------------------

def pi_root(root: Path, config_txt: str, spidev: bool) -> Path:
    (root / "proc/device-tree").mkdir(parents=True)
    (root / "proc/device-tree/model").write_bytes(b"Raspberry Pi 5 Model B Rev 1.0\0")
    (root / "boot/firmware").mkdir(parents=True)
    (root / "boot/firmware/config.txt").write_text(config_txt)
    (root / "dev").mkdir()
    if spidev:
        (root / "dev/spidev0.0").write_text("")
    return root


def test_spi_on_and_present(tmp_path):
    c = check_spi(ctx(pi_root(tmp_path, "dtparam=spi=on\n", True), knobs="mcp3008"))
    assert c.status == OK and "/dev/spidev0.0" in c.message


def test_spi_off_in_config_txt(tmp_path):
    c = check_spi(ctx(pi_root(tmp_path, "dtparam=audio=off\n", False), knobs="mcp3008"))
    assert c.status == PROBLEM and "dtparam=spi=on" in c.fix


def test_spi_configured_but_no_device_yet(tmp_path):
    c = check_spi(ctx(pi_root(tmp_path, "dtparam=spi=on\n", False), knobs="mcp3008"))
    assert c.status == PROBLEM and "reboot" in c.fix


def test_spi_not_needed_with_encoders(tmp_path):
    assert check_spi(ctx(pi_root(tmp_path, "", False), knobs="encoder")).status == SKIP
