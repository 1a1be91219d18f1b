"""What a run heard and played, as a JSON-able dict and as plain words."""

from __future__ import annotations

import numpy as np

from jambox.engine.chain import Chain
from jambox.events import PARTS, PITCH_CLASSES, PlayedNote


def bar_starts(chain: Chain, duration: int) -> list[int]:
    """Bar boundaries in stream samples, on the grid the listener settled on.

    The listener's downbeats are used back from the last one for as long as they keep the final bar
    length (within 15 %, so a player's tempo drift is followed); earlier guesses, made while tempo and
    meter were still unsure, are replaced by the settled grid extended backwards to the start.
    """
    heard = chain.heard
    bar = chain.bar_length()
    if bar is None:
        return [0]
    downbeats = sorted({b.time for b in chain.record.beats if b.position == 0})
    settled: list[int] = []
    for t in reversed(downbeats):
        if not settled or abs((settled[0] - t) - bar) <= 0.15 * bar:
            settled.insert(0, t)
        elif settled[0] - t > 0.15 * bar:
            break
    if not settled:
        anchor = heard.downbeat if heard.downbeat is not None else (heard.beat_phase or 0)
        settled = [int(anchor)]
    starts = list(settled)
    t = starts[0] - bar
    while t > -bar:  # before the first settled downbeat (the pickup included)
        starts.insert(0, int(round(max(t, 0))))
        t -= bar
    t = starts[-1] + bar
    while t < duration:
        starts.append(int(round(t)))
        t += bar
    return sorted(set(starts))


def part_bars(chain: Chain, part: str, duration: int) -> list[dict]:
    from jambox.generate.tension import harmonic_tension

    sr = chain.sample_rate
    starts = bar_starts(chain, duration)
    notes = [n for n in chain.record.played if n.part == part]
    bass = sorted(chain.record.notes.values(), key=lambda n: n.onset)
    heard = chain.heard
    bars = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else duration
        if end <= start:
            continue
        in_bar = [n for n in notes if start <= n.time < end]
        if not in_bar:
            continue
        entry = {
            "bar": i,
            "start": round(start / sr, 3),
            "events": len(in_bar),
            "mean_velocity": round(float(np.mean([n.velocity for n in in_bar])), 1),
            "tension": None,
        }
        if part == "keys":
            bass_in_bar = [n for n in bass if start <= n.onset < end]
            entry["tension"] = round(float(harmonic_tension(in_bar, bass_in_bar, heard.key_tonic, heard.key_mode)), 3)
        bars.append(entry)
    return bars


def accompaniment_bars(chain: Chain, accompaniment: np.ndarray, duration: int) -> list[dict]:
    """Per bar, how loud the accompaniment sounds (RMS in dBFS of the rendered audio, both parts, the
    master level included): what "softer" means to the ear, not only in MIDI velocities."""
    sr = chain.sample_rate
    starts = bar_starts(chain, duration)
    bars = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else duration
        block = accompaniment[start:end]
        if end <= start or not len(block):
            continue
        rms = float(np.sqrt(np.mean(np.square(block, dtype=np.float64))))
        if rms < 1e-5:  # below -100 dBFS: the box is not playing in this bar
            continue
        bars.append({"bar": i, "start": round(start / sr, 3), "rms_db": round(20 * np.log10(rms), 2)})
    return bars


def summarize(chain: Chain, duration: int, accompaniment: np.ndarray | None = None) -> dict:
    """What was heard and played. With the rendered ``accompaniment``, also how loud each bar sounds."""
    sr = chain.sample_rate
    heard = chain.heard
    notes = sorted(chain.record.notes.values(), key=lambda n: n.onset)
    key = None if heard.key_tonic is None else {"tonic": PITCH_CLASSES[heard.key_tonic], "mode": heard.key_mode}
    out = {
        "duration_s": round(duration / sr, 3),
        "heard": {
            "tempo_bpm": None if heard.tempo_bpm is None else round(heard.tempo_bpm, 2),
            "meter": list(heard.meter),
            "key": key,
            "loop_bars": heard.loop_bars,
            "swing": round(heard.swing, 3),
            "offset_ms": round(heard.offset_ms, 1),
            "notes": len(notes),
            "pitches": sorted({n.pitch for n in notes}),
        },
        "joins": [{"t": round(t / sr, 3), "event": e} for t, e in chain.record.joins],
        "actions": [
            {"t": round(t / sr, 3), "action": a.kind.value, **({"control": a.control, "value": a.value} if a.control else {}),
             "source": a.source, "effect": effect}
            for t, a, effect in chain.record.actions
        ],
        "session_events": [{"t": round(t / sr, 3), "event": e} for t, e in chain.record.session_events],
        "parts": {},
    }
    for part in PARTS:
        played = [n for n in chain.record.played if n.part == part]
        out["parts"][part] = {"events": len(played), "bars": part_bars(chain, part, duration)}
    if accompaniment is not None:
        out["accompaniment"] = {"bars": accompaniment_bars(chain, accompaniment, duration)}
    return out


def describe(summary: dict) -> str:
    from jambox.listen.offline import describe_heard

    h = summary["heard"]
    heard = describe_heard(h["tempo_bpm"], h["meter"], h["key"], h["loop_bars"], h["swing"], h["offset_ms"])
    lines = [f"Heard {summary['duration_s']:.1f} s ({h['notes']} notes): {heard}."]
    for j in summary["joins"]:
        lines.append(f"  {j['event']} at {j['t']:.2f} s")
    for a in summary["actions"]:
        lines.append(f"  {a['t']:.2f} s: {a['action']} ({a['source']}){': ' + a['effect'] if a['effect'] else ''}")
    for part, info in summary["parts"].items():
        bars = info["bars"]
        if not bars:
            lines.append(f"Played {part}: nothing.")
            continue
        vel = np.mean([b["mean_velocity"] for b in bars])
        desc = f"Played {part}: {info['events']} notes over {len(bars)} bars, mean velocity {vel:.0f}"
        if part == "keys":
            desc += f", mean tension {np.mean([b['tension'] for b in bars]):.2f}"
        lines.append(desc + ".")
    return "\n".join(lines)


def played_in_order(played: list[PlayedNote]) -> list[PlayedNote]:
    return sorted(played, key=lambda n: (n.time, n.part, n.pitch))
