"""The state file's schema, versioned with ``PRAGMA user_version``, and the migrations between versions.

Version 1 kept sessions, actions, control changes, kept parts, suggestions, the taste profile and the
current session's state. Version 2 adds riff memory proper: a ``riffs`` table with one row per riff
fingerprint (when it was first and last heard, how often), so that a riff heard a month ago can be
found and compared by similarity without scanning every action. Migrating fills it from the riffs the
v1 tables already name. Version 3 says how each suggestion was decided (``suggestions.how``: kept with
KEEP, let go with LET GO, pushed back with SOFTER or RESOLVE while it played, left to expire, or
dropped by a new riff), so the taste can weigh a pressed verdict above an ignored one and a new riff
not at all; rows from before say nothing (NULL).

Each migration runs in one transaction together with the ``user_version`` bump, so a pulled plug
leaves either the old version or the new one, never half of it.
"""

from __future__ import annotations

import sqlite3

# Times are wall clock (Unix seconds, REAL) and stream time (samples of the audio stream, INTEGER).
# Dicts (settings, patterns, info) are JSON text. sessions.owner is "boot-id:pid" of the process
# recording it, so that a session a killed process left open is folded into the taste on a later
# open, but one a live process is still recording is left alone.
V1_DDL = """
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    started_at REAL NOT NULL,
    ended_at REAL,
    info TEXT NOT NULL DEFAULT '{}',
    last_stream_time INTEGER,
    owner TEXT,
    folded INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE actions (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    wall_time REAL NOT NULL,
    stream_time INTEGER NOT NULL,
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    control TEXT,
    value REAL,
    effect TEXT NOT NULL DEFAULT '',
    settings TEXT NOT NULL DEFAULT '{}',
    riff TEXT
);
CREATE INDEX actions_by_session ON actions(session_id, id);
CREATE TABLE control_points (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    wall_time REAL NOT NULL,
    stream_time INTEGER NOT NULL,
    settings TEXT NOT NULL
);
CREATE INDEX control_points_by_session ON control_points(session_id, stream_time);
CREATE TABLE kept (
    id INTEGER PRIMARY KEY,
    session_id INTEGER REFERENCES sessions(id),
    wall_time REAL NOT NULL,
    riff TEXT,
    part TEXT NOT NULL,
    pattern TEXT NOT NULL,
    settings TEXT NOT NULL DEFAULT '{}',
    released_at REAL
);
CREATE INDEX kept_by_riff ON kept(riff, part, id);
CREATE TABLE suggestions (
    id INTEGER PRIMARY KEY,
    session_id INTEGER REFERENCES sessions(id),
    wall_time REAL NOT NULL,
    riff TEXT,
    kind TEXT NOT NULL,
    adopted INTEGER NOT NULL,
    settings TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE taste (
    bucket TEXT PRIMARY KEY,
    profile TEXT NOT NULL,
    sessions INTEGER NOT NULL DEFAULT 0,
    updated_at REAL NOT NULL
);
CREATE TABLE session_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    session_id INTEGER,
    saved_at REAL NOT NULL,
    state TEXT NOT NULL
);
"""

V1_TO_V2 = """
CREATE TABLE riffs (
    fingerprint TEXT PRIMARY KEY,
    first_heard REAL NOT NULL,
    last_heard REAL NOT NULL,
    times_heard INTEGER NOT NULL DEFAULT 1
);
INSERT INTO riffs (fingerprint, first_heard, last_heard, times_heard)
    SELECT riff, MIN(wall_time), MAX(wall_time), COUNT(DISTINCT session_id) FROM (
        SELECT riff, wall_time, session_id FROM actions WHERE riff IS NOT NULL
        UNION ALL SELECT riff, wall_time, session_id FROM kept WHERE riff IS NOT NULL
        UNION ALL SELECT riff, wall_time, session_id FROM suggestions WHERE riff IS NOT NULL
    ) GROUP BY riff;
"""

V2_TO_V3 = """
ALTER TABLE suggestions ADD COLUMN how TEXT;
"""

# MIGRATIONS[n] takes a file from version n to n + 1 (0 -> 1 creates the tables).
MIGRATIONS: dict[int, str] = {0: V1_DDL, 1: V1_TO_V2, 2: V2_TO_V3}
SCHEMA_VERSION = max(MIGRATIONS) + 1
TABLES = ("sessions", "actions", "control_points", "kept", "suggestions", "taste", "session_state", "riffs")


def tables_at(version: int) -> tuple[str, ...]:
    """The tables a file at ``version`` has."""
    return TABLES if version >= 2 else tuple(t for t in TABLES if t != "riffs")


def user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> list[int]:
    """Bring ``conn`` (autocommit mode) up to ``target``; returns the versions it passed through.

    The caller has checked that the file's version is not newer than this jambox knows.
    """
    passed = []
    version = user_version(conn)
    while version < target:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(MIGRATIONS[version]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        version += 1
        passed.append(version)
    return passed


def _statements(script: str) -> list[str]:
    """Split a DDL script into statements (executescript would COMMIT behind our back)."""
    out, buf = [], ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out
