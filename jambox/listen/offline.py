"""A whole recording through the streaming listener, hop by hop, exactly as live: what it heard.

Used by ``jambox listen`` and the bench. Times in the result are seconds from the first sample.
"""

from __future__ import annotations

import numpy as np

from jambox.events import PITCH_CLASSES, Beat, Note, Onset


def hear(bass: np.ndarray, sample_rate: int, listener_cfg) -> dict:
    """Feed ``bass`` hop by hop (its tail padded with one hop of silence) and collect the events."""
    from jambox.listen import Listener

    listener = Listener(sample_rate, listener_cfg)
    hop = listener.hop_size
    n = len(bass)
    padded = np.zeros(n + (-n) % hop + hop, np.float32)
    padded[:n] = bass
    events = []
    for start in range(0, len(padded), hop):
        events.extend(listener.process(padded[start:start + hop]))
        listener.heard()  # as the chain does, so the cost is counted
    events.extend(listener.finish())
    notes: dict[int, Note] = {}
    first_known: dict[int, int] = {}  # onset -> when a pitch was first given for it
    beats: list[Beat] = []
    onsets: list[Onset] = []
    for ev in events:
        if isinstance(ev, Note):
            notes[ev.onset] = ev
            first_known.setdefault(ev.onset, ev.emitted_at)
        elif isinstance(ev, Beat):
            beats.append(ev)
        elif isinstance(ev, Onset):
            onsets.append(ev)
    in_order = sorted(notes.values(), key=lambda x: x.onset)
    result = to_dict(listener.heard(), in_order, beats, len(padded), listener.section_starts)
    result["onsets"] = [{"time": round(o.time / sample_rate, 4), "emitted_at": round(o.emitted_at / sample_rate, 4)}
                        for o in onsets]
    for entry, note in zip(result["notes"], in_order):  # internal, like "onsets": when a first pitch was given
        entry["first_emitted_at"] = round(first_known[note.onset] / sample_rate, 4)
    return result


def to_dict(heard, notes: list[Note], beats: list[Beat], end: int, section_starts=()) -> dict:
    sr = heard.sample_rate

    def s(t):
        return None if t is None else round(t / sr, 4)

    key = None if heard.key_tonic is None else {"tonic": PITCH_CLASSES[heard.key_tonic], "mode": heard.key_mode}
    return {
        "sample_rate": sr,
        "notes": [{"onset": s(n.onset), "offset": s(n.offset if n.offset is not None else end), "pitch": n.pitch,
                   "velocity": n.velocity, "emitted_at": s(n.emitted_at)} for n in notes],
        "beats": [s(b.time) for b in beats],
        "downbeats": [s(b.time) for b in beats if b.position == 0],
        "tempo_bpm": None if heard.tempo_bpm is None else round(heard.tempo_bpm, 2),
        "meter": list(heard.meter),
        "key": key,
        "loop_bars": heard.loop_bars,
        "section_starts": [s(t) for t in section_starts],
        "swing": round(heard.swing, 3),
        "offset_ms": round(heard.offset_ms, 1),
    }


def describe_heard(tempo_bpm, meter, key: dict | None, loop_bars, swing: float, offset_ms: float) -> str:
    """What the listener heard, in a musician's words: "100.0 bpm, 4/4, E minor, a 2-bar loop, straight, +3 ms
    from the grid"."""
    tempo = f"{tempo_bpm:.1f} bpm" if tempo_bpm else "no steady tempo"
    key_words = f"{key['tonic']} {key['mode']}" if key else "no key yet"
    loop = f"a {loop_bars}-bar loop" if loop_bars else "no repeating loop"
    feel = "straight" if swing < 0.54 else f"swung ({swing:.2f})"
    return f"{tempo}, {meter[0]}/{meter[1]}, {key_words}, {loop}, {feel}, {offset_ms:+.0f} ms from the grid"
