"""Opening the state file: durability pragmas, and every kind of bad file handled without a crash."""

import logging
import os
import re
import sqlite3
from pathlib import Path

import pytest

from jambox.errors import JamboxError, StateError
from jambox.memory import Memory
from jambox.memory.schema import SCHEMA_VERSION
from jambox.memory.store import move_aside, open_store

ASIDE = re.compile(r"^state\.db\.corrupt-\d{8}-\d{6}(-\d+)?$")


def record(memory: Memory, n: int) -> list[int]:
    return [memory.record_action("keep", source="test", stream_time=i * 100, control=None, value=None,
                                 effect="kept", settings={"energy": 0.5, "note": "x" * 100}, riff=None)
            for i in range(n)]


@pytest.fixture
def full_file(tmp_path) -> Path:
    path = tmp_path / "state.db"
    with Memory.open(path) as m:
        record(m, 60)
    return path


def test_a_new_file_is_wal_with_full_sync_at_the_current_version(tmp_path):
    conn, problem = open_store(tmp_path / "sub" / "state.db")
    assert problem is None
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()


def test_reopening_keeps_everything(full_file):
    with Memory.open(full_file) as m:
        assert m.problem is None
        assert len(m.export()["actions"]) == 60


def aside_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if ".corrupt-" in p.name)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "header_only", "zeros", "text"])
def test_a_corrupt_file_is_moved_aside_and_a_fresh_one_started(full_file, damage, caplog):
    data = full_file.read_bytes()
    content = {
        "garbage": os.urandom(len(data)),
        "truncated": data[: len(data) // 2],
        "header_only": data[:60],
        "zeros": b"\0" * 8192,
        "text": b"not a database at all\n" * 50,
    }[damage]
    full_file.write_bytes(content)
    with caplog.at_level(logging.ERROR, logger="jambox.memory"):
        m = Memory.open(full_file)
    with m:
        assert m.problem and str(full_file) in m.problem and "moved it aside" in m.problem
        assert m.export()["actions"] == []
        assert record(m, 1) == [1]  # the fresh file works
    [aside] = [n for n in aside_files(full_file.parent) if not n.endswith(("-wal", "-shm"))]
    assert ASIDE.match(aside), aside
    assert (full_file.parent / aside).read_bytes() == content  # kept, byte for byte, for a post-mortem
    assert any("moved it aside" in r.getMessage() for r in caplog.records)


def test_the_wal_and_shm_go_aside_with_the_file(tmp_path):
    path = tmp_path / "state.db"
    for side in ("-wal", "-shm"):
        Path(f"{path}{side}").write_bytes(b"stale side file")
    path.write_bytes(b"garbage" * 100)
    with Memory.open(path) as m:
        assert m.problem
    names = aside_files(tmp_path)
    assert len(names) == 3 and {n[-4:] for n in names} >= {"-wal", "-shm"}
    stem = [n for n in names if not n.endswith(("-wal", "-shm"))][0]
    assert f"{stem}-wal" in names and f"{stem}-shm" in names


def test_a_sqlite_file_that_is_not_ours_is_moved_aside(tmp_path):
    path = tmp_path / "state.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE photos (id INTEGER)")
    conn.commit()
    conn.close()
    with Memory.open(path) as m:
        assert m.problem and "not a jambox state file" in m.problem
    assert len(aside_files(tmp_path)) == 1


def test_two_corruptions_in_one_second_do_not_overwrite_each_other(tmp_path):
    path = tmp_path / "state.db"
    first = (path.write_bytes(b"one"), move_aside(path, now=1_700_000_000))[1]
    second = (path.write_bytes(b"two"), move_aside(path, now=1_700_000_000))[1]
    assert first != second and first.read_bytes() == b"one" and second.read_bytes() == b"two"


def test_a_directory_is_a_clear_error_and_is_left_alone(tmp_path):
    path = tmp_path / "state.db"
    path.mkdir()
    (path / "someone's file").write_text("keep me")
    with pytest.raises(StateError, match=re.escape(str(path)) + ".*is a directory"):
        Memory.open(path)
    assert (path / "someone's file").read_text() == "keep me"
    with Memory.open(path, fallback_to_memory=True) as m:
        assert m.in_memory and "is a directory" in m.problem and "in memory only" in m.problem
        assert record(m, 2) == [1, 2]


def unwritable_place(tmp_path) -> Path:
    """A state path in a directory this process cannot write (root ignores permissions: use /proc)."""
    if os.geteuid() == 0:
        return Path("/proc/state.db")
    d = tmp_path / "locked"
    d.mkdir()
    d.chmod(0o555)
    return d / "state.db"


def test_an_unwritable_directory_is_a_state_error_naming_the_path(tmp_path):
    path = unwritable_place(tmp_path)
    with pytest.raises(StateError) as e:
        Memory.open(path)
    assert str(path) in str(e.value)
    assert isinstance(e.value, JamboxError) and isinstance(e.value, OSError)
    with Memory.open(path, fallback_to_memory=True) as m:
        assert m.in_memory and str(path) in m.problem
        assert m.taste((4, 4), 100.0) == {"confidence": 0.0}


def test_a_parent_that_is_a_file_is_a_state_error(tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(StateError, match="is a file, not a directory"):
        Memory.open(tmp_path / "afile" / "state.db")


def test_a_file_from_a_newer_jambox_is_not_touched(tmp_path):
    path = tmp_path / "state.db"
    with Memory.open(path) as m:
        record(m, 3)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StateError, match=f"schema version {SCHEMA_VERSION + 1}.*newer"):
        Memory.open(path)
    assert path.read_bytes() == before and aside_files(tmp_path) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file; the unreadable case is covered by the garbage cases")
def test_an_unreadable_file_is_moved_aside(tmp_path):
    path = tmp_path / "state.db"
    with Memory.open(path) as m:
        record(m, 3)
    path.chmod(0)
    with Memory.open(path) as m:
        assert m.problem and "moved it aside" in m.problem


def test_a_file_another_process_holds_locked_is_an_error_not_corruption(tmp_path, monkeypatch):
    import jambox.memory.store as store

    path = tmp_path / "state.db"
    with Memory.open(path) as m:
        record(m, 3)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr(store, "BUSY_TIMEOUT_S", 0.2)
    try:
        with pytest.raises(StateError, match="locked"):
            Memory.open(path)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert aside_files(tmp_path) == []  # a healthy file is never moved aside for being busy
    with Memory.open(path) as m:
        assert m.problem is None and len(m.export()["actions"]) == 3
