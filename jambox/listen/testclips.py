"""Test clips of known truth: bass lines written as MIDI, rendered with FluidSynth's GM bass programs.

Shared by the listener's tests and ``jambox bench`` (listener area). A clip is decided by its
:class:`ClipSpec` alone (the seed included), so a figure can be reproduced from the spec. The lines
are built the way bass players build riffs: the chord root on the one, chord tones and passing notes
after it, an accent at the start of every beat group (3+3 in 6/8, 2+2+3 in 7/8), a loop of one, two
or four bars repeated. The truth (notes, beats, downbeats, key, loop) comes from the MIDI, not from
any analysis.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import mido
import numpy as np

BASS_PROGRAMS = tuple(range(32, 40))  # GM: acoustic, finger, pick, fretless, slap 1, slap 2, synth 1, synth 2
PROGRAM_NAMES = {32: "acoustic", 33: "finger", 34: "pick", 35: "fretless", 36: "slap1", 37: "slap2",
                 38: "synth1", 39: "synth2"}
METERS = ((4, 4), (3, 4), (6, 8), (5, 4), (7, 8), (7, 4))
DEGRADATIONS = ("clean", "noise", "hum50", "hum60", "dc", "clipping", "quiet")
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10)
TPB = 480
GROUPS = {(6, 8): (3, 3), (7, 8): (2, 2, 3), (7, 4): (4, 3), (5, 4): (3, 2)}


@dataclass(frozen=True)
class ClipSpec:
    seed: int
    meter: tuple[int, int] = (4, 4)
    bpm: float = 100.0  # notated beats per minute (quarters in x/4, eighths in x/8)
    program: int = 33
    degradation: str = "clean"
    swing: float = 0.5  # where the off-beat eighth falls (x/4 only); 0.5 straight
    behind_ms: float = 0.0  # every note this late against the grid
    drift: float = 0.0  # tempo change over the clip, e.g. 0.08 = 8% faster at the end
    loop_bars: int = 2
    bars: int = 12
    low_b: bool = False  # a 5-string line that goes down to B0
    jitter_ms: float = 5.0


@dataclass
class Clip:
    spec: ClipSpec
    audio: np.ndarray  # float32 mono at sample_rate
    sample_rate: int
    notes: list[tuple[float, float, int]]  # (onset s, offset s, MIDI pitch): the truth
    beats: list[float]
    downbeats: list[float]
    key: tuple[str, str]
    midi: mido.MidiFile = field(repr=False, default=None)

    @property
    def name(self) -> str:
        s = self.spec
        parts = [f"{s.meter[0]}-{s.meter[1]}", f"{s.bpm:.0f}bpm", PROGRAM_NAMES.get(s.program, str(s.program)),
                 s.degradation]
        if s.swing > 0.5:
            parts.append(f"swing{s.swing:.2f}")
        if s.behind_ms:
            parts.append(f"behind{s.behind_ms:.0f}ms")
        if s.drift:
            parts.append(f"drift{s.drift:+.0%}")
        if s.low_b:
            parts.append("B0")
        return "_".join(parts) + f"_s{s.seed}"


# -- the line -------------------------------------------------------------------------------
def riff(spec: ClipSpec) -> tuple[list[tuple[float, float, int, int]], int, str]:
    """One loop: (start beat, length in beats, pitch, velocity), the tonic pitch class and the mode."""
    rng = np.random.default_rng(spec.seed)
    tonic = int(rng.integers(0, 12))
    mode = "minor" if rng.random() < 0.5 else "major"
    scale = MINOR_SCALE if mode == "minor" else MAJOR_SCALE
    low = 23 if spec.low_b else 28
    root = low + (tonic - low) % 12  # the tonic's lowest octave on the instrument
    if spec.low_b:
        root = 23 + (tonic - 11) % 12  # B0..A#1
    num, den = spec.meter
    eighth_beat = den == 8
    groups = GROUPS.get(spec.meter, (num,))
    degrees_by_bar = [0] + [int(rng.choice([3, 4, 5, 0])) for _ in range(spec.loop_bars - 1)]
    notes = []
    for bar, degree in enumerate(degrees_by_bar):
        chord_root = root + scale[degree]
        if chord_root - root >= 7 and rng.random() < 0.5:
            chord_root -= 12
        chord_root = _in_range(chord_root, low, low + 14)
        third = scale[(degree + 2) % 7] - scale[degree]
        fifth = scale[(degree + 4) % 7] - scale[degree]
        third %= 12
        fifth %= 12
        tones = [0, fifth, 12, third + 12 if third < 7 else third, fifth - 12 if chord_root + fifth - 12 >= low else fifth]
        group_starts = np.cumsum((0,) + groups)[:-1]
        beat = 0
        while beat < num:
            start = bar * num + beat
            on_group = beat in group_starts
            if eighth_beat:
                pattern = _choose(rng, [([0.0], [1.0]), ([0.0, 0.5], [0.5, 0.5])], [0.85, 0.15])
                if not on_group and rng.random() < 0.15:
                    pattern = ([], [])
            else:
                options = [([0.0], [1.0]), ([0.0, 0.5], [0.5, 0.5]), ([0.5], [0.5]), ([0.0, 0.75], [0.75, 0.25]),
                           ([0.0, 0.25, 0.5, 0.75], [0.25] * 4)]
                weights = [0.3, 0.4, 0.1, 0.1, 0.1] if spec.swing <= 0.5 else [0.35, 0.5, 0.15, 0.0, 0.0]
                pattern = _choose(rng, options, weights)
                if beat == 0:
                    pattern = _choose(rng, options[:2], [0.5, 0.5])
            for k, (pos, length) in enumerate(zip(*pattern)):
                if beat == 0 and k == 0:
                    pitch, vel = chord_root, 112
                elif on_group and k == 0:
                    pitch, vel = chord_root + int(rng.choice([0, fifth, 12])), 98
                else:
                    if rng.random() < 0.25:  # a passing note of the scale
                        pitch = root + scale[int(rng.integers(0, 7))] + (12 if rng.random() < 0.4 else 0)
                    else:
                        pitch = chord_root + int(rng.choice(tones))
                    vel = 80
                pitch = _in_range(pitch, low, low + 26)
                vel = int(np.clip(vel + rng.normal(0, 6), 40, 127))
                notes.append((start + pos, length, pitch, vel))
            beat += 1
    return notes, tonic, mode


def _in_range(pitch: int, low: int, high: int) -> int:
    """Move a pitch by octaves into the instrument's range (clipping would change its pitch class)."""
    while pitch > high:
        pitch -= 12
    while pitch < low:
        pitch += 12
    return int(pitch)


def _choose(rng, options, weights):
    return options[int(rng.choice(len(options), p=np.array(weights) / np.sum(weights)))]


def _swung(pos: float, swing: float) -> float:
    frac = pos - np.floor(pos)
    if swing > 0.5 and abs(frac - 0.5) < 1e-6:
        return np.floor(pos) + swing
    return pos


# -- MIDI and the truth -----------------------------------------------------------------------
def clip_midi(spec: ClipSpec) -> tuple[mido.MidiFile, dict]:
    """The clip as MIDI (a tempo map for the drift) and its truth in seconds."""
    rng = np.random.default_rng(spec.seed + 7919)
    loop, tonic, mode = riff(spec)
    num, _ = spec.meter
    loop_beats = spec.loop_bars * num
    total_beats = spec.bars * num
    repeats = -(-spec.bars // spec.loop_bars)
    # beat times from the tempo map: tempo moves linearly from bpm to bpm * (1 + drift)
    bpms = spec.bpm * (1.0 + spec.drift * np.arange(total_beats + 1) / total_beats)
    beat_times = np.concatenate(([0.0], np.cumsum(60.0 / bpms[:-1])))

    def at(beat: float) -> float:
        i = int(np.clip(np.floor(beat), 0, total_beats - 1))
        return float(beat_times[i] + (beat - i) * (beat_times[i + 1] - beat_times[i]))

    events, truth = [], []
    for r in range(repeats):
        for start, length, pitch, vel in loop:
            b = r * loop_beats + start
            if b >= total_beats:
                continue
            t0 = at(_swung(b, spec.swing)) + spec.behind_ms / 1000.0 + rng.normal(0, spec.jitter_ms / 1000.0)
            t0 = max(t0, 0.0)
            t1 = at(min(_swung(b + length, spec.swing), total_beats)) - 0.03 * 60.0 / spec.bpm
            t1 = max(t1, t0 + 0.04)
            events.append((t0, 1, pitch, vel))
            events.append((t1, 0, pitch, 0))
            truth.append((t0, t1, pitch))
    events.sort(key=lambda e: (e[0], e[1]))
    tempo = mido.bpm2tempo(spec.bpm if spec.meter[1] == 4 else spec.bpm)
    mid = mido.MidiFile(ticks_per_beat=TPB)
    track = mido.MidiTrack()
    track.name = "bass"
    track.append(mido.MetaMessage("set_tempo", tempo=tempo))
    track.append(mido.MetaMessage("time_signature", numerator=num, denominator=spec.meter[1]))
    track.append(mido.Message("program_change", program=spec.program, channel=0))
    sec_per_tick = mido.tick2second(1, TPB, tempo)
    now = 0
    for t, on, pitch, vel in events:
        tick = int(round(t / sec_per_tick))
        kind = "note_on" if on else "note_off"
        track.append(mido.Message(kind, note=pitch, velocity=vel, channel=0, time=max(0, tick - now)))
        now = max(now, tick)
    mid.tracks.append(track)
    truth.sort()
    beats = [float(t) for t in beat_times[:total_beats]]
    downbeats = beats[::num]
    from jambox.events import PITCH_CLASSES

    return mid, {"notes": truth, "beats": beats, "downbeats": downbeats, "key": (PITCH_CLASSES[tonic], mode)}


def render_clip(spec: ClipSpec, sample_rate: int = 48000, soundfont: str | None = None) -> Clip:
    from jambox.audio.files import DEFAULT_SOUNDFONT, render_midi

    mid, truth = clip_midi(spec)
    audio = render_midi(mid, sample_rate, soundfont or DEFAULT_SOUNDFONT, default_program=spec.program)
    audio = degrade(audio, spec.degradation, sample_rate, np.random.default_rng(spec.seed + 104729))
    # MIDI ticks quantise the onsets (about 1 ms at these tempos): the truth is what was rendered
    t = 0.0
    rendered = []
    for msg in mid:
        t += msg.time
        if msg.type == "note_on" and msg.velocity > 0:
            rendered.append(t)
    notes = [(float(r), off, p) for r, (_, off, p) in zip(rendered, truth["notes"])]
    return Clip(spec, audio, sample_rate, notes, truth["beats"], truth["downbeats"], truth["key"], mid)


# -- what a real input does to the signal -----------------------------------------------------
def degrade(x: np.ndarray, kind: str, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """Noise at 25 dB SNR, mains hum (50/60 Hz and harmonics, -30 dB), DC offset, hard clipping, -20 dB."""
    x = x.astype(np.float64)
    t = np.arange(len(x)) / sample_rate
    rms = float(np.sqrt(np.mean(x ** 2))) or 1e-3
    if kind == "clean":
        pass
    elif kind == "noise":
        x = x + rng.normal(0, rms * 10 ** (-25 / 20), len(x))
    elif kind in ("hum50", "hum60"):
        f = 50.0 if kind == "hum50" else 60.0
        hum = sum(a * np.sin(2 * np.pi * f * k * t + rng.uniform(0, 6.28)) for k, a in ((1, 1.0), (2, 0.5), (3, 0.35), (5, 0.2)))
        x = x + hum * rms * 10 ** (-30 / 20) / 0.6
    elif kind == "dc":
        x = x + 0.25
    elif kind == "clipping":
        x = np.clip(x * 4.0, -1.0, 1.0)
    elif kind == "quiet":
        x = x * 0.1
    else:
        raise ValueError(f"degradation must be one of {', '.join(DEGRADATIONS)}, not {kind!r}")
    return x.astype(np.float32)


def hum_only(seconds: float, sample_rate: int = 48000, mains: float = 50.0, level: float = 0.02) -> np.ndarray:
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    return (level * (np.sin(2 * np.pi * mains * t) + 0.5 * np.sin(4 * np.pi * mains * t)
                     + 0.3 * np.sin(6 * np.pi * mains * t))).astype(np.float32)


def clicks(seconds: float, sample_rate: int = 48000, every_s: float = 0.5, level: float = 0.8) -> np.ndarray:
    x = np.zeros(int(seconds * sample_rate), np.float32)
    for i in range(int(0.1 * sample_rate), len(x), int(every_s * sample_rate)):
        x[i:i + 24] = level * np.hanning(24)
    return x


# -- the sets ----------------------------------------------------------------------------------
def clip_set(quick: bool = False, base_seed: int = 1000) -> list[ClipSpec]:
    """The scored set: every program with every degradation; meters, tempi and feels spread over it.

    ``base_seed`` 1000 is the reported set; tuning uses other seeds (e.g. 0), so that figures are
    not tuned on the clips they are reported on.
    """
    rng = np.random.default_rng(base_seed)
    specs = []
    i = 0
    programs = BASS_PROGRAMS if not quick else (33, 36)
    degradations = DEGRADATIONS if not quick else ("clean", "hum50")
    for program in programs:
        for degradation in degradations:
            meter = METERS[i % len(METERS)]
            feel = i % 4  # 0 straight on the beat, 1 swung, 2 behind, 3 drifting
            spec = ClipSpec(
                seed=base_seed + i,
                meter=meter,
                bpm=float(np.round(rng.uniform(70, 160))),
                program=program,
                degradation=degradation,
                swing=float(rng.choice([0.6, 0.667])) if feel == 1 and meter[1] == 4 else 0.5,
                behind_ms=float(rng.choice([15.0, 25.0])) if feel == 2 else 0.0,
                drift=float(rng.choice([0.08, -0.08])) if feel == 3 else 0.0,
                loop_bars=int(rng.choice([1, 2, 2, 4])) if meter[0] <= 4 else int(rng.choice([1, 2])),
                low_b=bool(i % 5 == 4),
            )
            bars = max(8, 4 * spec.loop_bars, int(np.ceil(24.0 / (60.0 / spec.bpm * meter[0]))))
            specs.append(replace(spec, bars=min(bars, 24)))
            i += 1
    return specs
