"""Opening the state file: pragmas for durability, migrations, and what to do with a bad file.

Durability: the file is in WAL mode with ``synchronous=FULL``, so a transaction that has returned
from COMMIT is on disk (fsync'd) and survives a killed process or a pulled plug; a transaction that
had not returned is rolled back on the next open. Every write jambox acknowledges is one such
transaction.

A bad file must never stop the box from starting, and never be destroyed:
- corrupt, truncated, garbage, unreadable, or a SQLite file that is not ours: moved aside with its
  ``-wal``/``-shm`` as ``state.db.corrupt-YYYYmmdd-HHMMSS`` and a fresh file started; the returned
  problem says so (the log, the LEDs and ``jambox doctor`` show it);
- a path that is a directory, a directory we cannot write, a file from a newer jambox, a file another
  process holds locked, a full disk: :class:`StateError` naming the path. These are not the file's
  fault, so nothing is moved; the caller decides (``Memory.open(..., fallback_to_memory=True)``).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from pathlib import Path

from jambox.errors import StateError
from jambox.memory.schema import SCHEMA_VERSION, TABLES, migrate, user_version

log = logging.getLogger(__name__)

BUSY_TIMEOUT_S = 5.0
SIDE_FILES = ("-wal", "-shm", "-journal")
# SQLite result codes that mean "this file is damaged or not a database", as opposed to "busy",
# "disk full" or "no permission on the directory", which moving the file aside would not cure.
CORRUPT_CODES = {"SQLITE_CORRUPT", "SQLITE_NOTADB", "SQLITE_CORRUPT_VTAB", "SQLITE_CORRUPT_SEQUENCE",
                 "SQLITE_CORRUPT_INDEX", "SQLITE_IOERR_SHORT_READ", "SQLITE_CANTOPEN", "SQLITE_READONLY",
                 "SQLITE_READONLY_DBMOVED", "SQLITE_READONLY_RECOVERY", "SQLITE_READONLY_CANTINIT"}


class _BadFile(Exception):
    """The file itself is unusable (corrupt, not ours, unreadable): move it aside."""


def open_store(path: Path) -> tuple[sqlite3.Connection, str | None]:
    """A connection to the state file at ``path``, migrated to the current schema, and a problem or None."""
    path = Path(path)
    _check_place(path)
    try:
        return _open_checked(path), None
    except _BadFile as e:
        reason = str(e)
    aside = move_aside(path)
    problem = f"state file {path} was unusable ({reason}); moved it aside to {aside.name} and started a fresh one"
    log.error("%s", problem)
    try:
        return _open_checked(path), problem
    except _BadFile as e:  # a fresh file that is bad at once: the disk, not the file
        raise StateError(f"cannot start a fresh state file at {path}: {e}") from None


def open_in_memory() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    migrate(conn)
    return conn


def move_aside(path: Path, now: float | None = None) -> Path:
    """Rename ``path`` (and its -wal/-shm) to ``path.corrupt-YYYYmmdd-HHMMSS``; never overwrites."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    base = path.with_name(f"{path.name}.corrupt-{stamp}")
    target, n = base, 1
    while any(Path(f"{target}{side}").exists() for side in ("",) + SIDE_FILES):
        target, n = base.with_name(f"{base.name}-{n}"), n + 1
    try:
        for side in SIDE_FILES:
            src = Path(f"{path}{side}")
            if src.exists():
                src.rename(f"{target}{side}")
        if path.exists():
            path.rename(target)
    except OSError as e:
        raise StateError(f"state file {path} is unusable and cannot be moved aside to {target.name}: "
                         f"{e.strerror or e}") from None
    return target


def _check_place(path: Path) -> None:
    if path.is_dir():
        raise StateError(f"state file {path} is a directory; expected a SQLite file or a path where one can be created")
    parent = path.parent
    for above in (parent, *parent.parents):
        if above.exists():
            if not above.is_dir():
                raise StateError(f"cannot keep the state file {path}: {above} is a file, not a directory")
            break
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StateError(f"cannot create the state directory {parent} for {path.name}: {e.strerror or e}") from None
    if not parent.is_dir():
        raise StateError(f"state directory {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise StateError(f"state directory {parent} is not writable, so the state file {path} cannot be "
                         "kept there; choose another with --state or memory.state_file")


SQLITE_HEADER = b"SQLite format 3\x00"


def _check_header(path: Path) -> None:
    """A non-empty file must start with SQLite's header; checked before SQLite opens it, because
    SQLite would delete or rewrite the -wal/-shm beside a file it cannot read, and those belong aside
    with the file."""
    try:
        with open(path, "rb") as f:
            head = f.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return
    except IsADirectoryError:
        raise StateError(f"state file {path} is a directory") from None
    except PermissionError as e:
        raise _BadFile(f"cannot read it: {e.strerror}") from None
    if head and head != SQLITE_HEADER:
        raise _BadFile("file is not a database: no SQLite header")


def _open_checked(path: Path) -> sqlite3.Connection:
    _check_header(path)
    try:
        conn = sqlite3.connect(str(path), isolation_level=None, timeout=BUSY_TIMEOUT_S, check_same_thread=False)
    except sqlite3.Error as e:
        raise _classify(path, e) from None
    try:
        _configure(conn, path)
        _check_contents(conn, path)
        migrate(conn)
    except BaseException as e:
        conn.close()
        if isinstance(e, sqlite3.Error):
            raise _classify(path, e) from None
        raise
    return conn


def _configure(conn: sqlite3.Connection, path: Path) -> None:
    mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise StateError(f"state file {path}: SQLite refused WAL mode (got {mode!r}); is it on a network file system?")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA journal_size_limit=4194304")  # after a checkpoint, keep the -wal to 4 MiB on the SD card
    conn.execute("PRAGMA foreign_keys=ON")


def _check_contents(conn: sqlite3.Connection, path: Path) -> None:
    result = [row[0] for row in conn.execute("PRAGMA quick_check").fetchall()]
    if result != ["ok"]:
        raise _BadFile(f"integrity check failed: {'; '.join(map(str, result[:3]))}")
    version = user_version(conn)
    if version > SCHEMA_VERSION:
        raise StateError(f"state file {path} has schema version {version}, newer than this jambox knows "
                         f"(up to {SCHEMA_VERSION}): it was written by a newer jambox; upgrade, or use another "
                         "file with --state")
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if version == 0 and tables:
        raise _BadFile(f"a SQLite file but not a jambox state file (tables: {', '.join(sorted(tables)[:5])})")
    if version > 0:
        from jambox.memory.schema import tables_at

        missing = set(tables_at(version)) - tables
        if missing:
            raise _BadFile(f"schema version {version} but tables missing: {', '.join(sorted(missing))}")


def _classify(path: Path, e: sqlite3.Error) -> Exception:
    """A sqlite3 error at open: a bad file (move it aside) or a StateError (leave it be)."""
    name = getattr(e, "sqlite_errorname", "") or ""
    text = str(e)
    if name in CORRUPT_CODES or name.startswith("SQLITE_CORRUPT") or "malformed" in text or "not a database" in text:
        if name.startswith("SQLITE_CANTOPEN") or name.startswith("SQLITE_READONLY"):
            if path.exists() and not os.access(path, os.R_OK | os.W_OK):
                return _BadFile(f"cannot read and write it: {text}")
            if name.startswith("SQLITE_CANTOPEN"):
                return StateError(f"cannot open the state file {path}: {text}")
        return _BadFile(text)
    return StateError(f"cannot open the state file {path}: {text} ({name or type(e).__name__})")
