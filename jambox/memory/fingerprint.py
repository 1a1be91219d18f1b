"""Riff fingerprints: the same riff gives the same fingerprint in any key, at any tempo, from any bar.

A riff is reduced to what makes it that riff: where its notes fall on the 16th grid of one loop, and
each note's pitch class relative to the loop's first note. Time is measured in grid steps (so tempo
drops out), pitch as an interval to the first note (so transposition drops out) and by pitch class
(so an octave jump, or the pitch tracker's octave error on a low string, does not make another
riff), the loop is rotated to a canonical start (so it does not matter on which beat the listener
began: the "first" note is the one that gives the smallest rotation), and a loop that is two copies
of a shorter one is reduced to the shorter (so a 2-bar riff heard as 4 bars is the same riff).

The fingerprint string carries both an exact key and the quantised features themselves::

    r1:4/4:2:9f3a61c0b2de:AAAAAgAHBAw...
    |  |   | |            `- base64 of (step: uint16, pitch class 0..11: uint8) per note
    |  |   | `- hash of the canonical features: equal riffs, equal hash
    |  |   `- loop length in bars (after reduction)
    |  `- meter
    `- format version

so a riff played slightly differently (a note moved by a 16th, one pitch changed) still matches by
:func:`riff_similarity`, computed from the strings alone; nothing else has to be stored beside them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import struct
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from jambox.errors import ValueRangeError
from jambox.events import Note

FORMAT = "r1"
STEPS_PER_WHOLE = 16  # the 16th-note grid
MAX_LOOP_BARS = 16
SIMILAR = 0.75  # riff_similarity at or above this counts as "the same riff, played a bit differently"


@dataclass(frozen=True, slots=True)
class RiffFeatures:
    """A riff on its grid: ``steps`` onsets in ``0..loop_steps-1``; ``pitches``: pitch classes 0..11
    relative to the note on step 0."""

    meter: tuple[int, int]
    bars: int
    steps_per_bar: int
    steps: tuple[int, ...]
    pitches: tuple[int, ...]

    @property
    def loop_steps(self) -> int:
        return self.bars * self.steps_per_bar


def steps_per_bar(meter: tuple[int, int]) -> int:
    num, den = meter
    return num * STEPS_PER_WHOLE // den


def riff_fingerprint(notes: list[Note], beat_period: float, loop_bars: int, meter: tuple[int, int]) -> str:
    """The fingerprint of the riff in ``notes`` (the latest loop of them is used).

    ``beat_period`` is samples per notated beat (as in :class:`jambox.events.Heard`), ``loop_bars``
    the loop's length in bars, ``meter`` e.g. (4, 4) or (6, 8). Raises ValueRangeError for arguments
    out of range and for fewer than two notes (there is no riff to recognise in one note).
    """
    return encode(riff_features(notes, beat_period, loop_bars, meter))


def riff_features(notes: list[Note], beat_period: float, loop_bars: int, meter: tuple[int, int]) -> RiffFeatures:
    meter = _check_meter(meter)
    if not isinstance(loop_bars, int) or isinstance(loop_bars, bool) or not 1 <= loop_bars <= MAX_LOOP_BARS:
        raise ValueRangeError(f"loop_bars must be an integer in range 1..{MAX_LOOP_BARS}, not {loop_bars!r}")
    try:
        beat_period = float(beat_period)
    except (TypeError, ValueError):
        raise ValueRangeError(f"beat_period must be a positive number of samples, not {beat_period!r}") from None
    if not math.isfinite(beat_period) or beat_period <= 0:
        raise ValueRangeError(f"beat_period must be a positive number of samples, not {beat_period!r}")
    if len(notes) < 2:
        raise ValueRangeError(f"a riff fingerprint needs at least 2 notes, not {len(notes)}")
    spb = steps_per_bar(meter)
    step = beat_period * meter[1] / STEPS_PER_WHOLE  # samples per 16th
    loop_steps = loop_bars * spb
    loop_len = loop_steps * step
    onsets = np.array([n.onset for n in notes], dtype=np.float64)
    order = np.argsort(onsets, kind="stable")
    onsets = onsets[order]
    pitches = np.array([notes[i].pitch for i in order], dtype=np.int64)
    # The latest loop's worth of notes: a complete loop whatever bar the window began on.
    keep = onsets > onsets[-1] - loop_len + step / 2
    onsets, pitches = onsets[keep], pitches[keep]
    # The grid's phase from the notes themselves (circular mean of their offsets from a 16th grid).
    angles = 2 * np.pi * (onsets % step) / step
    phase = (np.angle(np.mean(np.exp(1j * angles))) / (2 * np.pi)) * step
    grid = np.rint((onsets - phase) / step).astype(np.int64) % loop_steps
    by_step: dict[int, int] = {}
    for s, p in zip(grid.tolist(), pitches.tolist()):
        by_step[s] = min(p, by_step.get(s, p))  # two notes on one step (a slide, a chord): the lower
    events = sorted((s, p % 12) for s, p in by_step.items())
    bars, events = _reduce_period(events, loop_bars, spb)
    events = _canonical_rotation(events, bars * spb)
    return RiffFeatures(meter, bars, spb, tuple(s for s, _ in events), tuple(p for _, p in events))


def encode(f: RiffFeatures) -> str:
    payload = b"".join(struct.pack(">HB", s, p) for s, p in zip(f.steps, f.pitches))
    digest = _hash(f.meter, f.bars, payload)
    body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return f"{FORMAT}:{f.meter[0]}/{f.meter[1]}:{f.bars}:{digest}:{body}"


def _hash(meter: tuple[int, int], bars: int, payload: bytes) -> str:
    return hashlib.blake2b(f"{tuple(meter)}|{bars}|".encode() + payload, digest_size=6).hexdigest()


@lru_cache(maxsize=4096)
def decode(fingerprint: str) -> RiffFeatures:
    """The features a fingerprint string carries; ValueRangeError if it is not one."""
    try:
        fmt, meter, bars, _digest, body = fingerprint.split(":")
        if fmt != FORMAT:
            raise ValueError(fmt)
        num, den = (int(x) for x in meter.split("/"))
        payload = base64.b64decode(body + "=" * (-len(body) % 4), altchars=b"-_", validate=True)
        if len(payload) % 3 or _digest != _hash((num, den), int(bars), payload):
            raise ValueError("payload")
        triples = [struct.unpack(">HB", payload[i:i + 3]) for i in range(0, len(payload), 3)]
        feats = RiffFeatures((num, den), int(bars), steps_per_bar((num, den)),
                             tuple(s for s, _ in triples), tuple(p for _, p in triples))
    except (ValueError, TypeError, AttributeError, struct.error, binascii.Error):
        raise ValueRangeError(f"not a riff fingerprint: {fingerprint!r} (expected {FORMAT}:N/D:BARS:HASH:DATA)") from None
    return feats


def riff_key(fingerprint: str) -> str:
    """The exact part of a fingerprint (format, meter, bars, hash), for display."""
    return ":".join(fingerprint.split(":")[:4])


def riff_similarity(a: str, b: str) -> float:
    """How alike two riffs are, 0..1: 1.0 for the same riff, whatever key, tempo or starting bar.

    Rhythm and pitch count half each. Rhythm: onsets that coincide count 1, onsets a 16th apart 0.5,
    over the larger number of onsets, at the best rotation of one loop against the other. Pitch: of
    the coinciding onsets, the share whose interval to the other riff's note is the most common one
    (so a riff played in another key, or from another starting note, still agrees).
    Riffs in different meters are 0.0.
    """
    return float(similarities(a, [b])[0])


def similarities(query: str, candidates: list[str]) -> np.ndarray:
    """:func:`riff_similarity` of ``query`` with each candidate, all at once (one FFT per loop length).

    Candidates that are not fingerprints score 0. This is what recall uses: comparing a riff with
    every riff ever kept has to stay cheap on the logic thread.
    """
    fq = decode(query)
    out = np.zeros(len(candidates))
    groups: dict[int, list[tuple[int, RiffFeatures]]] = {}
    for i, c in enumerate(candidates):
        if c == query:
            out[i] = 1.0
            continue
        try:
            fc = decode(c)
        except ValueRangeError:
            continue
        if fc.meter != fq.meter or math.lcm(fq.loop_steps, fc.loop_steps) > 4 * max(fq.loop_steps, fc.loop_steps):
            continue
        groups.setdefault(fc.loop_steps, []).append((i, fc))
    for loop_steps, members in groups.items():
        length = math.lcm(fq.loop_steps, loop_steps)
        qa, qp = _tiled(fq, length)
        tiles = [_tiled(f, length) for _, f in members]
        ob = np.stack([t[0] for t in tiles])  # candidates x steps
        pb = np.stack([t[1] for t in tiles])
        n = len(members)
        denom = np.maximum(qa.sum(), ob.sum(axis=1)).astype(np.float64)
        # Candidate rotations: the best few by a blurred circular cross-correlation,
        # corr[c, s] = sum_i qa[i] * blur[c, i + s].
        blur = ob + 0.5 * (np.roll(ob, 1, axis=1) + np.roll(ob, -1, axis=1))
        corr = np.fft.irfft(np.conj(np.fft.rfft(qa))[None, :] * np.fft.rfft(blur, axis=1), n=length, axis=1)
        k = min(4, length)
        shifts = np.argsort(-corr, axis=1, kind="stable")[:, :k]  # candidates x k
        idx = (np.arange(length)[None, None, :] + shifts[:, :, None]) % length
        rows = np.arange(n)[:, None, None]
        sb, sp = ob[rows, idx], pb[rows, idx]  # candidates x k x steps, rotated onto the query
        exact = qa[None, None, :] & sb
        ra, rb = qa[None, None, :] & ~exact, sb & ~exact
        near = np.minimum((ra & (np.roll(rb, 1, axis=2) | np.roll(rb, -1, axis=2))).sum(axis=2),
                          (rb & (np.roll(ra, 1, axis=2) | np.roll(ra, -1, axis=2))).sum(axis=2))
        rhythm = (exact.sum(axis=2) + 0.5 * near) / denom[:, None]
        diffs = (qp[None, None, :] - sp) % 12
        agree = ((diffs[..., None] == np.arange(12)) & exact[..., None]).sum(axis=2).max(axis=2)
        score = (0.5 * rhythm + 0.5 * agree / denom[:, None]).max(axis=1)
        out[[i for i, _ in members]] = np.minimum(score, 1.0)
    return out


def _tiled(f: RiffFeatures, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Onsets (bool) and pitch classes on ``length`` steps: the loop repeated to fill them."""
    onsets = np.zeros(length, dtype=bool)
    pitches = np.zeros(length, dtype=np.int64)
    at = (np.arange(0, length, f.loop_steps)[:, None] + np.array(f.steps, dtype=np.int64)[None, :]).ravel()
    onsets[at] = True
    pitches[at] = np.tile(np.array(f.pitches, dtype=np.int64), length // f.loop_steps)
    return onsets, pitches


def _check_meter(meter) -> tuple[int, int]:
    try:
        num, den = (int(x) for x in meter)
    except (TypeError, ValueError):
        raise ValueRangeError(f"meter must be (beats, note value) such as (4, 4), not {meter!r}") from None
    if not 1 <= num <= 32 or den not in (1, 2, 4, 8, 16) or (num * STEPS_PER_WHOLE) % den:
        raise ValueRangeError(f"meter must have 1..32 beats of a 1, 2, 4, 8 or 16th note, not {num}/{den}")
    return num, den


def _reduce_period(events: list[tuple[int, int]], bars: int, spb: int) -> tuple[int, list[tuple[int, int]]]:
    """The shortest whole number of bars the loop repeats at, and its events within that period."""
    full = set(events)
    for d in range(1, bars):
        if bars % d:
            continue
        period = d * spb
        if all(((s + period) % (bars * spb), p) in full for s, p in events):
            return d, sorted((s, p) for s, p in events if s < period)
    return bars, events


def _canonical_rotation(events: list[tuple[int, int]], loop_steps: int) -> list[tuple[int, int]]:
    """The rotation of the cyclic loop that starts on a note, with pitch classes relative to that
    note, that is lexicographically smallest: the same for any starting point and any key."""
    best = None
    for s0, p0 in events:
        rotated = sorted(((s - s0) % loop_steps, (p - p0) % 12) for s, p in events)
        if best is None or rotated < best:
            best = rotated
    return best or []
