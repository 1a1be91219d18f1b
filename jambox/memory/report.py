"""What the state file holds, read back for people: ``jambox state show`` and ``export``.

Each function takes ``q``, a function that runs one SQL query (the Memory's, which turns SQLite
errors into StateError).
"""

from __future__ import annotations

import time

from jambox.memory import taste
from jambox.memory.codec import loads


def suggestion_rates(q) -> dict[str, dict]:
    """Per suggestion kind: how often offered and the share adopted (what the player keeps, lets go)."""
    rows = q("SELECT kind, COUNT(*), SUM(adopted) FROM suggestions GROUP BY kind ORDER BY kind")
    return {k: {"offered": n, "adopted": int(a or 0), "rate": round((a or 0) / n, 3)} for k, n, a in rows}


def overview(q, path, problem) -> dict:
    """Counts and highlights for ``jambox state show`` (cheap aggregate queries, not the whole history)."""
    kinds = q("SELECT kind, COUNT(*) FROM actions GROUP BY kind ORDER BY COUNT(*) DESC, kind").fetchall()
    kept = q("SELECT part, COUNT(*), MAX(wall_time) FROM kept WHERE released_at IS NULL GROUP BY part "
             "ORDER BY part").fetchall()
    first, last = q("SELECT MIN(started_at), MAX(started_at) FROM sessions").fetchone()
    return {
        "path": str(path) if path else None,
        "problem": problem,
        "schema_version": q("PRAGMA user_version").fetchone()[0],
        "sessions": q("SELECT COUNT(*) FROM sessions").fetchone()[0],
        "first_session": first,
        "last_session": last,
        "actions": sum(n for _, n in kinds),
        "actions_by_kind": dict(kinds),
        "knobs": dict(q("SELECT control, COUNT(*) FROM actions WHERE kind = 'set' AND control IS NOT NULL "
                        "GROUP BY control ORDER BY COUNT(*) DESC, control").fetchall()),
        "kept_by_part": {p: {"count": n, "latest": w} for p, n, w in kept},
        "kept_riffs": q("SELECT COUNT(DISTINCT riff) FROM kept WHERE released_at IS NULL").fetchone()[0],
        "riffs_heard": q("SELECT COUNT(*) FROM riffs").fetchone()[0],
        "suggestions": suggestion_rates(q),
        "taste": {b: {"taste": taste.blend({b: p}, *_bucket_query(b)), "sessions": n}
                  for b, p, n in ((b, loads(p), n) for b, p, n in
                                  q("SELECT bucket, profile, sessions FROM taste ORDER BY bucket"))},
        "session_state_saved": q("SELECT saved_at FROM session_state WHERE id = 1").fetchone() is not None,
    }


def export(q, path, problem) -> dict:
    """Everything in the file as plain data (``jambox state export``)."""
    def rows(sql: str, json_cols: tuple[str, ...] = ()) -> list[dict]:
        cur = q(sql)
        names = [d[0] for d in cur.description]
        out = []
        for r in cur.fetchall():
            item = dict(zip(names, r))
            for c in json_cols:
                item[c] = loads(item[c])
            out.append(item)
        return out

    state = q("SELECT session_id, saved_at, state FROM session_state WHERE id = 1").fetchone()
    return {
        "format": "jambox-state",
        "schema_version": q("PRAGMA user_version").fetchone()[0],
        "path": str(path) if path else None,
        "problem": problem,
        "exported_at": time.time(),
        "sessions": rows("SELECT id, started_at, ended_at, info, last_stream_time, folded FROM sessions ORDER BY id",
                         ("info",)),
        "actions": rows("SELECT id, session_id, wall_time, stream_time, kind, source, control, value, effect, "
                        "settings, riff FROM actions ORDER BY id", ("settings",)),
        "kept": rows("SELECT id, session_id, wall_time, riff, part, pattern, settings, released_at FROM kept "
                     "ORDER BY id", ("pattern", "settings")),
        "suggestions": rows("SELECT id, session_id, wall_time, riff, kind, adopted, how, settings FROM suggestions "
                            "ORDER BY id", ("settings",)),
        "riffs": rows("SELECT fingerprint, first_heard, last_heard, times_heard FROM riffs ORDER BY first_heard"),
        "taste": rows("SELECT bucket, profile, sessions, updated_at FROM taste ORDER BY bucket", ("profile",)),
        "session_state": None if state is None else {"session_id": state[0], "saved_at": state[1],
                                                     "state": loads(state[2])},
    }


def _bucket_query(name: str) -> tuple[tuple[int, int] | None, float | None]:
    """A (meter, tempo) that falls in bucket ``name``, to show that bucket's own taste."""
    m, _, t = name.partition("@")
    meter = tuple(int(x) for x in m.split("/")) if m != taste.ANY else None
    tempo = None
    for lo, hi, label in taste.TEMPO_RANGES:
        if label == t:
            tempo = lo + 1.0 if hi == float("inf") else (lo + hi) / 2
    return meter, tempo
