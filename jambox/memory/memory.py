"""The box's memory: one SQLite file, used from one thread (the logic thread).

What it keeps: every session and every action in it (wall clock and stream time, the settings in
force, the riff), the parts the player kept (pattern, settings, riff fingerprint), the suggestions
adopted or let go, the taste learned from all of it, and the current session's state for a restart.

What it promises: a method that records something the player will see acknowledged
(:meth:`record_action`, :meth:`save_kept`, :meth:`record_suggestion`, :meth:`let_go_kept`) returns
only after its transaction has committed with ``synchronous=FULL``; if it cannot commit it raises
:class:`StateError` and nothing is acknowledged. Control changes (:meth:`note_controls`, a knob may
send many a second) are buffered and ride along with the next commit, or at most every
``POINT_FLUSH_S``: losing the last second of a knob's travel to a pulled plug is harmless.

When a session ends (:meth:`end_session`, :meth:`close`) it is folded into the taste profile. A
session a killed process left open is folded the next time the file is opened.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import logging
import math
import os
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from jambox.errors import StateError, ValueRangeError
from jambox.memory import taste as taste_mod
from jambox.memory.fingerprint import SIMILAR, decode, similarities
from jambox.memory.paths import state_path
from jambox.memory.schema import SCHEMA_VERSION, user_version
from jambox.memory.store import open_in_memory, open_store

log = logging.getLogger(__name__)

POINT_FLUSH_S = 2.0  # buffered control changes are written at least this often (wall clock)
POINT_BUFFER = 32  # ... or when this many are waiting
DEFAULT_SAMPLE_RATE = 48000


def _owner() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            boot = f.read().strip()
    except OSError:
        boot = "unknown-boot"
    return f"{boot}:{os.getpid()}"


# (state file, session id) of the sessions Memory objects in this process are recording now.
_LIVE_SESSIONS: set[tuple[str, int]] = set()


def _owner_alive(owner: str | None, session_key: tuple[str, int]) -> bool:
    """Whether the process that recorded a session may still be recording it."""
    if not owner or ":" not in owner:
        return False
    boot, _, pid = owner.rpartition(":")
    if boot != _owner().rpartition(":")[0]:
        return False  # recorded before the last reboot (or the plug was pulled)
    try:
        pid_i = int(pid)
    except ValueError:
        return False
    if pid_i == os.getpid():
        return session_key in _LIVE_SESSIONS  # another Memory in this process may be recording it
    try:
        os.kill(pid_i, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _plain(value):
    """``value`` as JSON-able data: dataclasses (ControlState), enums, tuples are turned into plain types."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return value.tolist()
    return str(value)


def _dumps(value) -> str:
    return json.dumps(_plain(value if value is not None else {}), separators=(",", ":"), sort_keys=True)


def _loads(text: str | None):
    return json.loads(text) if text else {}


class Memory:
    """The state file's API. Open with :meth:`open`; use from one thread; close (or ``with``) at the end."""

    def __init__(self, conn: sqlite3.Connection, path: Path | None, problem: str | None = None):
        self._conn = conn
        self.path = path  # None: in memory only
        self.problem: str | None = problem
        self._session: int | None = None
        self._session_info: dict = {}
        self._last_stream_time: int | None = None
        self._pending_points: list[tuple[float, int, str]] = []
        self._last_point: str | None = None
        self._pending_state: str | None = None  # session state waiting to ride along with a commit
        self._saved_state: str | None = None
        self._pending_riffs: dict[str, float] = {}  # riffs recalled (heard) since the last commit
        self._heard_context: tuple | None = None  # (meter, tempo) the latest taste() asked about
        self._info_dirty = False
        self._last_flush = -math.inf  # when buffered things were last written: never
        self._riffs_this_session: set[str] = set()
        self._closed = False

    # -- lifecycle --------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike | None = None, *, fallback_to_memory: bool = False) -> "Memory":
        """Open (or create) the state file at ``path`` (None: the default place, see :mod:`.paths`).

        A corrupt file is moved aside and a fresh one started (``problem`` says so). A file that cannot
        be used at all raises :class:`StateError` naming the path, unless ``fallback_to_memory``: then
        the box remembers in memory until it restarts, and ``problem`` says why.
        """
        target = state_path(path)
        try:
            conn, problem = open_store(target)
        except StateError as e:
            if not fallback_to_memory:
                raise
            problem = f"{e}; remembering in memory only until the box restarts"
            log.error("%s", problem)
            return cls(open_in_memory(), None, problem)
        memory = cls(conn, target, problem)
        try:
            memory._fold_abandoned_sessions()
        except StateError as e:  # a recovery problem must not stop the box: note it and carry on
            memory.problem = memory.problem or str(e)
        return memory

    def __enter__(self) -> "Memory":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """End the session (folding it into the taste) and close the file. Safe to call twice."""
        if self._closed:
            return
        try:
            self.end_session()
            self.flush(force=True)  # what was buffered outside a session (a saved state)
        except StateError as e:
            log.error("closing the state file: %s", e)
        finally:
            if self._session is not None:
                _LIVE_SESSIONS.discard(self._live_key(self._session))
            self._closed = True
            self._conn.close()

    @property
    def in_memory(self) -> bool:
        return self.path is None

    # -- sessions ---------------------------------------------------------------------------------
    def start_session(self, info: dict | None = None) -> int:
        """Begin a session record (ending any current one). ``info`` may carry meter, tempo_bpm, sample_rate."""
        if self._session is not None:
            self.end_session()
        self._session_info = _plain(dict(info or {}))
        if self._heard_context is not None:
            self._note_heard_context()
            self._info_dirty = False  # written with the row itself
        with self._tx():
            cur = self._conn.execute("INSERT INTO sessions (started_at, info, owner) VALUES (?, ?, ?)",
                                     (time.time(), _dumps(self._session_info), _owner()))
        self._session = int(cur.lastrowid)
        _LIVE_SESSIONS.add(self._live_key(self._session))
        self._riffs_this_session = set()
        self._last_point = None
        return self._session

    def end_session(self, stream_time: int | None = None) -> None:
        """End the current session at ``stream_time`` (default: the latest seen) and fold it into the taste."""
        if self._session is None:
            return
        if stream_time is not None:
            self._seen(int(stream_time))
        sid = self._session
        with self._tx():
            self._flush_pending()
            self._conn.execute("UPDATE sessions SET ended_at = ?, last_stream_time = ? WHERE id = ?",
                               (time.time(), self._last_stream_time, sid))
            self._fold_session(sid)
        _LIVE_SESSIONS.discard(self._live_key(sid))
        self._session = None

    def _live_key(self, sid: int) -> tuple[str, int]:
        return (str(self.path.resolve()) if self.path else f":memory:{id(self)}", sid)

    def _note_heard_context(self) -> None:
        meter, tempo = self._heard_context or (None, None)
        if meter:
            self._session_info["heard_meter"] = list(meter)
        if tempo:
            self._session_info["heard_tempo_bpm"] = tempo
        self._info_dirty = True

    def _ensure_session(self) -> int:
        return self._session if self._session is not None else self.start_session()

    def _seen(self, stream_time: int) -> None:
        if self._last_stream_time is None or stream_time > self._last_stream_time:
            self._last_stream_time = stream_time

    # -- acknowledged writes -----------------------------------------------------------------------
    def record_action(self, kind: str, *, source: str, stream_time: int, control: str | None, value: float | None,
                      effect: str, settings: dict, riff: str | None) -> int:
        """Record one action; returns its id after the commit (only then may the box acknowledge it).

        ``settings`` are the controls in force after the action (a dict, or the ControlState itself).
        """
        kind = getattr(kind, "value", kind)
        sid = self._ensure_session()
        stream_time = int(stream_time)
        self._seen(stream_time)
        now = time.time()
        settings_json = _dumps(settings)
        with self._tx():
            self._flush_pending()
            cur = self._conn.execute(
                "INSERT INTO actions (session_id, wall_time, stream_time, kind, source, control, value, effect, "
                "settings, riff) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (sid, now, stream_time, str(kind), str(source), control, None if value is None else float(value),
                 str(effect or ""), settings_json, riff))
            self._conn.execute("UPDATE sessions SET last_stream_time = ? WHERE id = ?", (self._last_stream_time, sid))
            if riff:
                self._touch_riff(riff, now)
        self._last_point = settings_json
        return int(cur.lastrowid)

    def save_kept(self, riff: str | None, part: str, pattern: dict, settings: dict) -> int:
        """Keep ``pattern`` for ``part`` ("drums", "keys", ...) of ``riff``; returns the id after the commit."""
        if not isinstance(part, str) or not part:
            raise StateError(f"save_kept needs a part name such as 'drums' or 'keys', not {part!r}")
        sid = self._ensure_session()
        now = time.time()
        with self._tx():
            self._flush_pending()
            cur = self._conn.execute(
                "INSERT INTO kept (session_id, wall_time, riff, part, pattern, settings) VALUES (?, ?, ?, ?, ?, ?)",
                (sid, now, riff, part, _dumps(pattern), _dumps(settings)))
            if riff:
                self._touch_riff(riff, now)
        return int(cur.lastrowid)

    def record_suggestion(self, riff: str | None, kind: str, adopted: bool, settings: dict) -> int:
        """A suggestion the player adopted (``adopted=True``) or let go; returns the id after the commit."""
        sid = self._ensure_session()
        now = time.time()
        with self._tx():
            self._flush_pending()
            cur = self._conn.execute(
                "INSERT INTO suggestions (session_id, wall_time, riff, kind, adopted, settings) VALUES (?, ?, ?, ?, ?, ?)",
                (sid, now, riff, str(kind), 1 if adopted else 0, _dumps(settings)))
            if riff:
                self._touch_riff(riff, now)
        return int(cur.lastrowid)

    def let_go_kept(self, riff: str | None, part: str | None = None) -> int:
        """Release what was kept for ``riff`` (one part, or all): recall stops offering it. Returns how many."""
        with self._tx():
            cur = self._conn.execute(
                "UPDATE kept SET released_at = ? WHERE released_at IS NULL AND riff IS ? AND (? IS NULL OR part = ?)",
                (time.time(), riff, part, part))
        return int(cur.rowcount)

    def note_controls(self, settings: dict, stream_time: int) -> None:
        """The controls changed at ``stream_time``: buffered, written with the next commit (cheap to call often)."""
        if self._session is None:
            self._ensure_session()
        stream_time = int(stream_time)
        self._seen(stream_time)
        text = _dumps(settings)
        if text == self._last_point:
            return
        self._last_point = text
        self._pending_points.append((time.time(), stream_time, text))
        self.flush(force=len(self._pending_points) >= POINT_BUFFER)

    def flush(self, force: bool = False) -> None:
        """Write what is buffered (control changes, session state, riffs heard) if it is due, or now if ``force``.

        Cheap when nothing is waiting or not yet due, so the logic thread may call it every hop; that
        bounds what a pulled plug can take to the last ``POINT_FLUSH_S`` seconds of knob travel.
        """
        if not self._has_pending():
            return
        if force or time.monotonic() - self._last_flush >= POINT_FLUSH_S:
            with self._tx():
                self._flush_pending()

    def _has_pending(self) -> bool:
        return bool(self._pending_points or self._pending_state is not None or self._pending_riffs
                    or self._info_dirty)

    def _flush_pending(self) -> None:
        """Write everything buffered (inside the caller's transaction)."""
        self._last_flush = time.monotonic()
        c = self._conn
        if self._pending_points and self._session is not None:
            c.executemany(
                "INSERT INTO control_points (session_id, wall_time, stream_time, settings) VALUES (?, ?, ?, ?)",
                [(self._session, w, t, s) for w, t, s in self._pending_points])
        self._pending_points.clear()
        if self._session is not None:
            c.execute("UPDATE sessions SET last_stream_time = ? WHERE id = ?", (self._last_stream_time, self._session))
            if self._info_dirty:
                c.execute("UPDATE sessions SET info = ? WHERE id = ?", (_dumps(self._session_info), self._session))
        self._info_dirty = False
        if self._pending_state is not None:
            c.execute("INSERT INTO session_state (id, session_id, saved_at, state) VALUES (1, ?, ?, ?) "
                      "ON CONFLICT(id) DO UPDATE SET session_id = excluded.session_id, saved_at = excluded.saved_at, "
                      "state = excluded.state", (self._session, time.time(), self._pending_state))
            self._saved_state, self._pending_state = self._pending_state, None
        for riff, when in self._pending_riffs.items():
            self._touch_riff(riff, when)
        self._pending_riffs.clear()

    def _touch_riff(self, riff: str, now: float) -> None:
        first_time = riff not in self._riffs_this_session
        self._conn.execute(
            "INSERT INTO riffs (fingerprint, first_heard, last_heard, times_heard) VALUES (?, ?, ?, 1) "
            "ON CONFLICT(fingerprint) DO UPDATE SET last_heard = excluded.last_heard, "
            "times_heard = times_heard + ?", (riff, now, now, 1 if first_time else 0))
        self._riffs_this_session.add(riff)

    # -- session state ----------------------------------------------------------------------------
    def save_session_state(self, state: dict) -> None:
        """The current session's state (controls, kept parts in play, ...), so a restart resumes it.

        Unchanged state costs a comparison. A change is written at once if nothing was written in the
        last ``POINT_FLUSH_S``, else with the next commit or :meth:`flush` (so calling this on every
        change, even many a second, costs at most one commit per ``POINT_FLUSH_S``).
        """
        text = _dumps(state)
        if text == (self._pending_state if self._pending_state is not None else self._saved_state):
            return
        self._pending_state = text
        self.flush()

    def load_session_state(self) -> dict | None:
        """The latest saved session state, or None if none was ever saved."""
        if self._pending_state is not None:
            return _loads(self._pending_state)
        row = self._query("SELECT state FROM session_state WHERE id = 1").fetchone()
        return _loads(row[0]) if row else None

    # -- reading ----------------------------------------------------------------------------------
    def recall(self, riff: str) -> dict | None:
        """What was kept for ``riff`` (or, failing that, for the most similar riff kept before), or None.

        ``{"riff", "match": "exact"|"similar", "similarity", "parts": {part: {"pattern", "settings",
        "kept_at", "id"}}, "times_heard"}``: the latest kept pattern per part that was not let go.
        """
        if self._session is not None and riff:
            self._pending_riffs[riff] = time.time()  # heard now: written with the next commit
        match, similarity = riff, 1.0
        parts = self._kept_parts(riff)
        if not parts:
            best = self._most_similar_kept(riff)
            if best is None:
                return None
            match, similarity = best
            parts = self._kept_parts(match)
        row = self._query("SELECT times_heard FROM riffs WHERE fingerprint = ?", (match,)).fetchone()
        return {"riff": match, "match": "exact" if match == riff else "similar", "similarity": round(similarity, 4),
                "parts": parts, "times_heard": int(row[0]) if row else 0}

    def _kept_parts(self, riff: str) -> dict:
        rows = self._query(
            "SELECT id, part, pattern, settings, wall_time FROM kept WHERE riff = ? AND released_at IS NULL "
            "AND id IN (SELECT MAX(id) FROM kept WHERE riff = ? AND released_at IS NULL GROUP BY part) ORDER BY part",
            (riff, riff)).fetchall()
        return {part: {"pattern": _loads(pattern), "settings": _loads(settings), "kept_at": wall, "id": kid}
                for kid, part, pattern, settings, wall in rows}

    def _most_similar_kept(self, riff: str) -> tuple[str, float] | None:
        """The kept riff most like ``riff`` (similarity >= SIMILAR), or None. Strings that are not
        fingerprints (an older format, a test's name) only ever match exactly."""
        try:
            decode(riff)
        except ValueRangeError:
            return None
        candidates = [r for (r,) in self._query(
            "SELECT DISTINCT riff FROM kept WHERE riff IS NOT NULL AND released_at IS NULL")]
        if not candidates:
            return None
        scores = similarities(riff, candidates)
        best = int(np.argmax(scores))
        return (candidates[best], float(scores[best])) if scores[best] >= SIMILAR else None

    def taste(self, meter: tuple[int, int] | None, tempo_bpm: float | None) -> dict:
        """The learned taste for this meter and tempo: any of the taste keys, plus ``confidence`` 0..1.

        The meter and tempo asked about are also noted as the current session's (``heard_meter``,
        ``heard_tempo_bpm`` in its info), so the session teaches the right bucket even when the
        settings it records do not say.
        """
        context = (_meter(meter), _tempo(tempo_bpm))
        if context != (None, None) and context != self._heard_context:
            self._heard_context = context
            if self._session is not None:
                self._note_heard_context()
        return taste_mod.blend(self._profiles(), meter, tempo_bpm)

    def _profiles(self) -> dict[str, dict]:
        return {b: _loads(p) for b, p in self._query("SELECT bucket, profile FROM taste")}

    def suggestion_rates(self) -> dict[str, dict]:
        """Per suggestion kind: how often offered and the share adopted (what the player keeps, lets go)."""
        rows = self._query("SELECT kind, COUNT(*), SUM(adopted) FROM suggestions GROUP BY kind ORDER BY kind")
        return {k: {"offered": n, "adopted": int(a or 0), "rate": round((a or 0) / n, 3)} for k, n, a in rows}

    def overview(self) -> dict:
        """Counts and highlights for ``jambox state show`` (cheap aggregate queries, not the whole history)."""
        q = self._query
        kinds = q("SELECT kind, COUNT(*) FROM actions GROUP BY kind ORDER BY COUNT(*) DESC, kind").fetchall()
        kept = q("SELECT part, COUNT(*), MAX(wall_time) FROM kept WHERE released_at IS NULL GROUP BY part "
                 "ORDER BY part").fetchall()
        first, last = q("SELECT MIN(started_at), MAX(started_at) FROM sessions").fetchone()
        return {
            "path": str(self.path) if self.path else None,
            "problem": self.problem,
            "schema_version": user_version(self._conn),
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
            "suggestions": self.suggestion_rates(),
            "taste": {b: {"taste": taste_mod.blend({b: p}, *_bucket_query(b)), "sessions": n}
                      for b, p, n in ((b, _loads(p), n) for b, p, n in
                                      q("SELECT bucket, profile, sessions FROM taste ORDER BY bucket"))},
            "session_state_saved": q("SELECT saved_at FROM session_state WHERE id = 1").fetchone() is not None,
        }

    def export(self) -> dict:
        """Everything in the file as plain data (``jambox state export``)."""
        def rows(sql: str, json_cols: tuple[str, ...] = ()) -> list[dict]:
            cur = self._query(sql)
            names = [d[0] for d in cur.description]
            out = []
            for r in cur.fetchall():
                item = dict(zip(names, r))
                for c in json_cols:
                    item[c] = _loads(item[c])
                out.append(item)
            return out

        state = self._query("SELECT session_id, saved_at, state FROM session_state WHERE id = 1").fetchone()
        return {
            "format": "jambox-state",
            "schema_version": user_version(self._conn),
            "path": str(self.path) if self.path else None,
            "problem": self.problem,
            "exported_at": time.time(),
            "sessions": rows("SELECT id, started_at, ended_at, info, last_stream_time, folded FROM sessions ORDER BY id",
                             ("info",)),
            "actions": rows("SELECT id, session_id, wall_time, stream_time, kind, source, control, value, effect, "
                            "settings, riff FROM actions ORDER BY id", ("settings",)),
            "kept": rows("SELECT id, session_id, wall_time, riff, part, pattern, settings, released_at FROM kept "
                         "ORDER BY id", ("pattern", "settings")),
            "suggestions": rows("SELECT id, session_id, wall_time, riff, kind, adopted, settings FROM suggestions "
                                "ORDER BY id", ("settings",)),
            "riffs": rows("SELECT fingerprint, first_heard, last_heard, times_heard FROM riffs ORDER BY first_heard"),
            "taste": rows("SELECT bucket, profile, sessions, updated_at FROM taste ORDER BY bucket", ("profile",)),
            "session_state": None if state is None else {"session_id": state[0], "saved_at": state[1],
                                                         "state": _loads(state[2])},
        }

    # -- housekeeping -----------------------------------------------------------------------------
    def backup(self, target: str | os.PathLike) -> Path:
        """A consistent copy of the whole file at ``target`` (SQLite's online backup: safe while the box runs)."""
        target = Path(target)
        self._flush_now()
        try:
            dest = sqlite3.connect(str(target))
            try:
                self._conn.backup(dest)
            finally:
                dest.close()
        except sqlite3.Error as e:
            raise StateError(f"cannot back up the state file {self.path or ':memory:'} to {target}: {e}") from None
        return target

    def clear(self) -> None:
        """Forget everything (one transaction): sessions, actions, kept parts, riffs, taste, session state."""
        from jambox.memory.schema import tables_at

        if self._session is not None:
            _LIVE_SESSIONS.discard(self._live_key(self._session))
            self._session = None
        self._pending_points.clear()
        with self._tx():
            for table in reversed(tables_at(user_version(self._conn))):
                self._conn.execute(f"DELETE FROM {table}")
        try:
            self._conn.execute("VACUUM")
        except sqlite3.Error as e:  # only the file's size is at stake
            log.warning("VACUUM after reset failed: %s", e)

    def _flush_now(self) -> None:
        self.flush(force=True)

    # -- taste folding ----------------------------------------------------------------------------
    def _fold_abandoned_sessions(self) -> None:
        rows = self._query("SELECT id, owner FROM sessions WHERE folded = 0 AND ended_at IS NULL").fetchall()
        for sid, owner in rows:
            if _owner_alive(owner, self._live_key(sid)):
                continue
            with self._tx():
                self._conn.execute("UPDATE sessions SET ended_at = (SELECT MAX(wall_time) FROM ("
                                   "SELECT wall_time FROM actions WHERE session_id = ?1 UNION ALL "
                                   "SELECT wall_time FROM control_points WHERE session_id = ?1 UNION ALL "
                                   "SELECT started_at FROM sessions WHERE id = ?1)) WHERE id = ?1", (sid,))
                self._fold_session(sid)
            log.info("folded session %d, which a stopped process had left open, into the taste", sid)

    def _fold_session(self, sid: int) -> None:
        """Fold session ``sid`` into the taste profile (inside the caller's transaction); marks it folded."""
        c = self._conn
        info_text, last_t, folded = c.execute("SELECT info, last_stream_time, folded FROM sessions WHERE id = ?",
                                              (sid,)).fetchone()
        if folded:
            return
        info = _loads(info_text)
        points = [(t, _loads(s), w) for t, s, w in c.execute(
            "SELECT stream_time, settings, wall_time FROM actions WHERE session_id = ?1 UNION ALL "
            "SELECT stream_time, settings, wall_time FROM control_points WHERE session_id = ?1 "
            "ORDER BY stream_time, wall_time", (sid,))]
        kept = [_loads(s) for (s,) in c.execute(
            "SELECT settings FROM kept WHERE session_id = ?1 AND released_at IS NULL UNION ALL "
            "SELECT settings FROM suggestions WHERE session_id = ?1 AND adopted = 1", (sid,))]
        n_feedback = c.execute(f"SELECT COUNT(*) FROM actions WHERE session_id = ? AND kind IN "
                               f"({','.join('?' * len(taste_mod.FEEDBACK_KINDS))})",
                               (sid, *taste_mod.FEEDBACK_KINDS)).fetchone()[0]
        meter, tempo = _context(info, [s for _, s, _ in points] + kept)
        values, in_force = taste_mod.settled_values([(t, s) for t, s, _ in points], last_t, kept)
        sample_rate = float(info.get("sample_rate") or DEFAULT_SAMPLE_RATE)
        weight = taste_mod.session_weight(in_force / sample_rate, n_feedback, len(kept))
        if values and weight > 0:
            now = time.time()
            for b in taste_mod.fold_buckets(meter, tempo):
                row = c.execute("SELECT profile FROM taste WHERE bucket = ?", (b,)).fetchone()
                profile = taste_mod.fold(_loads(row[0]) if row else {}, values, weight)
                c.execute("INSERT INTO taste (bucket, profile, sessions, updated_at) VALUES (?, ?, 1, ?) "
                          "ON CONFLICT(bucket) DO UPDATE SET profile = excluded.profile, sessions = sessions + 1, "
                          "updated_at = excluded.updated_at", (b, _dumps(profile), now))
        c.execute("UPDATE sessions SET folded = 1 WHERE id = ?", (sid,))

    # -- plumbing ---------------------------------------------------------------------------------
    @contextmanager
    def _tx(self):
        """One committed transaction, or a StateError (and nothing written)."""
        if self._closed:
            raise StateError(f"state file {self.path or ':memory:'} is closed")
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as e:
            raise self._error("begin a write", e) from None
        try:
            yield
            self._conn.execute("COMMIT")
        except sqlite3.Error as e:
            self._rollback()
            raise self._error("write", e) from None
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        try:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass

    def _query(self, sql: str, params: tuple = ()) -> sqlite3.Cursor:
        if self._closed:
            raise StateError(f"state file {self.path or ':memory:'} is closed")
        try:
            return self._conn.execute(sql, params)
        except sqlite3.Error as e:
            raise self._error("read", e) from None

    def _error(self, what: str, e: sqlite3.Error) -> StateError:
        name = getattr(e, "sqlite_errorname", "") or type(e).__name__
        err = StateError(f"cannot {what} the state file {self.path or ':memory:'}: {e} ({name})")
        self.problem = str(err)
        log.error("%s", err)
        return err


def _context(info: dict, settings_list: list[dict]) -> tuple[tuple[int, int] | None, float | None]:
    """The session's meter and tempo: the latest any settings dict carried, else the session info's."""
    meter = _meter(info.get("meter")) or _meter(info.get("heard_meter"))
    tempo = _tempo(info.get("tempo_bpm")) or _tempo(info.get("heard_tempo_bpm"))
    for s in settings_list:
        meter = _meter(s.get("meter")) or meter
        tempo = _tempo(s.get("tempo_bpm")) or tempo
    return meter, tempo


def _meter(value) -> tuple[int, int] | None:
    try:
        num, den = value
        return int(num), int(den)
    except (TypeError, ValueError):
        return None


def _tempo(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else None


def _bucket_query(name: str) -> tuple[tuple[int, int] | None, float | None]:
    """A (meter, tempo) that falls in bucket ``name``, to show that bucket's own taste."""
    m, _, t = name.partition("@")
    meter = tuple(int(x) for x in m.split("/")) if m != taste_mod.ANY else None
    tempo = None
    for lo, hi, label in taste_mod.TEMPO_RANGES:
        if label == t:
            tempo = lo + 1.0 if hi == float("inf") else (lo + hi) / 2
    return meter, tempo
