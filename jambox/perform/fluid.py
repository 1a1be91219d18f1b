"""A thin wrapper over libfluidsynth (through pyfluidsynth): load a soundfont, play notes, render frames.

Used by the offline renderer of MIDI bass files and test clips, and by the live performer.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import numpy as np

from jambox.errors import SoundfontError
from jambox.events import DRUM_CHANNEL


class FluidSynth:
    """One FluidSynth instance rendering float32 stereo at ``sample_rate``; nothing goes to a sound card."""

    def __init__(self, soundfont: str | Path, sample_rate: int = 48000, gain: float = 0.5, reverb: bool = True):
        path = Path(soundfont)
        if not path.is_file():
            raise SoundfontError(
                f"soundfont {path} not found; install Debian's fluid-soundfont-gm "
                "(sudo apt install fluid-soundfont-gm) or set performer.soundfont to an .sf2 file"
            )
        try:
            # pyfluidsynth prints where it found the library to stdout when $CI is set; stdout carries
            # jambox's JSON output, so that line goes to stderr.
            with contextlib.redirect_stdout(sys.stderr):
                import fluidsynth
        except (ImportError, OSError) as e:  # pyfluidsynth raises ImportError when libfluidsynth is missing
            raise SoundfontError(
                f"FluidSynth is not available ({e}); install Debian's libfluidsynth3 (sudo apt install libfluidsynth3)"
            ) from None
        self.sample_rate = int(sample_rate)
        self._synth = fluidsynth.Synth(gain=float(gain), samplerate=float(sample_rate))
        self._synth.setting("synth.reverb.active", 1 if reverb else 0)
        self._synth.setting("synth.chorus.active", 0)
        self._sfid = self._synth.sfload(str(path))
        if self._sfid < 0:
            self._synth.delete()
            raise SoundfontError(f"FluidSynth could not load soundfont {path}; expected a valid .sf2 file")
        self.soundfont = path

    def program(self, channel: int, program: int, bank: int | None = None) -> None:
        """Select a GM program on a 0-based channel; the drum channel uses bank 128."""
        if not 0 <= channel <= 15:
            raise ValueError(f"channel must be in range 0..15, not {channel}")
        if not 0 <= program <= 127:
            raise ValueError(f"program must be in range 0..127, not {program}")
        if bank is None:
            bank = 128 if channel == DRUM_CHANNEL else 0
        self._synth.program_select(channel, self._sfid, bank, program)

    def note_on(self, channel: int, pitch: int, velocity: int) -> None:
        self._synth.noteon(channel, int(pitch), int(velocity))

    def note_off(self, channel: int, pitch: int) -> None:
        self._synth.noteoff(channel, int(pitch))

    def cc(self, channel: int, control: int, value: int) -> None:
        self._synth.cc(channel, int(control), int(value))

    def all_off(self) -> None:
        for ch in range(16):
            self._synth.cc(ch, 123, 0)  # all notes off

    def render(self, frames: int) -> np.ndarray:
        """The next ``frames`` frames as float32, shape (frames, 2), in -1..1."""
        if frames <= 0:
            return np.zeros((0, 2), np.float32)
        raw = self._synth.get_samples(frames)  # interleaved int16
        return (np.asarray(raw, dtype=np.float32) * (1.0 / 32768.0)).reshape(-1, 2)

    def close(self) -> None:
        if self._synth is not None:
            self._synth.delete()
            self._synth = None

    def __enter__(self) -> "FluidSynth":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
