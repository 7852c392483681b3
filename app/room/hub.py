"""The room's hub: ``watchfloor poll`` with ``[room]``.

One hub polls at a time: the one holding the room's advisory lock on its own session.
A standby keeps a session of its own open (so the room shows who stands by), tries the
lock on it every couple of seconds and takes over when the active hub's session ends (a killed process at once; a vanished machine after the short keepalive
set in :mod:`app.room.connect`). Polling stops the moment the lock's session is lost,
so two hubs never poll together.

The active hub runs the same poller into its own SQLite cache (same analysis, same
alerts), and publishes from that cache into the room on the lock's session, so a hub
that lost the lock can write nothing there. Mentions, alerts and source health — with
the cursors from the same local snapshot — go in one PostgreSQL transaction, with its
change-log row: the room's cursors always match the mentions it holds, and a standby
resumes exactly where the room stands.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import orjson
import psycopg
from psycopg.types.json import Jsonb, set_json_dumps

from app.config import Config, Room
from app.poller import Poller
from app.room.connect import RoomError, connect, describe, station_name
from app.room.mentions import body_from_row
from app.room.publish import (
    HEALTH_COLUMNS,
    insert_mentions,
    log_change,
    prune_changes,
    prune_mentions,
)
from app.room.schema import HUB_LOCK, ensure, room_id
from app.room.sender import RoomSender
from app.sources.base import Source
from app.store.db import open_reader
from app.store.writer import StoreWriter
from app.workflow.service import QueueWorkflow

log = logging.getLogger(__name__)

R = TypeVar("R")

#: seconds between a standby's tries of the hub lock (takeover well within 30 s)
LOCK_RETRY_S = 2.0
#: longest pause between publishing rounds when no commit woke the hub
PUBLISH_EVERY_S = 1.0
#: mentions published per transaction
PAGE = 5000
#: local ``meta`` keys: what was published from this cache already
META_ROWID, META_ALERT = "room.published_rowid", "room.published_alert"
#: local ``meta`` key: the identity of the room those were published to
META_ROOM = "room.published_to"
#: seconds between prunes of the change log
PRUNE_EVERY_S = 600.0

_HEALTH = HEALTH_COLUMNS
_UPSERT_HEALTH = (
    f"INSERT INTO source_state ({', '.join(_HEALTH)}, hub, updated_ts) VALUES"
    f" ({', '.join(['%s'] * len(_HEALTH))}, %s, extract(epoch FROM clock_timestamp()))"
    " ON CONFLICT (name) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in (*_HEALTH[1:], "hub", "updated_ts"))
)
_ALERT_COLUMNS = ("kind", "topic", "ts", "window_start", "observed", "baseline", "z",
                  "explanation", "terms", "state", "acked_by", "acked_ts")  # fmt: skip

#: how a hub's sessions name themselves (``application_name``), before the station
_HUB_NAME = "watchfloor hub "

_HOLDER = """
SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.classid = %s AND l.objid = %s
  AND l.objsubid = 1
"""


def lock_holder(conn: psycopg.Connection[Any]) -> str | None:
    """The ``application_name`` of the session holding the hub lock, if any holds it."""
    row = conn.execute(_HOLDER, (HUB_LOCK >> 32, HUB_LOCK & 0xFFFFFFFF)).fetchone()
    return str(row[0]) if row else None


def standing_by(conn: psycopg.Connection[Any]) -> list[str]:
    """The stations of the hubs connected to the room that do not hold the lock."""
    holder = lock_holder(conn)
    rows = conn.execute("SELECT DISTINCT application_name FROM pg_stat_activity"
                        " WHERE datname = current_database() AND application_name LIKE %s"
                        " ORDER BY 1", (_HUB_NAME + "%",)).fetchall()  # fmt: skip
    return [str(r[0]).removeprefix(_HUB_NAME) for r in rows if r[0] != holder]


class Hub:
    def __init__(
        self,
        config: Config,
        room: Room,
        db_path: Path,
        *,
        workflow: QueueWorkflow | None = None,
        sources: Callable[[], Sequence[Source]] | None = None,
        lock_retry_s: float = LOCK_RETRY_S,
    ) -> None:
        """``sources`` builds the sources afresh for each time this hub becomes active."""
        self.config = config
        self.room = room
        self.db_path = db_path
        self.workflow = workflow
        self.make_sources = sources
        self.lock_retry_s = lock_retry_s
        self.state = "starting"  # standby | active | stopped
        self.error = ""
        self.holder: str | None = None
        self.published = 0
        self.activations = 0
        self._halt = threading.Event()
        self._stop: asyncio.Event | None = None
        self._dirty: asyncio.Event | None = None
        self._poller: Poller | None = None
        self._db = ThreadPoolExecutor(1, thread_name_prefix="room-hub")
        self._reader: sqlite3.Connection | None = None
        self._rowid = 0
        self._alert_id = 0
        self._health_sent: dict[str, tuple[Any, ...]] = {}
        self._once_refused = False
        self._writer: StoreWriter | None = None
        self._prune_refused = False

    # -- control ---------------------------------------------------------------------

    def stop(self) -> None:
        self._halt.set()
        if self._stop is not None:
            self._stop.set()

    def ok(self) -> bool:
        return not self._once_refused and (self.activations > 0 or self.state == "standby"
                                           or not self.error)  # fmt: skip

    def summary(self) -> str:
        if self._once_refused:
            return f"room hub: not polling, another hub holds the room's lock ({self.holder})"
        if self.activations == 0 and self.error:
            return f"room hub: never reached the room: {self.error}"
        if self.activations == 0:
            return f"room hub: stood by; the hub lock is held by {self.holder or 'another hub'}"
        return (f"room hub: {self.published} mentions published in {self.activations} "
                f"active period(s) as {station_name(self.room)}")  # fmt: skip

    async def _in_db(self, fn: Callable[..., R], *args: Any) -> R:
        """Run on the hub's one database thread (its PostgreSQL and SQLite connections)."""
        return await asyncio.get_running_loop().run_in_executor(self._db, fn, *args)

    # -- the run ---------------------------------------------------------------------

    async def run(self, *, once: bool = False, duration: float | None = None) -> None:
        loop = asyncio.get_running_loop()
        self._stop, self._dirty = asyncio.Event(), asyncio.Event()
        if self._halt.is_set():
            self._stop.set()
        deadline = None if duration is None else time.monotonic() + duration
        writer = StoreWriter(self.db_path, self.config).start()
        dirty = self._dirty

        def woken(change: object) -> None:  # on the writer's thread: a commit to publish
            loop.call_soon_threadsafe(dirty.set)

        writer.add_listener(woken)
        try:
            while not self._stop.is_set():
                conn = await self._in_db(self._acquire, once, deadline)
                if conn is None:
                    break
                try:
                    await self._active(conn, writer, once, deadline)
                finally:
                    await self._in_db(conn.close)
                if once or (deadline is not None and time.monotonic() >= deadline):
                    break
        finally:
            self.state = "stopped"
            await asyncio.to_thread(writer.close)
            await self._in_db(self._close_reader)
            self._db.shutdown(wait=False)

    def _acquire(self, once: bool, deadline: float | None) -> psycopg.Connection[Any] | None:
        """Wait for the hub lock; None when stopped, out of time or (once) refused.

        A standby keeps its session open and tries the lock on it every ``lock_retry_s``,
        so the room always shows who stands by (``pg_stat_activity``, ``doctor``); it
        connects again only when that session broke.
        """
        said = ""
        conn: psycopg.Connection[Any] | None = None
        while not self._halt.is_set():
            if deadline is not None and time.monotonic() >= deadline:
                break
            try:
                if conn is None or conn.closed:
                    conn = connect(self.room, purpose="hub")
                    set_json_dumps(orjson.dumps, conn)
                    ensure(conn)
                row = conn.execute("SELECT pg_try_advisory_lock(%s)", (HUB_LOCK,)).fetchone()
                if row and row[0]:
                    self.holder, self.error = None, ""
                    return conn
                self.holder = lock_holder(conn)
                self.state = "standby"
                self.error = ""
                if said != self.holder:
                    said = self.holder or ""
                    log.warning("standby: the room's hub lock is held by %s", self.holder)
                if once:
                    self._once_refused = True
                    break
            except (psycopg.Error, RoomError) as exc:
                if self.error != describe(exc):  # unreachable, refused, or the schema's age
                    log.error("standing by, the room cannot be used: %s", describe(exc))
                self.error = describe(exc)
                if conn is not None:
                    conn.close()
                    conn = None
                if once:
                    raise RoomError(self.error) from None
            self._halt.wait(self.lock_retry_s)
        if conn is not None:
            conn.close()
        return None

    async def _active(self, conn: psycopg.Connection[Any], writer: StoreWriter, once: bool,
                      deadline: float | None) -> None:  # fmt: skip
        assert self._stop is not None and self._dirty is not None
        self.state = "active"
        self.activations += 1
        log.warning("active: this hub holds the room's lock and polls")
        await self._in_db(self._seed, conn, writer)
        sources = list(self.make_sources()) if self.make_sources else None
        room, station = self.room, station_name(self.room)
        poller = self._poller = Poller(
            self.config, writer, sources=sources, workflow=self.workflow,
            # the replies the room's consoles approved go out from here, the active hub
            sender=lambda by_name, client: RoomSender(room, station, by_name, client,
                                                      cache=writer.db_path))  # fmt: skip
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        task = asyncio.create_task(poller.run(once=once, duration=remaining), name="room-poller")
        stopping = asyncio.create_task(self._stop.wait())
        pruned = -PRUNE_EVERY_S
        try:
            while True:
                finished = task.done()
                while await self._in_db(self._publish, conn):
                    pass
                if time.monotonic() - pruned >= PRUNE_EVERY_S:
                    more = await self._in_db(self._prune, conn)
                    pruned = -PRUNE_EVERY_S if more else time.monotonic()  # a backlog: on at once
                if finished:
                    break
                self._dirty.clear()
                dirty = asyncio.create_task(self._dirty.wait())
                await asyncio.wait({task, dirty, stopping}, timeout=PUBLISH_EVERY_S,
                                   return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
                dirty.cancel()
                if stopping.done() and not task.done():
                    await poller.stop()
        except (psycopg.Error, RoomError) as exc:
            self.error = describe(exc)
            log.error("lost the room (%s): polling stops until this hub holds the lock again",
                      self.error)  # fmt: skip
            self.state = "standby"
        finally:
            stopping.cancel()
            if not task.done():
                await poller.stop()
            await asyncio.gather(task, return_exceptions=True)
            self._poller = None

    # -- on the database thread ------------------------------------------------------

    def _local(self) -> sqlite3.Connection:
        if self._reader is None:
            self._reader = open_reader(self.db_path)
            self._reader.row_factory = sqlite3.Row
        return self._reader

    def _close_reader(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def _prune(self, conn: psycopg.Connection[Any]) -> bool:
        """The room's retention, kept by the active hub: the change log past a day, and
        mentions past ``[retention] mentions_days`` that are no part of the care record.
        True when mentions past it are left for the next round."""
        prune_changes(conn)
        cutoff = time.time() - self.config.retention.mentions_days * 86400
        try:
            gone, more = prune_mentions(conn, cutoff)
        except psycopg.errors.InsufficientPrivilege:
            if not self._prune_refused:  # a room set up by an older version: say it once
                self._prune_refused = True
                log.warning("the room keeps every mention: its application role may not delete"
                            " them; run 'watchfloor room init' as the room's owner to set its grants")  # fmt: skip
            return False
        if gone:
            log.info("dropped %d mentions older than %g days from the room", gone,
                     self.config.retention.mentions_days)  # fmt: skip
        return more

    def _seed(self, conn: psycopg.Connection[Any], writer: StoreWriter) -> None:
        """Take the room's cursors into the local cache before polling starts from them."""
        rows = conn.execute("SELECT name, type, cursor FROM source_state").fetchall()
        values = [(name, kind, json.dumps(cursor)) for name, kind, cursor in rows]

        def write(local: sqlite3.Connection) -> None:
            local.executemany("INSERT INTO source_state (name, type, cursor) VALUES (?, ?, ?)"
                              " ON CONFLICT (name) DO UPDATE SET cursor = excluded.cursor", values)  # fmt: skip

        if values:
            writer.call(write, tables=("source_state",)).result(timeout=60)
        meta = dict(self._local().execute("SELECT key, value FROM meta WHERE key IN (?, ?, ?)",
                                          (META_ROWID, META_ALERT, META_ROOM)).fetchall())  # fmt: skip
        rid = room_id(conn)
        if meta.get(META_ROOM) == rid:
            self._rowid = int(meta.get(META_ROWID, 0))
            self._alert_id = int(meta.get(META_ALERT, 0))
        else:  # a first start, or a room restored from a backup (a new identity): the room
            # may lack what this cache published after the backup, so offer it all again
            # (ids the room holds are skipped)
            if meta.get(META_ROOM):
                log.warning("the room has a new identity (restored?): publishing this hub's "
                            "cache to it again")  # fmt: skip
            self._rowid = self._alert_id = 0
            writer.call(lambda c: c.execute("INSERT OR REPLACE INTO meta (key, value) VALUES"
                                            " (?, ?)", (META_ROOM, rid)),
                        tables=("meta",)).result(timeout=60)  # fmt: skip
        self._health_sent = {}
        self._writer = writer

    def _publish(self, conn: psycopg.Connection[Any]) -> bool:
        """Publish one page of what the local cache holds and the room not; True if more wait."""
        local = self._local()
        local.execute("BEGIN")  # one snapshot: the cursors below match these mentions
        try:
            rows = local.execute("SELECT rowid AS local_rowid, * FROM mentions WHERE rowid > ?"
                                 " ORDER BY rowid LIMIT ?", (self._rowid, PAGE)).fetchall()  # fmt: skip
            complete = len(rows) < PAGE
            health = alerts = []
            if complete:
                health = local.execute(f"SELECT {', '.join(_HEALTH)} FROM source_state").fetchall()
                alerts = local.execute(f"SELECT id, {', '.join(_ALERT_COLUMNS)} FROM alerts"
                                       " WHERE id > ? ORDER BY id", (self._alert_id,)).fetchall()  # fmt: skip
        finally:
            local.execute("COMMIT")
        bodies = {str(r["id"]): body_from_row(r) for r in rows}
        changed = [h for h in health if tuple(h) != self._health_sent.get(h["name"])]
        with conn.transaction():
            new = insert_mentions(conn, bodies)
            hub = station_name(self.room)
            for h in changed:
                conn.execute(_UPSERT_HEALTH, (h["name"], h["type"], Jsonb(json.loads(h["cursor"] or "{}")),
                                              *tuple(h)[3:], hub))  # fmt: skip
            fresh_alerts = 0
            for a in alerts:
                cur = conn.execute(
                    f"INSERT INTO alerts ({', '.join(_ALERT_COLUMNS)}) VALUES"
                    f" ({', '.join(['%s'] * len(_ALERT_COLUMNS))}) ON CONFLICT DO NOTHING",
                    (*tuple(a)[1:9], json.loads(a["terms"] or "[]"), *tuple(a)[10:]),
                )
                fresh_alerts += cur.rowcount
            queued = any(bodies[i]["needs_response"] for i in new)
            tables = [name for name, hit in (("mentions", new), ("queue", queued),
                                             ("source_state", changed), ("alerts", fresh_alerts))
                      if hit]  # fmt: skip
            if tables:
                topics = {t for i in new for t in bodies[i]["topics"]}
                log_change(conn, tables, [*new, *(h["name"] for h in changed)], topics)
            else:
                conn.execute("SELECT 1")  # the lock's session is alive: still ours
        self.published += len(new)
        meta: dict[str, str] = {}
        if rows:
            self._rowid = int(rows[-1]["local_rowid"])
            meta[META_ROWID] = str(self._rowid)
        if alerts:
            self._alert_id = int(alerts[-1]["id"])
            meta[META_ALERT] = str(self._alert_id)
        for h in changed:
            self._health_sent[h["name"]] = tuple(h)
        if meta and self._writer is not None:
            with contextlib.suppress(RuntimeError):  # the writer is closing: said next time
                self._writer.call(
                    lambda c: c.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                                            meta.items()), tables=("meta",))  # fmt: skip
        return not complete
