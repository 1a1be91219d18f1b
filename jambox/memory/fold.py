"""Folding a finished session into the taste profile: the one place the profile is written.

The session's control timeline (the settings of its actions and control changes), what was kept in
it, the suggestions decided in it (adopted or let go, and how), and how much feedback it had are
read back from the file, so a session recovered
after a pulled plug is folded exactly as one that ended cleanly.
"""

from __future__ import annotations

import sqlite3
import time

from jambox.memory import taste
from jambox.memory.codec import dumps, loads, meter_of, tempo_of

DEFAULT_SAMPLE_RATE = 48000  # when the session's info does not say


def fold_session(c: sqlite3.Connection, sid: int) -> None:
    """Fold session ``sid`` into the taste profile (inside the caller's transaction); marks it folded."""
    info_text, last_t, folded = c.execute("SELECT info, last_stream_time, folded FROM sessions WHERE id = ?",
                                          (sid,)).fetchone()
    if folded:
        return
    info = loads(info_text)
    points = [(t, loads(s), w) for t, s, w in c.execute(
        "SELECT stream_time, settings, wall_time FROM actions WHERE session_id = ?1 UNION ALL "
        "SELECT stream_time, settings, wall_time FROM control_points WHERE session_id = ?1 "
        "ORDER BY stream_time, wall_time", (sid,))]
    kept = [loads(s) for (s,) in c.execute(
        "SELECT settings FROM kept WHERE session_id = ? AND released_at IS NULL", (sid,))]
    verdicts = [(kind, bool(adopted), how, loads(s)) for kind, adopted, how, s in c.execute(
        "SELECT kind, adopted, how, settings FROM suggestions WHERE session_id = ? ORDER BY id", (sid,))]
    n_feedback = c.execute(f"SELECT COUNT(*) FROM actions WHERE session_id = ? AND kind IN "
                           f"({','.join('?' * len(taste.FEEDBACK_KINDS))})",
                           (sid, *taste.FEEDBACK_KINDS)).fetchone()[0]
    meter, tempo = session_context(info, [s for _, s, _ in points] + kept + [v[3] for v in verdicts])
    values, in_force = taste.settled_values([(t, s) for t, s, _ in points], last_t, kept,
                                            taste.verdict_samples(verdicts))
    appetites = taste.appetite_values(verdicts)
    sample_rate = float(info.get("sample_rate") or DEFAULT_SAMPLE_RATE)
    adopted = sum(1 for v in verdicts if v[1])
    weight = taste.session_weight(in_force / sample_rate, n_feedback, len(kept) + adopted)
    if (values and weight > 0) or appetites:
        now = time.time()
        for b in taste.fold_buckets(meter, tempo):
            row = c.execute("SELECT profile FROM taste WHERE bucket = ?", (b,)).fetchone()
            profile = loads(row[0]) if row else {}
            if values and weight > 0:
                profile = taste.fold(profile, values, weight)
            profile = taste.fold_appetites(profile, appetites)
            c.execute("INSERT INTO taste (bucket, profile, sessions, updated_at) VALUES (?, ?, 1, ?) "
                      "ON CONFLICT(bucket) DO UPDATE SET profile = excluded.profile, sessions = sessions + 1, "
                      "updated_at = excluded.updated_at", (b, dumps(profile), now))
    c.execute("UPDATE sessions SET folded = 1 WHERE id = ?", (sid,))


def session_context(info: dict, settings_list: list[dict]) -> tuple[tuple[int, int] | None, float | None]:
    """The session's meter and tempo: the latest any settings dict carried, else the session info's."""
    meter = meter_of(info.get("meter")) or meter_of(info.get("heard_meter"))
    tempo = tempo_of(info.get("tempo_bpm")) or tempo_of(info.get("heard_tempo_bpm"))
    for s in settings_list:
        meter = meter_of(s.get("meter")) or meter
        tempo = tempo_of(s.get("tempo_bpm")) or tempo
    return meter, tempo
