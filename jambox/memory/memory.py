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

import logging
import math
import os
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from jambox.errors import StateError, ValueRangeError
from jambox.memory import report
from jambox.memory import taste as taste_mod
from jambox.memory.codec import dumps, loads, meter_of, plain, tempo_of
from jambox.memory.fingerprint import SIMILAR, decode, similarities
from jambox.memory.fold import fold_session
from jambox.memory.owner import LIVE_SESSIONS, owner_alive, owner_tag
from jambox.memory.paths import state_path
from jambox.memory.schema import user_version
from jambox.memory.store import open_in_memory, open_store

log = logging.getLogger(__name__)

POINT_FLUSH_S = 2.0  # buffered control changes are written at least this often (wall clock)
POINT_BUFFER = 32  # ... or when this many are waiting


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
        self._abandoned: set[int] = set()  # sessions a stopped process left open, found by this open
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
                LIVE_SESSIONS.discard(self._live_key(self._session))
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
        self._session_info = plain(dict(info or {}))
        if self._heard_context is not None:
            self._note_heard_context()
            self._info_dirty = False  # written with the row itself
        with self._tx():
            cur = self._conn.execute("INSERT INTO sessions (started_at, info, owner) VALUES (?, ?, ?)",
                                     (time.time(), dumps(self._session_info), owner_tag()))
        self._session = int(cur.lastrowid)
        LIVE_SESSIONS.add(self._live_key(self._session))
        self._riffs_this_session = set()
        self._last_point = None
        self._last_stream_time = None  # each session's stream starts again at sample 0
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
            fold_session(self._conn, sid)
        LIVE_SESSIONS.discard(self._live_key(sid))
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
        settings_json = dumps(settings)
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
                (sid, now, riff, part, dumps(pattern), dumps(settings)))
            if riff:
                self._touch_riff(riff, now)
        return int(cur.lastrowid)

    def record_suggestion(self, riff: str | None, kind: str, adopted: bool, settings: dict,
                          how: str | None = None) -> int:
        """A suggestion the player adopted (``adopted=True``) or let go; returns the id after the commit.

        ``how`` it was decided: "keep", "let_go", "softer", "softer_all", "resolve" (pushed back while
        it played), "expired" (left to go), "new_riff" (swept away: teaches the taste nothing)."""
        sid = self._ensure_session()
        now = time.time()
        with self._tx():
            self._flush_pending()
            cur = self._conn.execute(
                "INSERT INTO suggestions (session_id, wall_time, riff, kind, adopted, how, settings) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)", (sid, now, riff, str(kind), 1 if adopted else 0, how, dumps(settings)))
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
        text = dumps(settings)
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
                c.execute("UPDATE sessions SET info = ? WHERE id = ?", (dumps(self._session_info), self._session))
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
        text = dumps(state)
        if text == (self._pending_state if self._pending_state is not None else self._saved_state):
            return
        self._ensure_session()  # the state belongs to a session: a restart resumes only an abandoned one
        self._pending_state = text
        self.flush()

    def load_session_state(self) -> dict | None:
        """The latest saved session state, or None if none was ever saved."""
        if self._pending_state is not None:
            return loads(self._pending_state)
        row = self._query("SELECT state FROM session_state WHERE id = 1").fetchone()
        return loads(row[0]) if row else None

    def resumable_state(self, within_s: float) -> dict | None:
        """The saved state of a session that stopped without ending (a crash, SIGKILL, a pulled plug:
        found abandoned when this file was opened) and was saved at most ``within_s`` seconds ago,
        as ``{"state", "saved_at", "age_s", "session_id"}``; else None. A session that ended cleanly
        is not resumed: its settings went into the taste like any other's.

        A saved time in the future counts as recent (age 0): a Pi without a real-time clock boots
        with the time it last saved, which may be before the crash, so the clock is what is off.
        """
        if within_s <= 0 or not self._abandoned:
            return None
        row = self._query("SELECT session_id, saved_at, state FROM session_state WHERE id = 1").fetchone()
        if row is None or row[0] is None or int(row[0]) not in self._abandoned:
            return None
        age = time.time() - float(row[1])
        if age > within_s:
            return None
        return {"state": loads(row[2]), "saved_at": float(row[1]), "age_s": max(0.0, age), "session_id": int(row[0])}

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
        return {part: {"pattern": loads(pattern), "settings": loads(settings), "kept_at": wall, "id": kid}
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
        context = (meter_of(meter), tempo_of(tempo_bpm))
        if context != (None, None) and context != self._heard_context:
            self._heard_context = context
            if self._session is not None:
                self._note_heard_context()
        return taste_mod.blend(self._profiles(), meter, tempo_bpm)

    def suggestion_rates(self) -> dict[str, dict]:
        """Per suggestion kind: how often offered and the share adopted (what the player keeps, lets go)."""
        return report.suggestion_rates(self._query)

    def overview(self) -> dict:
        """Counts and highlights for ``jambox state show`` (cheap aggregate queries, not the whole history)."""
        return report.overview(self._query, self.path, self.problem)

    def export(self) -> dict:
        """Everything in the file as plain data (``jambox state export``)."""
        return report.export(self._query, self.path, self.problem)

    def _profiles(self) -> dict[str, dict]:
        return {b: loads(p) for b, p in self._query("SELECT bucket, profile FROM taste")}

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
            LIVE_SESSIONS.discard(self._live_key(self._session))
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
            if owner_alive(owner, self._live_key(sid)):
                continue
            with self._tx():
                self._conn.execute("UPDATE sessions SET ended_at = (SELECT MAX(wall_time) FROM ("
                                   "SELECT wall_time FROM actions WHERE session_id = ?1 UNION ALL "
                                   "SELECT wall_time FROM control_points WHERE session_id = ?1 UNION ALL "
                                   "SELECT started_at FROM sessions WHERE id = ?1)) WHERE id = ?1", (sid,))
                fold_session(self._conn, sid)
            self._abandoned.add(int(sid))
            log.info("folded session %d, which a stopped process had left open, into the taste", sid)

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
