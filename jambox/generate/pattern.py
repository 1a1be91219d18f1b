"""What the box played lately, and the patterns the player kept.

:class:`History` is a fixed ring of the last :data:`HISTORY_STEPS` steps (drum hits with velocity,
offset and the probability they were drawn with; the chord, voicing and keys attack), so keeping a
pattern costs nothing while playing and the memory never grows.

A kept pattern is one loop of the riff, step by step, in a JSON-able dict (it is stored in SQLite
by the memory and recalled in a later session)::

    {"version": 1, "meter": [4, 4], "loop_steps": 32,
     "bass": [[step, pitch_rel], ...],           # the riff under it, to line a recall up with the loop
     "drums": [[[voice, velocity, offset, p, u], ...], ...],   # per step: the hits
     "keys": [[chord, voicing, hit, velocity, p, u], ...]}     # per step; chord key-relative (0 = none)

velocity 0..1, offset in steps, p the probability the hit was drawn with (a hit that was unlikely is
the first to go when the part is played softer), u a fixed random number per hit, so thinning drops
the same hits every time round. Either part may be missing (the other keeps being generated).

:class:`KeptPattern` holds a pattern as arrays for the generator's per-step lookup.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jambox.errors import ValueRangeError
from jambox.generate.features import N_CHORDS, N_DRUMS, N_VOICINGS

VERSION = 1
HISTORY_STEPS = 512  # 16 bars of 8/4-sized bars, more than the longest loop the listener reports
PARTS = ("drums", "keys")


class History:
    """The last ``capacity`` steps played, by absolute step index, in preallocated arrays."""

    def __init__(self, capacity: int = HISTORY_STEPS):
        self.capacity = capacity
        self.hits = np.zeros((capacity, N_DRUMS), bool)
        self.velocity = np.zeros((capacity, N_DRUMS), np.float32)
        self.offset = np.zeros((capacity, N_DRUMS), np.float32)
        self.prob = np.zeros((capacity, N_DRUMS), np.float32)
        self.u = np.zeros((capacity, N_DRUMS), np.float32)
        self.chord = np.zeros(capacity, np.int16)
        self.voicing = np.zeros(capacity, np.int8)
        self.keys_hit = np.zeros(capacity, bool)
        self.keys_velocity = np.zeros(capacity, np.float32)
        self.keys_prob = np.zeros(capacity, np.float32)
        self.keys_u = np.zeros(capacity, np.float32)
        self.loop_pos = np.full(capacity, -1, np.int32)  # step within the riff's loop, -1 unknown
        self.written = 0

    def clear(self) -> None:
        self.written = 0
        self.loop_pos[:] = -1

    def slot(self) -> int:
        """The row for the next step (overwriting the oldest); call :meth:`commit` when filled."""
        return self.written % self.capacity

    def commit(self) -> None:
        self.written += 1

    def loop_ago(self, loop_steps: int, loop_pos: int) -> int | None:
        """The row of the step one loop before the one being written, if it sat at the same place in
        the loop (None in the first loop, or after the loop changed)."""
        if self.written < loop_steps or loop_steps > self.capacity:
            return None
        row = (self.written - loop_steps) % self.capacity
        return row if self.loop_pos[row] == loop_pos else None

    def pattern(self, loop_steps: int, meter: tuple[int, int], bass: list[list[int]] | None = None) -> dict | None:
        """The latest occurrence of every step of the loop, as a kept-pattern dict (None if nothing
        has been played yet). Steps of the loop not played recently are left empty."""
        if loop_steps < 1 or loop_steps > self.capacity:
            raise ValueRangeError(f"a kept loop must have 1..{self.capacity} steps, not {loop_steps}")
        n = min(self.written, self.capacity)
        if n == 0:
            return None
        drums: list[list[list[float]]] = [[] for _ in range(loop_steps)]
        keys: list[list[float]] = [[0, 0, 0, 0.0, 0.0, 0.0] for _ in range(loop_steps)]
        seen = np.zeros(loop_steps, bool)
        for back in range(n):  # newest first
            row = (self.written - 1 - back) % self.capacity
            pos = int(self.loop_pos[row])
            if pos < 0 or pos >= loop_steps or seen[pos]:
                continue
            seen[pos] = True
            drums[pos] = [
                [v, round(float(self.velocity[row, v]), 3), round(float(self.offset[row, v]), 3),
                 round(float(self.prob[row, v]), 3), round(float(self.u[row, v]), 3)]
                for v in np.nonzero(self.hits[row])[0].tolist()
            ]
            keys[pos] = [int(self.chord[row]), int(self.voicing[row]), int(self.keys_hit[row]),
                         round(float(self.keys_velocity[row]), 3), round(float(self.keys_prob[row]), 3),
                         round(float(self.keys_u[row]), 3)]
            if seen.all():
                break
        if not seen.any():
            return None
        return {"version": VERSION, "meter": list(meter), "loop_steps": loop_steps, "bass": bass or [],
                "drums": drums, "keys": keys}


def part_of(pattern: dict, part: str) -> dict:
    """The pattern with only ``part`` (what the memory stores per part)."""
    if part not in PARTS:
        raise ValueRangeError(f"part must be one of {', '.join(PARTS)}, not {part!r}")
    out = {k: v for k, v in pattern.items() if k not in PARTS}
    out[part] = pattern[part]
    return out


def pattern_qualities(pattern: dict) -> dict[str, dict[str, float]]:
    """What a kept pattern is like, measured as training measures a bar (features'
    hindsight descriptors): {"drums": {"syncopation", "busyness"}, "keys": {"keys_density"}}. The
    memory learns the player's taste from these."""
    from jambox.generate.features import drum_bar_controls, meter_for

    out: dict[str, dict[str, float]] = {}
    L = int(pattern["loop_steps"])
    if "drums" in pattern:
        try:
            meter = meter_for(*pattern["meter"])
        except ValueRangeError:
            meter = meter_for(4, 4)
        hits = np.zeros((L, N_DRUMS), bool)
        vel = np.zeros((L, N_DRUMS), np.float32)
        for s, step in enumerate(pattern["drums"]):
            for voice, v, *_ in step:
                hits[s, voice] = True
                vel[s, voice] = v
        bars = [drum_bar_controls(hits[b:b + meter.bar_steps], vel[b:b + meter.bar_steps], meter)
                for b in range(0, L - meter.bar_steps + 1, meter.bar_steps)] or [drum_bar_controls(hits, vel, meter)]
        out["drums"] = {"syncopation": round(float(np.mean([b[1] for b in bars])), 4),
                        "busyness": round(float(np.mean([b[2] for b in bars])), 4)}
    if "keys" in pattern:
        out["keys"] = {"keys_density": round(sum(1 for k in pattern["keys"] if k[2]) / max(1, L), 4)}
    return out


def merge_parts(patterns: list[dict]) -> dict:
    """One pattern from per-part patterns of the same loop (the inverse of :func:`part_of`)."""
    merged: dict = {}
    for p in patterns:
        merged.update(p)
    return merged


@dataclass
class KeptPattern:
    """A kept pattern as arrays, indexed by step within the loop."""

    loop_steps: int
    meter: tuple[int, int]
    drums: bool
    keys: bool
    hits: np.ndarray  # [L, N_DRUMS] bool
    velocity: np.ndarray
    offset: np.ndarray
    prob: np.ndarray
    u: np.ndarray
    chord: np.ndarray  # [L] int
    voicing: np.ndarray
    keys_hit: np.ndarray
    keys_velocity: np.ndarray
    keys_prob: np.ndarray
    keys_u: np.ndarray
    bass: tuple[tuple[int, int], ...]
    source: dict

    @classmethod
    def from_dict(cls, d: dict) -> "KeptPattern":
        """Validate a pattern dict (possibly from the memory); a clear error names what is wrong."""
        def bad(what: str) -> ValueRangeError:
            return ValueRangeError(f"kept pattern is not usable: {what}")

        if not isinstance(d, dict):
            raise bad(f"expected a dict, not {type(d).__name__}")
        if d.get("version") != VERSION:
            raise bad(f"version must be {VERSION}, not {d.get('version')!r}")
        L = d.get("loop_steps")
        if not isinstance(L, int) or not 1 <= L <= HISTORY_STEPS:
            raise bad(f"loop_steps must be an integer in 1..{HISTORY_STEPS}, not {L!r}")
        meter = d.get("meter")
        if not (isinstance(meter, (list, tuple)) and len(meter) == 2 and all(isinstance(m, int) for m in meter)):
            raise bad(f"meter must be [numerator, denominator], not {meter!r}")
        if "drums" not in d and "keys" not in d:
            raise bad("it has neither drums nor keys")
        hits = np.zeros((L, N_DRUMS), bool)
        vel = np.zeros((L, N_DRUMS), np.float32)
        off = np.zeros((L, N_DRUMS), np.float32)
        prob = np.ones((L, N_DRUMS), np.float32)
        u = np.zeros((L, N_DRUMS), np.float32)
        chord = np.zeros(L, np.int64)
        voicing = np.zeros(L, np.int64)
        khit = np.zeros(L, bool)
        kvel = np.zeros(L, np.float32)
        kprob = np.ones(L, np.float32)
        ku = np.zeros(L, np.float32)
        try:
            if "drums" in d:
                if len(d["drums"]) != L:
                    raise bad(f"drums has {len(d['drums'])} steps, expected {L}")
                for s, step in enumerate(d["drums"]):
                    for voice, v, o, p, uu in step:
                        if not 0 <= int(voice) < N_DRUMS:
                            raise bad(f"drum voice must be in 0..{N_DRUMS - 1}, not {voice!r}")
                        hits[s, voice] = True
                        vel[s, voice] = min(1.0, max(0.0, float(v)))
                        off[s, voice] = min(0.5, max(-0.5, float(o)))
                        prob[s, voice] = min(1.0, max(1e-3, float(p)))
                        u[s, voice] = float(uu)
            if "keys" in d:
                if len(d["keys"]) != L:
                    raise bad(f"keys has {len(d['keys'])} steps, expected {L}")
                for s, (c, vo, h, v, p, uu) in enumerate(d["keys"]):
                    if not 0 <= int(c) < N_CHORDS or not 0 <= int(vo) < N_VOICINGS:
                        raise bad(f"chord must be in 0..{N_CHORDS - 1} and voicing in 0..{N_VOICINGS - 1}, "
                                  f"not {c!r}, {vo!r}")
                    chord[s], voicing[s], khit[s] = int(c), int(vo), bool(h)
                    kvel[s] = min(1.0, max(0.0, float(v)))
                    kprob[s] = min(1.0, max(1e-3, float(p)))
                    ku[s] = float(uu)
            bass = tuple((int(s), int(p)) for s, p in d.get("bass", ()))
        except (TypeError, ValueError) as e:
            if isinstance(e, ValueRangeError):
                raise
            raise bad(f"a step is malformed ({e})") from None
        return cls(L, (meter[0], meter[1]), "drums" in d, "keys" in d, hits, vel, off, prob, u, chord, voicing,
                   khit, kvel, kprob, ku, bass, d)


def best_rotation(kept: tuple[tuple[int, int], ...], heard: list[tuple[int, int]], loop_steps: int,
                  granularity: int = 1) -> int:
    """The rotation r (steps, a multiple of ``granularity``) such that the kept pattern's step s lines
    up with the heard loop's step s + r: the best match of the two riffs' onsets (pitch agreeing
    counts double). 0 when there is nothing to compare."""
    if not kept or not heard:
        return 0
    score = np.zeros(loop_steps, np.float32)
    heard_at = {s % loop_steps: p for s, p in heard}
    for r in range(0, loop_steps, max(1, granularity)):
        total = 0.0
        for s, p in kept:
            q = heard_at.get((s + r) % loop_steps)
            if q is not None:
                total += 2.0 if q == p else 1.0
        score[r] = total
    return int(np.argmax(score))  # ties go to the smallest rotation
