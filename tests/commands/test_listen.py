import json

from jambox.cli import main
from jambox.demo_riff import AUDIO_FILE, MIDI_FILE


def test_listen_json_has_every_field(capsys):
    assert main(["listen", str(AUDIO_FILE), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("sample_rate", "notes", "beats", "downbeats", "tempo_bpm", "meter", "key", "loop_bars",
                "section_starts", "swing", "offset_ms"):
        assert key in out
    assert out["sample_rate"] == 48000 and abs(out["tempo_bpm"] - 100) < 2
    assert out["meter"] == [4, 4] and out["key"] == {"tonic": "E", "mode": "minor"} and out["loop_bars"] == 2
    n = out["notes"][5]
    assert set(n) == {"onset", "offset", "pitch", "velocity", "emitted_at"}
    assert n["emitted_at"] >= n["onset"] and n["offset"] > n["onset"]
    assert set(out["downbeats"]) <= set(out["beats"])


def test_listen_in_plain_words_and_from_midi(capsys):
    assert main(["listen", str(MIDI_FILE)]) == 0
    text = capsys.readouterr().out
    assert "bpm" in text and "4/4" in text and "E minor" in text and "2-bar loop" in text


def test_listen_to_a_bad_file_is_one_line(tmp_path, capsys):
    f = tmp_path / "x.wav"
    f.write_bytes(b"")
    assert main(["listen", str(f)]) == 3
    err = capsys.readouterr().err.strip()
    assert str(f) in err and "empty" in err and len(err.splitlines()) == 1
