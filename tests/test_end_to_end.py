"""The whole chain, as a user runs it: `jambox demo` and `jambox accompany` in a subprocess."""

import json
import subprocess
import sys

import mido
import numpy as np
import pytest
import soundfile as sf
from scipy.signal import butter, sosfilt

from jambox.demo_riff import AUDIO_FILE, MIDI_FILE

pytestmark = pytest.mark.slow


def jambox(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "jambox", *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def high_band_energy(x: np.ndarray, sr: int, times: list[float], win: float = 0.06) -> np.ndarray:
    """Energy above 3 kHz (cymbals, snare, the keys' attack; almost none of a bass) after each time."""
    hp = sosfilt(butter(4, 3000, "highpass", fs=sr, output="sos"), x)
    return np.array([np.sum(hp[int(t * sr):int((t + win) * sr)] ** 2) for t in times])


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    d = tmp_path_factory.mktemp("demo")
    out = jambox("demo", "--json", "--seed", "3", cwd=d)
    assert out.returncode == 0, out.stderr
    return d, json.loads(out.stdout)


def test_demo_hears_the_riff(demo):
    _, summary = demo
    heard = summary["heard"]
    assert abs(heard["tempo_bpm"] - 100.0) < 2.0
    assert heard["meter"] == [4, 4]
    assert heard["key"] == {"tonic": "E", "mode": "minor"}
    assert heard["loop_bars"] == 2


def test_demo_wav_has_accompaniment_at_the_beats(demo):
    d, summary = demo
    mix, sr = sf.read(d / "jambox-demo.wav", dtype="float32")
    assert mix.ndim == 2 and sr == 48000
    bass, bsr = sf.read(AUDIO_FILE, dtype="float32")
    assert len(mix) >= len(bass)
    join = [j["t"] for j in summary["joins"] if j["event"] == "joined"][0]
    beat = 60.0 / summary["heard"]["tempo_bpm"]
    listened = json.loads(jambox("listen", str(AUDIO_FILE), "--json").stdout)
    beats = [b for b in listened["beats"] if b > join + 0.01]
    before = [b for b in listened["beats"] if b < join - beat]
    assert len(beats) >= 8 and len(before) >= 4
    mono = mix.mean(axis=1)
    with_box = high_band_energy(mono, sr, beats)
    bass_alone = high_band_energy(mono, sr, before)
    assert np.median(with_box) > 20 * max(np.median(bass_alone), 1e-9)


def test_demo_midi_has_drums_and_keys_inside_the_input(demo):
    d, summary = demo
    mid = mido.MidiFile(d / "jambox-demo.mid")
    names = [t.name for t in mid.tracks]
    assert "drums" in names and "keys" in names
    duration = sf.info(AUDIO_FILE).duration
    for track in mid.tracks:
        notes = [m for m in track if m.type == "note_on" and m.velocity > 0]
        if track.name == "drums":
            assert notes and all(m.channel == 9 for m in notes)
        if track.name == "keys":
            assert notes and all(m.channel != 9 for m in notes)
    t = 0.0
    for msg in mid:  # seconds
        t += msg.time
        if msg.type == "note_on" and msg.velocity > 0:
            assert t <= duration + 1e-3
    assert summary["parts"]["drums"]["events"] > 0 and summary["parts"]["keys"]["events"] > 0


def test_accompany_a_stereo_44k_wav_and_a_midi_file(tmp_path):
    bass, sr = sf.read(AUDIO_FILE, dtype="float32")
    from scipy.signal import resample_poly

    stereo = np.stack([resample_poly(bass, 147, 160)] * 2, axis=1)
    wav = tmp_path / "riff.wav"
    sf.write(wav, stereo, 44100, subtype="PCM_24")
    out = jambox("accompany", str(wav), "--json", "--seed", "5", "--state", str(tmp_path / "s.db"),
                 "--out-wav", str(tmp_path / "o.wav"), "--out-midi", str(tmp_path / "o.mid"))
    assert out.returncode == 0, out.stderr
    s = json.loads(out.stdout)
    assert abs(s["heard"]["tempo_bpm"] - 100) < 2 and s["parts"]["drums"]["events"] > 0
    assert (tmp_path / "o.wav").stat().st_size > 0 and (tmp_path / "o.mid").stat().st_size > 0
    out = jambox("accompany", str(MIDI_FILE), "--json", "--seed", "5", "--state", str(tmp_path / "s.db"))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["parts"]["keys"]["events"] > 0


@pytest.mark.parametrize("content,expect", [
    (b"", "empty"),
    (b"this is not audio at all" * 10, "not"),
])
def test_bad_input_is_one_clear_line(tmp_path, content, expect):
    f = tmp_path / "bad.wav"
    f.write_bytes(content)
    out = jambox("accompany", str(f), "--json", "--state", str(tmp_path / "s.db"))
    assert out.returncode != 0
    assert "Traceback" not in out.stderr
    assert str(f) in out.stderr and expect in out.stderr.lower()
    assert len(out.stderr.strip().splitlines()) == 1


def test_unknown_control_and_missing_model_are_clear(tmp_path):
    out = jambox("accompany", str(MIDI_FILE), "--set", "energi=0.3", "--state", str(tmp_path / "s.db"))
    assert out.returncode != 0 and "did you mean 'energy'" in out.stderr and "Traceback" not in out.stderr
    out = jambox("accompany", str(MIDI_FILE), "--set", "generator.model=/nowhere/model.onnx",
                 "--state", str(tmp_path / "s.db"))
    assert out.returncode != 0 and "/nowhere/model.onnx" in out.stderr and "Traceback" not in out.stderr
