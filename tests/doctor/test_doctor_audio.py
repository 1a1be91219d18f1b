"""The audio check: fake PortAudio device lists at the seam, and one real run through sounddevice and ALSA."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from jambox.config import load_config
from jambox.doctor import OK, PROBLEM, Context
from jambox.doctor.audio import check_audio, select

HAT = {"name": "snd_rpi_hifiberry_dacplusadc: HiFiBerry DAC+ADC HiFi multicodec-0 (hw:0,0)",
       "max_input_channels": 2, "max_output_channels": 2}
HDMI = {"name": "vc4-hdmi-0: MAI PCM i2s-hifi-0 (hw:1,0)", "max_input_channels": 0, "max_output_channels": 2}
MONO_USB = {"name": "USB Audio Device: - (hw:2,0)", "max_input_channels": 1, "max_output_channels": 2}
ALIAS = {"name": "jambox", "max_input_channels": 2, "max_output_channels": 2}
ALIAS_NULL = {"name": "jambox_null", "max_input_channels": 128, "max_output_channels": 128}


def ctx(**audio) -> Context:
    cfg = load_config(search=[])
    if audio:
        cfg = cfg.with_overrides({"audio": audio})
    return Context(config=cfg)


def devices(*devs, default=(0, 0)):
    return lambda: (list(devs), default)


def no_probe(kind, index, channels, rate):
    pass


def test_all_well_with_the_default_devices():
    c = check_audio(ctx(), list_devices=devices(HAT, HDMI), probe=no_probe)
    assert c.status == OK and "HiFiBerry" in c.message and "48000 Hz" in c.message


def test_no_devices_at_all():
    c = check_audio(ctx(), list_devices=devices(default=(-1, -1)), probe=no_probe)
    assert c.status == PROBLEM and "no audio devices found" in c.message and "--list-devices" in c.fix


def test_portaudio_missing():
    def broken():
        raise OSError("PortAudio library not found")

    c = check_audio(ctx(), list_devices=broken, probe=no_probe)
    assert c.status == PROBLEM and "libportaudio2" in c.fix


def test_only_an_output_device_means_no_input():
    c = check_audio(ctx(), list_devices=devices(HDMI, default=(-1, 0)), probe=no_probe)
    assert c.status == PROBLEM and "no device has input channels" in c.message


def test_the_configured_device_is_missing_and_the_fix_lists_the_real_ones():
    c = check_audio(ctx(input_device="pisound"), list_devices=devices(HAT, HDMI), probe=no_probe)
    assert c.status == PROBLEM and "no input device matches 'pisound'" in c.message
    assert "audio.input_device" in c.fix and "0: snd_rpi_hifiberry_dacplusadc" in c.fix
    assert "vc4-hdmi" not in c.fix  # HDMI has no input: not offered


def test_the_bass_channel_beyond_the_device():
    c = check_audio(ctx(input_channel=2), list_devices=devices(MONO_USB), probe=no_probe)
    assert c.status == PROBLEM and "only 1 input channel" in c.message and "1..1" in c.fix


def test_select_by_index_substring_and_exact_name():
    devs = [HAT, HDMI, ALIAS, ALIAS_NULL]
    assert select("2", devs, 0, "input") == (2, "")
    assert select("1", devs, 0, "input")[0] is None  # HDMI has no input
    assert select("hifiberry", devs, 0, "input") == (0, "")
    assert select("jambox", devs, 0, "input") == (2, "")  # the exact name beats jambox_null
    idx, why = select("hdmi", devs, 0, "output")
    assert idx == 1
    idx, why = select("a", devs, 0, "input")
    assert idx is None and "several" in why


def test_a_busy_device_points_at_the_running_service():
    def busy(kind, index, channels, rate):
        raise RuntimeError("Error opening InputStream: Device unavailable [PaErrorCode -9985]")

    c = check_audio(ctx(), list_devices=devices(HAT), probe=busy)
    assert c.status == PROBLEM and "Device unavailable" in c.message and "systemctl stop jambox" in c.fix


def test_a_refused_rate():
    def picky(kind, index, channels, rate):
        if rate != 44100:
            raise ValueError("Invalid sample rate [PaErrorCode -9997]")

    c = check_audio(ctx(sample_rate=96000), list_devices=devices(HAT), probe=picky)
    assert c.status == PROBLEM and "96000 Hz" in c.message and "audio.sample_rate" in c.fix


ASOUNDRC = """\
pcm.jambox { type asym playback.pcm "jambox_null" capture.pcm "jambox_null" }
pcm.jambox_null { type null }
"""


REPO = Path(__file__).resolve().parents[2]


def doctor(tmp_path: Path, config_text: str, *args: str) -> subprocess.CompletedProcess:
    """`jambox doctor --only audio` for real: PortAudio and ALSA, with an ALSA null device as the sound card."""
    (tmp_path / ".asoundrc").write_text(ASOUNDRC)  # ALSA reads ~/.asoundrc
    cfg = tmp_path / "jambox.toml"
    cfg.write_text(config_text)
    return subprocess.run([sys.executable, "-m", "jambox", "--config", str(cfg), "doctor", "--only", "audio", *args],
                          capture_output=True, text=True, env=dict(os.environ, HOME=str(tmp_path)), timeout=60,
                          cwd=REPO)


def test_for_real_through_portaudio_and_alsa(tmp_path):
    r = doctor(tmp_path, '[audio]\ninput_device = "jambox"\noutput_device = "jambox"\n', "--json")
    check = json.loads(r.stdout)["checks"][0]
    assert r.returncode == 0 and check["status"] == "ok", check
    assert "input 'jambox'" in check["message"] and "output 'jambox'" in check["message"]


def test_for_real_a_missing_configured_device(tmp_path):
    r = doctor(tmp_path, '[audio]\ninput_device = "pisound"\n')
    assert r.returncode == 1
    assert r.stdout.startswith("PROBLEM  audio: no input device matches 'pisound'")
    assert "jambox" in r.stdout.split("Fix:")[1]  # the fix names the devices that are there
