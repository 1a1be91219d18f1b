"""The audio check: PortAudio replaced by a fake device list at the seam, and one real run through PortAudio and ALSA.

The check goes through jambox.audio.devices (what `jambox run` uses), so these tests also hold the
doctor to the run's device rules.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from jambox.audio import devices as audio_devices
from jambox.config import load_config
from jambox.doctor import OK, PROBLEM, Context
from jambox.doctor.audio import check_audio

HAT = {"name": "snd_rpi_hifiberry_dacplusadc: HiFiBerry DAC+ADC HiFi multicodec-0 (hw:0,0)",
       "max_input_channels": 2, "max_output_channels": 2}
HDMI = {"name": "vc4-hdmi-0: MAI PCM i2s-hifi-0 (hw:1,0)", "max_input_channels": 0, "max_output_channels": 2}
MONO_USB = {"name": "USB Audio Device: - (hw:2,0)", "max_input_channels": 1, "max_output_channels": 2}


class FakePortAudioError(Exception):
    pass


class FakeSoundDevice:
    """The part of sounddevice that jambox.audio.devices uses, over a fixed device list (one ALSA host API)."""

    PortAudioError = FakePortAudioError

    def __init__(self, devs, default=(0, 0), refuse=None):
        self._devs = [dict(d, hostapi=0, default_samplerate=48000.0) for d in devs]
        self.default = SimpleNamespace(device=list(default))
        self.refuse = refuse or (lambda kind, device, channels, rate: None)

    def query_hostapis(self, index=None):
        apis = ({"name": "ALSA", "devices": list(range(len(self._devs)))},)
        return apis if index is None else apis[index]

    def query_devices(self, device=None, kind=None):
        if kind is not None:
            i = self.default.device[0 if kind == "input" else 1]
            if i < 0:
                raise FakePortAudioError(f"Error querying device {i}")
            return self._devs[i]
        return list(self._devs) if device is None else self._devs[device]

    def _check(self, kind, device, channels, samplerate):
        why = self.refuse(kind, device, channels, samplerate)
        if why:
            raise FakePortAudioError(why)

    def check_input_settings(self, device=None, channels=None, dtype=None, samplerate=None, **kw):
        self._check("input", device, channels, samplerate)

    def check_output_settings(self, device=None, channels=None, dtype=None, samplerate=None, **kw):
        self._check("output", device, channels, samplerate)


@pytest.fixture
def portaudio(monkeypatch):
    """Put a fake PortAudio with these devices under jambox.audio.devices."""
    def install(*devs, default=(0, 0), refuse=None):
        fake = FakeSoundDevice(devs, default, refuse)
        monkeypatch.setattr(audio_devices, "_sd", lambda: fake)
        return fake
    return install


def ctx(**audio) -> Context:
    cfg = load_config(search=[])
    if audio:
        cfg = cfg.with_overrides({"audio": audio})
    return Context(config=cfg)


def test_all_well_with_the_default_devices(portaudio):
    portaudio(HAT, HDMI)
    c = check_audio(ctx())
    assert c.status == OK and "HiFiBerry" in c.message and "48000 Hz" in c.message


def test_no_devices_at_all(portaudio):
    portaudio(default=(-1, -1))
    c = check_audio(ctx())
    assert c.status == PROBLEM and "no audio devices found" in c.message and "--list-devices" in c.fix


def test_portaudio_missing(monkeypatch):
    from jambox.errors import AudioDeviceError

    def missing():
        raise AudioDeviceError("PortAudio is not available (PortAudio library not found); install libportaudio2")

    monkeypatch.setattr(audio_devices, "_sd", missing)
    c = check_audio(ctx())
    assert c.status == PROBLEM and "libportaudio2" in c.fix


def test_only_an_output_device_means_no_input(portaudio):
    portaudio(HDMI, default=(-1, 0))
    c = check_audio(ctx())
    assert c.status == PROBLEM and "no default input" in c.message


def test_the_configured_device_is_missing_and_the_fix_lists_the_real_ones(portaudio):
    portaudio(HAT, HDMI)
    c = check_audio(ctx(input_device="pisound"))
    assert c.status == PROBLEM and "'pisound'" in c.message and "audio.input_device = 'pisound'" in c.message
    assert "0: snd_rpi_hifiberry_dacplusadc" in c.fix
    assert "vc4-hdmi" not in c.fix  # HDMI has no input: not offered


def test_a_device_by_index_or_name(portaudio):
    portaudio(HDMI, HAT, MONO_USB)
    assert check_audio(ctx(input_device="1", output_device="hifiberry")).status == OK
    c = check_audio(ctx(input_device="0"))
    assert c.status == PROBLEM and "has no input channels" in c.message


def test_the_bass_channel_beyond_the_device(portaudio):
    portaudio(MONO_USB)
    c = check_audio(ctx(input_channel=2))
    assert c.status == PROBLEM and "only 1 input channel" in c.message and "1..1" in c.fix


def test_a_busy_device_points_at_the_running_service(portaudio):
    portaudio(HAT, refuse=lambda *a: "Device unavailable [PaErrorCode -9985]")
    c = check_audio(ctx())
    assert c.status == PROBLEM and "busy" in c.message and "systemctl stop jambox" in c.fix


def test_a_refused_rate(portaudio):
    portaudio(HAT, refuse=lambda kind, dev, ch, rate: "Invalid sample rate [PaErrorCode -9997]" if rate != 44100 else None)
    c = check_audio(ctx(sample_rate=96000))
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
    assert r.stdout.startswith("PROBLEM  audio: no input audio device matches 'pisound'")
    assert "jambox" in r.stdout.split("Fix:")[1]  # the fix names the devices that are there
