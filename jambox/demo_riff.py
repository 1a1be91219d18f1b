"""The bundled demo riff: its notes (known truth for tests) and how its files in jambox/data/ were made.

The bundled demo riff: two bars of E minor in 4/4 at 100 bpm (fingered bass, GM program 33),
played six times, with a little human timing and velocity. Run from the repository root:
    python -m jambox.demo_riff
"""

from __future__ import annotations

from pathlib import Path

import mido
import numpy as np
import soundfile as sf


BPM = 100.0
TPB = 480  # ticks per beat
STEP = TPB // 4  # a 16th
# (step in the two-bar riff, length in 16ths, MIDI pitch, velocity)
RIFF = [
    (0, 2, 28, 110), (3, 1, 28, 80), (4, 2, 40, 100), (7, 1, 38, 78), (8, 2, 28, 105), (10, 2, 31, 90),
    (12, 2, 33, 96), (14, 2, 35, 88),
    (16, 3, 36, 108), (19, 1, 36, 76), (20, 2, 35, 96), (22, 2, 33, 90), (24, 3, 31, 104), (27, 1, 33, 74),
    (28, 4, 35, 98),
]
REPEATS = 6


def riff_midi(seed: int = 7) -> mido.MidiFile:
    rng = np.random.default_rng(seed)
    events = []
    for r in range(REPEATS):
        for step, length, pitch, vel in RIFF:
            start = (r * 32 + step) * STEP + int(rng.normal(0, 6))
            end = start + length * STEP - 30
            v = int(np.clip(vel + rng.normal(0, 5), 30, 127))
            events.append((max(start, 0), "note_on", pitch, v))
            events.append((end, "note_off", pitch, 0))
    events.sort(key=lambda e: (e[0], e[1] == "note_on"))
    mid = mido.MidiFile(ticks_per_beat=TPB)
    track = mido.MidiTrack()
    track.name = "bass"
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(BPM)))
    track.append(mido.MetaMessage("time_signature", numerator=4, denominator=4))
    track.append(mido.Message("program_change", program=33, channel=0))
    now = 0
    for tick, kind, pitch, vel in events:
        track.append(mido.Message(kind, note=pitch, velocity=vel, channel=0, time=tick - now))
        now = tick
    mid.tracks.append(track)
    return mid


def render(mid: mido.MidiFile, sample_rate: int = 48000) -> np.ndarray:
    """The riff as float32 mono: the same FluidSynth renderer that reads MIDI input files."""
    from jambox.audio.files import render_midi

    return render_midi(mid, sample_rate, "/usr/share/sounds/sf2/FluidR3_GM.sf2", gain=0.6, peak=0.7)


DATA = Path(__file__).with_name("data")
MIDI_FILE = DATA / "demo-riff.mid"
AUDIO_FILE = DATA / "demo-riff.flac"
KEY = ("E", "minor")
LOOP_BARS = 2
METER = (4, 4)


if __name__ == "__main__":
    out = DATA
    mid = riff_midi()
    mid.save(out / "demo-riff.mid")
    audio = render(mid)
    sf.write(out / "demo-riff.flac", audio, 48000, subtype="PCM_16")
    print(f"wrote {out / 'demo-riff.mid'} and demo-riff.flac ({len(audio) / 48000:.1f} s)")
