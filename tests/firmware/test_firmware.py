"""firmware/: each HAT's boot lines, ALSA device, box config and pins agree with each other and with the doctor."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from jambox.config import load_config
from jambox.doctor import OK, PROBLEM, Context
from jambox.doctor.hat import HATS, check_pins, parse_config_txt

REPO = Path(__file__).resolve().parents[2]
FIRMWARE = REPO / "firmware"
HAT_IDS = [h.key for h in HATS]


def hat(key):
    return next(h for h in HATS if h.key == key)


def test_every_hat_the_doctor_knows_has_a_folder_and_no_folder_is_unknown():
    assert sorted(p.name for p in (FIRMWARE / "hats").iterdir()) == sorted(HAT_IDS)


@pytest.mark.parametrize("key", HAT_IDS)
def test_config_txt_loads_the_overlay_turns_onboard_audio_off_and_spi_on(key):
    boot = parse_config_txt((FIRMWARE / "hats" / key / "config.txt").read_text())
    assert boot.overlays == (hat(key).overlay,)
    assert boot.dtparams["audio"] == "off" and boot.dtparams["spi"] == "on"


@pytest.mark.parametrize("key", HAT_IDS)
def test_asound_conf_names_the_card_by_its_id(key):
    text = (FIRMWARE / "hats" / key / "asound.conf").read_text()
    cards = re.findall(r'hw:CARD=([^,"]+)', text)
    assert cards and all(c == hat(key).card_ids[0] for c in cards)
    assert re.search(r"^pcm\.jambox\s*\{", text, re.MULTILINE) and re.search(r"^ctl\.jambox\s*\{", text, re.MULTILINE)


@pytest.mark.parametrize("key", HAT_IDS)
def test_asound_conf_gives_alsa_and_portaudio_a_jambox_device(key, tmp_path):
    """For real: ALSA parses the file (as ~/.asoundrc) and PortAudio lists 'jambox' with inputs and outputs.

    The HAT's card is swapped for ALSA's null device, which this machine has; the rest of the file is as shipped.
    """
    text = (FIRMWARE / "hats" / key / "asound.conf").read_text()
    text = re.sub(r'"hw:CARD=[^"]+"', '"null"', text)
    text = re.sub(r"ctl\.jambox\s*\{[^}]*\}", "", text)  # a ctl needs the real card
    (tmp_path / ".asoundrc").write_text(text)
    code = ("import json, sounddevice as sd; "
            "print(json.dumps([(d['name'], d['max_input_channels'], d['max_output_channels']) for d in sd.query_devices()]))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, HOME=str(tmp_path)))
    devices = {name: (i, o) for name, i, o in json.loads(r.stdout)}
    assert "jambox" in devices, (r.stdout, r.stderr)
    ins, outs = devices["jambox"]
    assert ins >= 1 and outs >= 2
    assert "jambox" not in r.stderr.lower() or "error" not in r.stderr.lower(), r.stderr


@pytest.mark.parametrize("key", HAT_IDS)
def test_the_box_config_is_valid_and_opens_the_jambox_device(key):
    cfg = load_config(FIRMWARE / "hats" / key / "jambox.toml")
    assert cfg.audio.input_device == "jambox" and cfg.audio.output_device == "jambox"
    assert cfg.controls.gpio is True and cfg.controls.keyboard is False


@pytest.mark.parametrize("key", HAT_IDS)
def test_the_box_config_keeps_the_panel_clear_of_the_hats_pins(key):
    cfg = load_config(FIRMWARE / "hats" / key / "jambox.toml")
    c = check_pins(Context(config=cfg), hat(key))
    assert c.status == OK, c.message


def test_the_default_pins_would_clash_with_the_pisound():
    """Why the Pisound has its own pin set: the doctor would catch the defaults."""
    cfg = load_config(search=[]).with_overrides({"controls": {"gpio": True}})
    c = check_pins(Context(config=cfg), hat("pisound"))
    assert c.status == PROBLEM
    assert "gpio.keep_pin = 17 is used by the Blokas Pisound (button)" in c.message
    assert "SPI0 CE0" in c.message and "firmware/hats/pisound/jambox.toml" in c.fix


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed (apt install shellcheck)")
def test_line_in_script_is_shellcheck_clean():
    r = subprocess.run(["shellcheck", str(FIRMWARE / "hats/codeczero/line-in.sh")], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout


def test_line_in_script_sets_every_switch_the_doctor_checks():
    from jambox.doctor.hat import CODEC_ZERO_LINE_IN

    script = (FIRMWARE / "hats/codeczero/line-in.sh").read_text()
    for control in CODEC_ZERO_LINE_IN:
        assert f"control '{control}' on" in script


def test_fstab_example_mounts_the_state_directory():
    lines = [ln.split() for ln in (FIRMWARE / "readonly/fstab.example").read_text().splitlines()
             if ln.strip() and not ln.lstrip().startswith("#")]
    assert any(fields[1] == "/var/lib/jambox" and len(fields) == 6 for fields in lines)


def test_readme_links_the_wiring_table_and_names_every_hat():
    text = (FIRMWARE / "README.md").read_text()
    assert "(WIRING.md)" in text
    for h in HATS:
        assert h.overlay in text and f"hats/{h.key}/" in text


def test_the_default_pins_would_clash_with_the_codec_zero():
    cfg = load_config(search=[]).with_overrides({"controls": {"gpio": True}})
    c = check_pins(Context(config=cfg), hat("codeczero"))
    assert c.status == PROBLEM
    assert "gpio.footswitch_pin = 23 is used by the Raspberry Pi Codec Zero (status LED)" in c.message
    assert "gpio.softer_pin = 27" in c.message
