"""Opening connections: one write connection (owned by the writer thread), many readers.

WAL lets readers run while the writer commits; ``synchronous=FULL`` makes a commit
survive a power cut as well as a ``kill -9``. Readers are opened read-only where the
file exists, so a wall process can never write by mistake.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from app.store.schema import MIGRATIONS, migrate


class StoreError(Exception):
    """A known, reportable database problem (locked, unwritable, newer schema)."""


def _configure(conn: sqlite3.Connection) -> sqlite3.Connection:
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA cache_size = -32000")
    return conn


def open_writer(path: Path | str) -> sqlite3.Connection:
    """The one write connection: WAL, durable commits, schema migrated."""
    path = Path(path)
    try:
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        _configure(conn)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        migrate(conn)
    except (sqlite3.Error, OSError) as exc:
        raise StoreError(f"cannot open the database {path} for writing: {exc}") from exc
    return conn


def open_reader(path: Path | str) -> sqlite3.Connection:
    """A read connection for one thread (GUI, export, console worker)."""
    path = Path(path)
    try:
        if not path.exists():
            # first start: let the writer create it, so a reader never sees a half schema
            open_writer(path).close()
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
        _configure(conn)
        (version,) = conn.execute("PRAGMA user_version").fetchone()
        if version < len(MIGRATIONS):  # a newer program reading an older file: migrate it first
            conn.close()
            open_writer(path).close()
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
            _configure(conn)
    except (sqlite3.Error, OSError) as exc:
        raise StoreError(f"cannot open the database {path} for reading: {exc}") from exc
    return conn


@contextlib.contextmanager
def transaction(
    conn: sqlite3.Connection, *, immediate: bool = True
) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any exception."""
    conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def data_version(conn: sqlite3.Connection) -> int:
    """Changes when *another* connection commits: how a wall process notices new data."""
    (version,) = conn.execute("PRAGMA data_version").fetchone()
    return int(version)
