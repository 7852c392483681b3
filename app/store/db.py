"""Opening connections: one write connection (owned by the writer thread), many readers.

WAL lets readers run while the writer commits; ``synchronous=FULL`` makes a commit
survive a power cut as well as a ``kill -9``. Readers open read-only (``mode=ro``), so a
wall or an export can never write by mistake; in a folder they cannot write, with no
writer anywhere (no ``-wal`` file), they open the file as immutable, since SQLite could
not create the ``-shm`` file a WAL reader needs.

Every failure to open or read becomes a :class:`StoreError` whose text a person can act
on (damaged, not a database, newer schema, read-only, missing); :func:`describe_error`
turns an SQLite error met later (a tile's query, a commit) into the same kind of line.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from app.store.schema import MIGRATIONS, migrate

#: how long a reader waits on a lock: WAL readers hardly ever need one, and a reader on
#: the GUI thread must not freeze the wall while another process recovers the file
READER_BUSY_MS = 200
#: the writer waits longer: another process's commit is a normal reason to wait
WRITER_BUSY_MS = 10_000

_SQLITE_HEADER = b"SQLite format 3\x00"
# primary result codes (https://sqlite.org/rescode.html)
_BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN, _NOTADB = 5, 6, 8, 10, 11, 13, 14, 26


class StoreError(Exception):
    """A known, reportable database problem (locked, unwritable, damaged, newer schema)."""

    def __init__(self, message: str, *, damaged: bool = False) -> None:
        super().__init__(message)
        #: the file itself is damaged: retrying will not help
        self.damaged = damaged


def _code(exc: BaseException) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def is_damage(exc: BaseException) -> bool:
    """Whether an error means the file itself is damaged (no retry will help)."""
    if isinstance(exc, StoreError):
        return exc.damaged
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    text = str(exc)
    return _code(exc) in {_CORRUPT, _NOTADB} or "malformed" in text or "not a database" in text


def describe_error(exc: BaseException, path: Path | str) -> str:
    """One line a person can act on for an SQLite error met on the database ``path``."""
    if isinstance(exc, StoreError):
        return str(exc)
    code, text = _code(exc), str(exc)
    if code == _NOTADB or "not a database" in text:
        return f"{path} is not a watchfloor database (not an SQLite file, or damaged at its start)"
    if is_damage(exc):
        return (f"the database {path} is damaged ({text}): restore it from a backup, or move it "
                "aside and a new one is started")  # fmt: skip
    if code == _FULL or "disk is full" in text:
        return f"the disk holding the database {path} is full"
    if code in {_BUSY, _LOCKED} or "locked" in text:
        return f"the database {path} is locked by another program ({text})"
    if code == _READONLY or "readonly" in text:
        return f"the database {path} is read-only here ({text})"
    if code == _IOERR or "disk I/O" in text:
        return f"the database {path} cannot be read or written (I/O error: {text})"
    if code == _CANTOPEN or "unable to open" in text:
        return f"cannot open the database {path} ({text})"
    return f"database {path}: {text}"


def _error(exc: BaseException, path: Path) -> StoreError:
    return StoreError(describe_error(exc, path), damaged=is_damage(exc))


def _configure(conn: sqlite3.Connection, busy_ms: int) -> sqlite3.Connection:
    conn.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA cache_size = -32000")
    return conn


def _check_file(path: Path) -> None:
    """Problems visible before SQLite opens the file: a folder, or not an SQLite file.

    SQLite itself judges the header (a read-only connection): a plain ``open()``/``close()``
    of the file would drop every POSIX lock this process holds on it, and another process
    closing its last connection would then delete the -wal file under this process's
    writer, its later commits lost to every reader.
    """
    if path.is_dir():
        raise StoreError(f"{path} is a folder, not a database file")
    if not path.exists():
        return
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise StoreError(f"cannot read the database {path}: {exc.strerror or exc}") from exc
    if not size:
        return  # an empty file: SQLite makes a new database of it
    try:
        probe = sqlite3.connect(f"file:{quote(str(path.absolute()))}?mode=ro", uri=True)
        try:
            probe.execute("PRAGMA schema_version").fetchone()
        finally:
            probe.close()
    except sqlite3.DatabaseError as exc:
        if _code(exc) == _NOTADB or "not a database" in str(exc):
            raise StoreError(f"{path} is not a watchfloor database (not an SQLite file, "
                             "or damaged at its start)", damaged=True) from None  # fmt: skip
        # locked, busy, unreadable: the caller's own open says so in its words


def _check_version(conn: sqlite3.Connection, path: Path) -> int:
    (version,) = conn.execute("PRAGMA user_version").fetchone()
    if version > len(MIGRATIONS):
        raise StoreError(
            f"the database {path} has schema v{version}, newer than this program knows "
            f"(v{len(MIGRATIONS)}): upgrade watchfloor, or point --db at another file"
        )
    if version == 0 and conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
        raise StoreError(f"{path} is an SQLite database of another program, not watchfloor's")
    return int(version)


def open_writer(path: Path | str) -> sqlite3.Connection:
    """The one write connection: WAL, durable commits, schema migrated."""
    path = Path(path)
    memory = str(path) == ":memory:"
    if not memory:
        _check_file(path)
    conn: sqlite3.Connection | None = None
    try:
        if not memory:
            path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        _configure(conn, WRITER_BUSY_MS)
        _check_version(conn, path)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        migrate(conn)
    except StoreError:
        if conn is not None:
            conn.close()
        raise
    except (sqlite3.Error, OSError) as exc:
        if conn is not None:
            conn.close()
        if isinstance(exc, OSError):
            raise StoreError(f"cannot create the database {path}: {exc.strerror or exc}") from exc
        raise _error(exc, path) from exc
    return conn


def _connect_ro(path: Path, busy_ms: int, *, immutable: bool = False) -> sqlite3.Connection:
    uri = f"file:{quote(str(path.absolute()))}?mode=ro" + ("&immutable=1" if immutable else "")
    conn = sqlite3.connect(uri, uri=True, isolation_level=None)
    try:
        _configure(conn, busy_ms)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # opens the file for real
    except BaseException:
        conn.close()
        raise
    return conn


def _folder_writable(path: Path) -> bool:
    return os.access(path.parent, os.W_OK)


def open_reader(
    path: Path | str, *, create: bool = True, upgrade: bool = True, busy_ms: int = READER_BUSY_MS
) -> sqlite3.Connection:
    """A read-only connection for one thread (GUI, export, console worker).

    ``create=False`` (the commands that only read: export, audit verify, users list)
    refuses a path with no database instead of making an empty one there. A file from an
    older program is migrated by a writer first, so a reader never sees a half schema
    (``upgrade=False``: left as it is, for ``doctor``, which only looks).
    """
    path = Path(path)
    _check_file(path)
    if not path.exists():
        if not create:
            raise StoreError(f"no database at {path} (a mistyped --db? "
                             "`watchfloor poll` creates one)")  # fmt: skip
        open_writer(path).close()  # first start: the writer creates it, schema and all
    try:
        try:
            conn = _connect_ro(path, busy_ms)
        except sqlite3.OperationalError:
            # a read-only folder: SQLite cannot make the -shm file a WAL reader needs; with
            # no -wal file nobody is writing, so the file can be read as it stands
            if _folder_writable(path):
                raise
            if Path(f"{path}-wal").exists():  # a writer's changes wait there: not to be skipped
                raise StoreError(
                    f"cannot read the database {path}: its folder is read-only and SQLite cannot "
                    "make the -shm file that reading the -wal file beside it needs"
                ) from None
            conn = _connect_ro(path, busy_ms, immutable=True)
        try:
            version = _check_version(conn, path)
        except BaseException:
            conn.close()
            raise
        if version == 0 and not create:
            conn.close()
            raise StoreError(f"{path} is an empty file, not a watchfloor database")
        if version < len(MIGRATIONS) and upgrade:  # an older file: migrate it first
            conn.close()
            try:
                open_writer(path).close()
            except StoreError as exc:
                raise StoreError(
                    f"the database {path} has schema v{version}, older than this program's "
                    f"v{len(MIGRATIONS)}, and cannot be upgraded here: {exc}"
                ) from exc
            conn = _connect_ro(path, busy_ms)
    except sqlite3.Error as exc:
        raise _error(exc, path) from exc
    return conn


def writable(path: Path | str) -> str | None:
    """Why a writer could not store into ``path``, or None if it can (nothing is changed).

    Asks the file system and SQLite itself (a write lock taken and given back), so a
    read-only folder, file or mount is found as the writer would find it.
    """
    path = Path(path)
    if path.is_dir():
        return f"{path} is a folder, not a database file"
    folder = next((p for p in (path.absolute(), *path.absolute().parents) if p.exists()), None)
    if not path.exists():
        if folder is None or not os.access(folder, os.W_OK | os.X_OK):
            return f"the folder {folder or path.parent} is not writable"
        return None
    wal = [Path(f"{path}{end}") for end in ("-wal", "-shm")]
    if not os.access(path.parent, os.W_OK) and not all(os.access(w, os.W_OK) for w in wal):
        return f"the folder {path.parent} is read-only (SQLite keeps its -wal and -shm files there)"
    uri = f"file:{quote(str(path.absolute()))}?mode=rw"
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        return describe_error(exc, path)
    try:
        conn.execute(f"PRAGMA busy_timeout = {READER_BUSY_MS}")
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
    except sqlite3.Error as exc:
        if _code(exc) in {_BUSY, _LOCKED}:
            return None  # another writer holds it right now: writable, just busy
        return describe_error(exc, path)
    finally:
        conn.close()
    return None


def check_readable(path: Path | str, *, thorough: bool = False) -> None:
    """Raise :class:`StoreError` unless a database is at ``path`` and reads.

    ``thorough`` runs SQLite's ``quick_check`` over every page (seconds on a big file:
    never on the GUI thread), so damage in pages no query has touched yet is found too.
    """
    path = Path(path)
    conn = open_reader(path, create=False)
    try:
        if thorough:
            (result,) = conn.execute("PRAGMA quick_check(1)").fetchone()
            if result != "ok":
                result = " ".join(str(result).replace("*** in database main ***", "").split())
                raise StoreError(f"the database {path} is damaged ({result}): restore it from a "
                                 "backup, or move it aside and a new one is started",
                                 damaged=True)  # fmt: skip
    except sqlite3.Error as exc:
        raise _error(exc, path) from exc
    finally:
        conn.close()


def probe(path: Path | str, *, thorough: bool = False) -> str | None:
    """What is wrong with the database at ``path``, as one line to show, or None.

    For a wall on a damaged cache: call it at start and when a tile's read fails (off the
    GUI thread when ``thorough``) and show the line it returns. No file is not a
    problem here: the poller creates it.
    """
    path = Path(path)
    if not path.exists() and not path.is_dir():
        return None
    try:
        check_readable(path, thorough=thorough)
    except StoreError as exc:
        return str(exc)
    return None


@contextlib.contextmanager
def transaction(
    conn: sqlite3.Connection, *, immediate: bool = True
) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any exception."""
    conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
    try:
        yield conn
    except BaseException:
        with contextlib.suppress(sqlite3.Error):  # a failed COMMIT may have ended it already
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def data_version(conn: sqlite3.Connection) -> int:
    """Changes when *another* connection commits: how a wall process notices new data."""
    (version,) = conn.execute("PRAGMA data_version").fetchone()
    return int(version)
