"""Schema versions: a file created by the v1 DDL is migrated to the current version, losing nothing."""

import sqlite3

import pytest

from jambox.memory import Memory
from jambox.memory import schema
from jambox.memory.schema import SCHEMA_VERSION, V1_DDL, migrate, user_version


def make_v1_file(path):
    """A state file exactly as jambox with schema v1 wrote it: the v1 DDL and some history."""
    conn = sqlite3.connect(path)
    conn.executescript(V1_DDL)
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO sessions (id, started_at, ended_at, info, last_stream_time, folded) "
                 "VALUES (1, 1000.0, 1100.0, '{}', 480000, 1), (2, 2000.0, 2100.0, '{}', 480000, 1)")
    conn.executemany(
        "INSERT INTO actions (session_id, wall_time, stream_time, kind, source, effect, settings, riff) "
        "VALUES (?, ?, ?, ?, 'gpio', '', '{}', ?)",
        [(1, 1010.0, 48000, "keep", "riff-a"), (1, 1020.0, 96000, "softer", "riff-a"),
         (2, 2010.0, 48000, "keep", "riff-a"), (2, 2020.0, 96000, "keep", "riff-b"), (2, 2030.0, 1, "tap", None)])
    conn.execute("INSERT INTO kept (session_id, wall_time, riff, part, pattern, settings) "
                 "VALUES (2, 2015.0, 'riff-c', 'drums', '{\"steps\": [1, 0, 1]}', '{\"energy\": 0.4}')")
    conn.commit()
    conn.close()


def test_v1_file_migrates_to_current_keeping_its_history(tmp_path):
    path = tmp_path / "state.db"
    make_v1_file(path)
    with Memory.open(path) as m:
        assert m.problem is None
        exported = m.export()
        assert exported["schema_version"] == SCHEMA_VERSION == 3
        assert [a["kind"] for a in exported["actions"]] == ["keep", "softer", "keep", "keep", "tap"]
        riffs = {r["fingerprint"]: r for r in exported["riffs"]}
        # backfilled from actions and kept: when first and last heard, in how many sessions
        assert set(riffs) == {"riff-a", "riff-b", "riff-c"}
        assert riffs["riff-a"]["first_heard"] == 1010.0 and riffs["riff-a"]["last_heard"] == 2010.0
        assert riffs["riff-a"]["times_heard"] == 2 and riffs["riff-b"]["times_heard"] == 1
        # and the kept part is recalled, with the v2 riff record behind it
        recalled = m.recall("riff-c")
        assert recalled["parts"]["drums"]["pattern"] == {"steps": [1, 0, 1]} and recalled["times_heard"] == 1


def test_a_failed_migration_leaves_the_old_version_whole(tmp_path, monkeypatch):
    path = tmp_path / "state.db"
    make_v1_file(path)
    monkeypatch.setitem(schema.MIGRATIONS, 1, schema.V1_TO_V2 + "\nINSERT INTO no_such_table VALUES (1);\n")
    conn = sqlite3.connect(path, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError, match="no_such_table"):
        migrate(conn)
    assert user_version(conn) == 1
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'riffs'").fetchone() is None
    conn.close()


def test_a_fresh_file_passes_through_every_version(tmp_path):
    conn = sqlite3.connect(tmp_path / "new.db", isolation_level=None)
    assert migrate(conn) == list(range(1, SCHEMA_VERSION + 1))
    assert migrate(conn) == []
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == set(schema.TABLES)
    conn.close()


def test_v2_suggestions_gain_how_they_were_decided_and_old_rows_say_nothing(tmp_path):
    path = tmp_path / "state.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, target=2)
    conn.execute("INSERT INTO suggestions (session_id, wall_time, riff, kind, adopted, settings) "
                 "VALUES (NULL, 1000.0, NULL, 'fill', 0, '{}')")
    conn.close()
    with Memory.open(path) as m:
        m.record_suggestion(None, "odd_bar", True, {}, how="keep")
        rows = [(s["kind"], s["adopted"], s["how"]) for s in m.export()["suggestions"]]
    assert rows == [("fill", 0, None), ("odd_bar", 1, "keep")]
