"""The FluidSynth wrapper: real sound from the GM soundfont, clear errors, and a clean stdout."""

import os
import subprocess
import sys

import numpy as np
import pytest

from jambox.errors import SoundfontError
from jambox.perform.fluid import FluidSynth

SF2 = "/usr/share/sounds/sf2/FluidR3_GM.sf2"


def test_a_note_sounds_and_stops():
    with FluidSynth(SF2, 48000, reverb=False) as synth:
        synth.program(0, 33)
        synth.note_on(0, 40, 100)
        on = synth.render(4800)
        synth.note_off(0, 40)
        synth.render(48000)
        after = synth.render(4800)
    assert on.shape == (4800, 2) and on.dtype == np.float32
    assert np.abs(on).max() > 0.01 and np.abs(after).max() < 1e-3


def test_a_missing_soundfont_says_how_to_get_one(tmp_path):
    with pytest.raises(SoundfontError, match="fluid-soundfont-gm"):
        FluidSynth(tmp_path / "none.sf2")


def test_nothing_reaches_stdout_even_under_ci():
    """pyfluidsynth prints where it found its library when $CI is set; jambox's stdout is its JSON."""
    code = f"from jambox.perform.fluid import FluidSynth; FluidSynth({SF2!r}).close()"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "CI": "true"})
    assert out.returncode == 0, out.stderr
    assert out.stdout == ""
