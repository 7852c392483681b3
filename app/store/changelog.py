"""The change log: one row per commit, written in that commit, read on by every view.

The writer adds a row (tables, ids, topics) inside each transaction, so a row exists if
and only if its commit does. A view keeps the last id it saw and reads on from there:
the same channel whether the commit came from this process or another (a console
beside the wall, a hub on another machine filling this cache). ``PRAGMA data_version``
is only the cheap wake-up that says whether reading is worth it; in a room a
PostgreSQL ``NOTIFY`` carrying the id will be the wake-up and the same rows the truth.

Rows are kept :data:`KEEP_S` seconds; a view that fell further behind sees a gap and
re-reads everything once.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from app.store import tables as T
from app.store.db import data_version
from app.store.schema_changes import CHANGES_V as CHANGES_V

#: seconds a change row is kept (a reader further behind re-reads everything)
KEEP_S = 900.0
#: more ids than this in one commit are recorded as "many"
MAX_IDS = 200


@dataclass(frozen=True, slots=True)
class Change:
    """What one commit touched; a view skips changes that do not concern it."""

    tables: frozenset[str]
    topics: frozenset[str] = frozenset()
    #: ids of the rows touched (mention ids, queue item ids); None = many or not known
    ids: tuple[str, ...] | None = None
    #: the change log row's id (0: not from the log)
    id: int = 0


#: what a reader assumes after a gap: anything may have changed
EVERYTHING = Change(frozenset({T.EVERY}))


def record(
    conn: sqlite3.Connection,
    tables: Iterable[str],
    *,
    topics: Iterable[str] = (),
    ids: Iterable[object] | None = None,
    now: float | None = None,
) -> int:
    """Add the row for the commit under way (inside the caller's transaction); its id."""
    id_list = None if ids is None else [str(i) for i in ids]
    if id_list is not None and len(id_list) > MAX_IDS:
        id_list = None
    cur = conn.execute(
        "INSERT INTO changes (ts, tables, ids, topics) VALUES (?, ?, ?, ?)",
        (time.time() if now is None else now, json.dumps(sorted(tables)),
         None if id_list is None else json.dumps(id_list), json.dumps(sorted(topics))),
    )  # fmt: skip
    return int(cur.lastrowid or 0)


def prune(conn: sqlite3.Connection, now: float | None = None, keep_s: float = KEEP_S) -> int:
    """Drop rows older than ``keep_s`` (always keeping the newest); how many went."""
    cutoff = (time.time() if now is None else now) - keep_s
    cur = conn.execute(
        "DELETE FROM changes WHERE ts < ? AND id < (SELECT max(id) FROM changes)", (cutoff,)
    )
    return cur.rowcount


def head(conn: sqlite3.Connection) -> int:
    """The newest change id (one b-tree probe)."""
    (value,) = conn.execute("SELECT coalesce(max(id), 0) FROM changes").fetchone()
    return int(value)


@dataclass(frozen=True, slots=True)
class ChangeBatch:
    """What a reader learns in one read: the changes, in order, and where it now stands."""

    changes: list[Change] = field(default_factory=list)
    last_id: int = 0
    #: changes were lost to it (pruned, or too many to list): treat everything as changed
    gap: bool = False

    def __bool__(self) -> bool:
        return bool(self.changes) or self.gap


class ChangeFeed(Protocol):
    """The reading side of the change log, as every view uses it.

    One implementation reads a local SQLite file; a room's reads the server's log,
    woken by ``NOTIFY``. Either keeps the reader's last id, so nothing is missed across
    a reconnect.
    """

    @property
    def last_id(self) -> int: ...

    def read(self) -> ChangeBatch:
        """Everything committed since the last read; cheap when nothing was."""
        ...


class SqliteChangeFeed:
    """The change log of a local database, read through the caller's connection.

    ``PRAGMA data_version`` moves whenever another connection (this process's writer
    or another process) commits; only then is the log read.
    """

    def __init__(self, conn: sqlite3.Connection, *, limit: int = 2000) -> None:
        self.conn = conn
        self.limit = limit
        self._version = data_version(conn)
        self._last = head(conn)

    @property
    def last_id(self) -> int:
        return self._last

    def read(self) -> ChangeBatch:
        version = data_version(self.conn)
        if version == self._version:
            return ChangeBatch(last_id=self._last)
        self._version = version
        rows = self.conn.execute(
            "SELECT id, tables, ids, topics FROM changes WHERE id > ? ORDER BY id LIMIT ?",
            (self._last, self.limit + 1),
        ).fetchall()
        if not rows:  # a commit outside the log (another program, a hand edit): assume anything
            return ChangeBatch(last_id=self._last, gap=True)
        gap = rows[0][0] != self._last + 1 or len(rows) > self.limit
        if gap:
            self._last = head(self.conn)
            return ChangeBatch(last_id=self._last, gap=True)
        changes = [_change(row) for row in rows]
        self._last = changes[-1].id
        return ChangeBatch(changes, self._last)


def _change(row: tuple[int, str, str | None, str]) -> Change:
    id_, tables, ids, topics = row
    return Change(
        frozenset(json.loads(tables)), frozenset(json.loads(topics)),
        None if ids is None else tuple(json.loads(ids)), int(id_),
    )  # fmt: skip
