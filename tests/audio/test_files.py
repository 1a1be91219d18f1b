import mido
import numpy as np
import pytest
import soundfile as sf

from jambox.audio.files import load_bass
from jambox.errors import InputFileError


def tone(sr, seconds=1.0, f=110.0):
    t = np.arange(int(sr * seconds)) / sr
    return (0.5 * np.sin(2 * np.pi * f * t)).astype(np.float32)


def dominant_hz(x, sr):
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return np.fft.rfftfreq(len(x), 1 / sr)[int(np.argmax(spec))]


@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24", "PCM_32", "FLOAT"])
@pytest.mark.parametrize("rate,channels", [(44100, 2), (48000, 1), (22050, 1), (96000, 2)])
def test_any_rate_depth_and_channels_come_out_mono_at_the_stream_rate(tmp_path, subtype, rate, channels):
    x = tone(rate)
    data = np.stack([x] * channels, axis=1) if channels > 1 else x
    f = tmp_path / f"bass-{rate}-{subtype}.wav"
    sf.write(f, data, rate, subtype=subtype)
    y = load_bass(f, 48000)
    assert y.dtype == np.float32 and y.ndim == 1
    assert abs(len(y) - 48000) <= 2
    assert abs(dominant_hz(y, 48000) - 110.0) < 2.0
    assert 0.45 < np.abs(y).max() < 0.55


def test_flac_is_read(tmp_path):
    f = tmp_path / "b.flac"
    sf.write(f, tone(48000), 48000, subtype="PCM_16")
    assert len(load_bass(f, 48000)) == 48000


@pytest.mark.parametrize("make,words", [
    (lambda p: None, "not found"),
    (lambda p: p.write_bytes(b""), "empty"),
    (lambda p: p.write_bytes(b"definitely not a sound file " * 20), "not"),
])
def test_unusable_files_name_the_file_in_one_line(tmp_path, make, words):
    f = tmp_path / "bad.wav"
    make(f)
    with pytest.raises(InputFileError) as e:
        load_bass(f, 48000)
    msg = str(e.value)
    assert str(f) in msg and words in msg.lower() and "\n" not in msg


def test_a_truncated_wav_is_reported(tmp_path):
    whole = tmp_path / "whole.wav"
    sf.write(whole, tone(48000, 2.0), 48000, subtype="PCM_16")
    cut = tmp_path / "cut.wav"
    cut.write_bytes(whole.read_bytes()[:50000])
    with pytest.raises(InputFileError, match="truncated"):
        load_bass(cut, 48000)


def test_a_truncated_flac_is_reported(tmp_path):
    whole = tmp_path / "whole.flac"
    noise = np.random.default_rng(0).normal(0, 0.1, 96000).astype(np.float32)
    sf.write(whole, noise, 48000, subtype="PCM_16")
    cut = tmp_path / "cut.flac"
    cut.write_bytes(whole.read_bytes()[:20000])
    with pytest.raises(InputFileError, match="not a whole"):
        load_bass(cut, 48000)


def midi_file(path, program=None, notes=((40, 0.0, 0.5),)):
    mid = mido.MidiFile(ticks_per_beat=480)
    tr = mido.MidiTrack()
    tr.append(mido.MetaMessage("set_tempo", tempo=500000))  # 120 bpm: 960 ticks a second
    if program is not None:
        tr.append(mido.Message("program_change", program=program, channel=0))
    now = 0
    for pitch, start, length in notes:
        on, off = int(start * 960), int((start + length) * 960)
        tr.append(mido.Message("note_on", note=pitch, velocity=100, time=on - now))
        tr.append(mido.Message("note_off", note=pitch, velocity=0, time=off - on))
        now = off
    mid.tracks.append(tr)
    mid.save(path)


def test_midi_is_rendered_with_its_bass_program(tmp_path):
    f = tmp_path / "riff.mid"
    midi_file(f, program=38, notes=((45, 0.0, 0.5), (45, 1.0, 0.5)))
    y = load_bass(f, 48000)
    assert abs(len(y) / 48000 - 2.0) < 0.05  # 1.5 s of notes + the ring-out tail
    assert np.abs(y[:24000]).max() > 0.3 and np.abs(y[int(0.75 * 48000):int(0.95 * 48000)]).max() < 0.05
    assert abs(dominant_hz(y[2400:22000], 48000) - 110.0) < 3.0 or abs(dominant_hz(y[2400:22000], 48000) - 220.0) < 5


def test_midi_without_a_program_uses_fingered_bass_and_differs_from_synth_bass(tmp_path):
    a, b = tmp_path / "a.mid", tmp_path / "b.mid"
    midi_file(a)
    midi_file(b, program=38)
    ya, yb = load_bass(a, 48000), load_bass(b, 48000)
    assert np.abs(ya).max() > 0.3 and not np.allclose(ya, yb, atol=1e-3)


def test_midi_without_notes_is_empty(tmp_path):
    f = tmp_path / "none.mid"
    midi_file(f, notes=())
    with pytest.raises(InputFileError, match="empty"):
        load_bass(f, 48000)


def test_not_midi_with_a_midi_name(tmp_path):
    f = tmp_path / "x.mid"
    f.write_bytes(b"RIFF nonsense" * 10)
    with pytest.raises(InputFileError, match="not a MIDI file"):
        load_bass(f, 48000)
