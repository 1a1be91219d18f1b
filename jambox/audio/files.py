"""Bass input from files: any libsndfile format, or a MIDI file rendered with FluidSynth.

Whatever comes in (mono or stereo, any sample rate, 16/24/32-bit or float) comes out as float32
mono at the stream rate, so that offline commands feed the listener exactly what a live stream
would. A file that cannot be used raises one :class:`~jambox.errors.InputFileError` whose single
line names the file and says what was wrong with it.
"""

from __future__ import annotations

from math import gcd
from pathlib import Path

import numpy as np

from jambox.errors import InputFileError

MIDI_SUFFIXES = (".mid", ".midi")
DEFAULT_BASS_PROGRAM = 33  # GM "Electric Bass (finger)", 0-based
DEFAULT_SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
TAIL_S = 0.5  # rendered after the last MIDI event, so the last note can ring out


def load_bass(path, sample_rate: int, soundfont: str = DEFAULT_SOUNDFONT) -> np.ndarray:
    """The bass in ``path`` as float32 mono at ``sample_rate``."""
    p = Path(path)
    if not p.exists():
        raise InputFileError(f"{p}: not found")
    if not p.is_file():
        raise InputFileError(f"{p}: not a file")
    if p.stat().st_size == 0:
        raise InputFileError(f"{p}: the file is empty")
    if p.suffix.lower() in MIDI_SUFFIXES:
        return render_midi_file(p, sample_rate, soundfont)
    return read_audio(p, sample_rate)


def read_audio(path: Path, sample_rate: int) -> np.ndarray:
    """Decode with libsndfile, mix to mono, resample to ``sample_rate``."""
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as e:
        raise InputFileError(f"{path}: not an audio file libsndfile can read ({_one_line(e)})") from None
    if "(should be" in (info.extra_info or ""):  # libsndfile's note on a RIFF chunk cut short
        raise InputFileError(f"{path}: truncated: the header promises more audio than the file holds, not a whole file")
    try:
        data, file_rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as e:
        raise InputFileError(f"{path}: truncated or corrupt, not a whole {info.format} file ({_one_line(e)})") from None
    if data.shape[0] == 0:
        raise InputFileError(f"{path}: the file is empty (no audio frames)")
    mono = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    mono = np.nan_to_num(mono, nan=0.0, posinf=1.0, neginf=-1.0)
    return resample(mono, int(file_rate), sample_rate)


def resample(x: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Polyphase resampling (scipy's resample_poly) between integer rates; float32 out."""
    if from_rate <= 0:
        raise InputFileError(f"sample rate must be a positive number of Hz, not {from_rate}")
    if from_rate == to_rate:
        return np.ascontiguousarray(x, dtype=np.float32)
    from scipy.signal import resample_poly

    g = gcd(int(from_rate), int(to_rate))
    return resample_poly(x, to_rate // g, from_rate // g).astype(np.float32)


def render_midi_file(path: Path, sample_rate: int, soundfont: str = DEFAULT_SOUNDFONT) -> np.ndarray:
    import mido

    try:
        mid = mido.MidiFile(str(path))
    except (OSError, EOFError, ValueError, KeyError, IndexError) as e:
        raise InputFileError(f"{path}: not a MIDI file mido can read ({_one_line(e)})") from None
    if not any(m.type == "note_on" and m.velocity > 0 for m in mid):
        raise InputFileError(f"{path}: the MIDI file is empty (no notes)")
    return render_midi(mid, sample_rate, soundfont)


def render_midi(mid, sample_rate: int, soundfont: str = DEFAULT_SOUNDFONT, *, gain: float = 0.6,
                peak: float = 0.7, default_program: int = DEFAULT_BASS_PROGRAM, tail_s: float = TAIL_S) -> np.ndarray:
    """Render a mido.MidiFile's notes (drum channel excluded) with FluidSynth; float32 mono, peak-normalised.

    Each channel plays the program its program_change asks for, or ``default_program`` (a fingered
    bass) when the file names none. Events land on their exact sample: the synth is rendered in
    chunks between messages, not in real time.
    """
    from jambox.events import DRUM_CHANNEL
    from jambox.perform.fluid import FluidSynth

    synth = FluidSynth(soundfont, sample_rate, gain=gain, reverb=False)
    try:
        for ch in range(16):
            if ch != DRUM_CHANNEL:
                synth.program(ch, default_program)
        chunks = []
        rendered = 0
        elapsed = 0.0
        for msg in mid:  # mido yields messages with .time in seconds since the previous one
            elapsed += msg.time
            target = int(round(elapsed * sample_rate))
            if target > rendered:
                chunks.append(synth.render(target - rendered))
                rendered = target
            if getattr(msg, "channel", None) == DRUM_CHANNEL:
                continue
            if msg.type == "program_change":
                synth.program(msg.channel, msg.program)
            elif msg.type == "note_on" and msg.velocity > 0:
                synth.note_on(msg.channel, msg.note, msg.velocity)
            elif msg.type in ("note_off", "note_on"):
                synth.note_off(msg.channel, msg.note)
            elif msg.type == "control_change":
                synth.cc(msg.channel, msg.control, msg.value)
        chunks.append(synth.render(int(tail_s * sample_rate)))
    finally:
        synth.close()
    mono = np.concatenate(chunks).mean(axis=1)
    top = float(np.abs(mono).max())
    if top > 0 and peak is not None:
        mono *= peak / top
    return mono.astype(np.float32)


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return text[:160] if text else type(e).__name__
