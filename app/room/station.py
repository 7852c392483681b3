"""A station's sync: the local SQLite cache filled from the room, on a thread of its own.

Mentions arrive by sequence since the station's own cursor (kept in the local ``meta``
table) and go through the same store writer as a poller's pages, already analysed:
rollups, topic index and queue rows are computed locally by the same code. The cursor
is saved only after the mentions it covers are committed, and the writer drops ids it
already holds, so a crash or a reconnect catches up with no gap and no duplicate.

The queue's states (state, assignee, claim expiry) follow the room's: a claim on one
console shows as claimed in every station's cache, so a wall's queue figures are the
room's. Texts, scores and priorities stay as the local analysis made them. Alert
acknowledgements and crises follow the room's too, so a wall's crisis bar clears when a
console anywhere acknowledges; so do notes, wall commands (copied under the cache's own
ids, where the walls read them), sentiment corrections (laid over the cache's posts and
rollups), the items taken out of their stories and who holds which story (under the
cache's own story ids, found again as new posts join or merge stories here).

NOTIFY (payload: a ``change_log`` id) only wakes the thread; it then reads the change
log on from the last id it saw. While the room is unreachable the cache keeps what it
has and ``meta['room.link']`` says since when the link is lost, for the wall's title bar.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import psycopg
from psycopg.types.json import set_json_loads

from app.config import Room
from app.room import corrections, stories
from app.room.alerts import LOCAL_MATCH, local_matches
from app.room.changes import ChangeCursor, RoomChange
from app.room.connect import CHANNEL, RoomError, connect, describe
from app.room.mentions import mention_from_body
from app.room.publish import HEALTH_COLUMNS
from app.room.schema import ensure, room_id
from app.room.walls import CommandCopy, copy_commands
from app.store.db import open_reader
from app.store.writer import IngestBatch, StoreWriter

log = logging.getLogger(__name__)

#: local ``meta`` keys
META_ROOM, META_SEQ, META_LINK = "room.id", "room.seq", "room.link"
#: which of the room's wall commands the cache holds (:class:`~app.room.walls.CommandCopy`)
META_WALLS = "room.walls"
#: mentions read from the room per round trip while catching up
PAGE = 5000
#: pages handed to the writer and not yet committed, while catching up
IN_FLIGHT = 3
#: seconds between looks at the change log when no notification came (a safety net)
IDLE_CHECK_S = 5.0
#: change-log rows read again after a (re)connect, for transactions that were still open
REREAD_CHANGES = 100
#: longest wait between reconnection attempts
MAX_RETRY_S = 5.0

#: the room's queue states into the cache's rows (only rows that differ are written)
_MIRROR_QUEUE = (
    "UPDATE queue SET state = ?, assignee = ?, claim_expires = ?, updated_ts = ?"
    " WHERE mention_id = ? AND (state IS NOT ? OR assignee IS NOT ? OR claim_expires IS NOT ?)"
)
_QUEUE_STATES = "SELECT mention_id, state, assignee, claim_expires, updated_ts FROM queue"

#: a room alert's acknowledgement laid over the cache's matching active alerts
_MIRROR_ALERT = f"UPDATE alerts SET state = ?, acked_by = ?, acked_ts = ? WHERE {LOCAL_MATCH}"
#: seconds back the room's acknowledgements are copied (older alerts no wall shows)
ALERTS_KEEP_S = 2 * 86400.0
#: seconds between copies of the room's acknowledgements when none changed (for alerts
#: this station detects after the room's was acknowledged)
ALERTS_RECHECK_S = 30.0
#: the latest crises copied besides the open one
CRISES_KEPT = 20
_UPSERT_CRISIS = (
    "INSERT INTO crises (id, topic, reason, declared_by, started_ts, ended_ts, ended_by)"
    " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET topic = excluded.topic,"
    " reason = excluded.reason, declared_by = excluded.declared_by,"
    " started_ts = excluded.started_ts, ended_ts = excluded.ended_ts, ended_by = excluded.ended_by"
)
_UPSERT_CRISIS_EVENT = ("INSERT OR REPLACE INTO crisis_events (id, crisis_id, ts, actor, kind, text,"
                        " mention_id) VALUES (?, ?, ?, ?, ?, ?, ?)")  # fmt: skip

#: seconds back the room's notes are copied on connecting (later ones come as they are written)
NOTES_KEEP_S = 7 * 86400.0
#: a room note into the cache, once (the cache's notes keep their own ids)
_COPY_NOTE = (
    "INSERT INTO notes (mention_id, author, ts, text) SELECT ?, ?, ?, ? WHERE NOT EXISTS"
    " (SELECT 1 FROM notes WHERE mention_id = ? AND author = ? AND ts = ?)"
)

_UPSERT_HEALTH = (
    f"INSERT INTO source_state ({', '.join(HEALTH_COLUMNS)}) VALUES"
    f" ({', '.join('?' * len(HEALTH_COLUMNS))}) ON CONFLICT (name) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in HEALTH_COLUMNS[1:])
)


@dataclass
class LinkStatus:
    """What the station knows of its link to the room (read from any thread)."""

    connected: bool = False
    #: when the link was lost (epoch seconds); None while it is up or never was
    lost_since: float | None = None
    error: str = ""
    seq: int = 0
    received: int = 0
    change_id: int = 0
    #: queue rows whose room state was laid over the cache's
    queue_mirrored: int = 0

    def lost_text(self) -> str:
        if self.lost_since is None:
            return ""
        return datetime.fromtimestamp(self.lost_since).strftime("%H:%M:%S")


def read_link(conn: sqlite3.Connection) -> dict[str, Any] | None:
    """The room link as the station last recorded it in a cache (for walls and doctor)."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (META_LINK,)).fetchone()
    return json.loads(row[0]) if row else None


def _put_meta(conn: sqlite3.Connection, items: dict[str, str]) -> None:
    conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", items.items())


class Station:
    def __init__(self, room: Room, writer: StoreWriter, *, page: int = PAGE,
                 alerts_recheck_s: float = ALERTS_RECHECK_S) -> None:  # fmt: skip
        self.room = room
        self.writer = writer
        self.page = page
        self.alerts_recheck_s = alerts_recheck_s
        self.status = LinkStatus()
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None
        self._room_id = ""
        self._walls = CommandCopy(None)
        #: set each time the cache has caught up with the room (tests, benchmarks)
        self.caught_up = threading.Event()

    def start(self) -> Station:
        self._thread = threading.Thread(target=self._run, name="room-station", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._halt.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    # -- the thread ------------------------------------------------------------------

    def _run(self) -> None:
        retry = 0.5
        while not self._halt.is_set():
            try:
                with connect(self.room, purpose="station") as conn:
                    self._session(conn)
                    retry = 0.5
            except (psycopg.Error, RoomError) as exc:
                self._link_lost(describe(exc))
            except Exception as exc:  # a local fault (disk full): said, then tried again
                log.exception("room sync failed")
                self._link_lost(f"local error: {type(exc).__name__}: {exc}")
            self._halt.wait(retry)
            retry = min(retry * 2, MAX_RETRY_S)

    def _session(self, conn: psycopg.Connection[Any]) -> None:
        ensure(conn)
        set_json_loads(orjson.loads, conn)
        conn.execute(f"LISTEN {CHANNEL}")  # before reading, so no change falls between
        self._load_cursor(room_id(conn))
        (top,) = conn.execute("SELECT coalesce(max(id), 0) FROM change_log").fetchone() or (0,)
        # a little behind the top: a transaction still open now may hold a lower id
        changes = ChangeCursor(last=max(0, int(top) - REREAD_CHANGES))
        self._link_up()
        self._catch_up(conn)
        self._mirror_health(conn)
        self._mirror_queue(conn, None)
        self._mirror_alerts(conn)
        self._mirror_crises(conn)
        self._mirror_notes(conn, None)
        self._mirror_walls(conn)
        self._mirror_corrections(conn, corrections.read_corrections(conn, None))
        self._mirror_exclusions(conn, None)
        self._mirror_story_claims(conn)
        quiet_since = alerts_at = time.monotonic()
        while not self._halt.is_set():
            woke = any(True for _ in conn.notifies(timeout=min(1.0, self.alerts_recheck_s),
                                                   stop_after=1))  # fmt: skip
            if time.monotonic() - alerts_at > self.alerts_recheck_s:
                # an alert this station detects after the room's acknowledgement came
                alerts_at = time.monotonic()
                self._mirror_alerts(conn)
            if not woke and time.monotonic() - quiet_since < IDLE_CHECK_S:
                continue
            quiet_since = time.monotonic()
            got = changes.read(conn)
            self.status.change_id = changes.last
            tables = {t for c in got for t in c.tables}
            if "mentions" in tables:
                self._catch_up(conn)
            if "source_state" in tables:
                self._mirror_health(conn)
            if "queue" in tables:
                # a transition names its item; a publish of many new ones (no ids) brings
                # items that are new in the cache already
                self._mirror_queue(conn, _ids(got, "queue") or set())
            if "alerts" in tables:
                alerts_at = time.monotonic()
                self._mirror_alerts(conn)
            if "crises" in tables:
                self._mirror_crises(conn)
            if "notes" in tables:
                self._mirror_notes(conn, _ids(got, "notes"))
            if "wall_commands" in tables:
                self._mirror_walls(conn)
            if "sentiment_corrections" in tables:
                self._mirror_corrections(conn, corrections.read_corrections(
                    conn, _ids(got, "sentiment_corrections")))  # fmt: skip
            if "story_exclusions" in tables:
                self._mirror_exclusions(conn, _ids(got, "story_exclusions"))
            if tables & {"story_claims", "story_exclusions", "mentions"}:
                # new posts may join (or merge) a claimed story here: found again each time
                self._mirror_story_claims(conn)

    def _load_cursor(self, rid: str) -> None:
        reader = open_reader(self.writer.db_path)
        try:
            found = dict(reader.execute("SELECT key, value FROM meta WHERE key IN (?, ?, ?)",
                                        (META_ROOM, META_SEQ, META_WALLS)).fetchall())  # fmt: skip
        finally:
            reader.close()
        if found.get(META_ROOM) == rid:
            self.status.seq = int(found.get(META_SEQ, 0))
            self._walls = CommandCopy(found.get(META_WALLS))
        else:  # another room (or a first start): read it all; ids already here are skipped
            if found.get(META_ROOM):
                log.warning(
                    "this cache was filled from another room: reading this one from the start"
                )
            self.status.seq = 0
            self._walls = CommandCopy(None)
        self._room_id = rid

    def _catch_up(self, conn: psycopg.Connection[Any]) -> None:
        """Read every mention after the cursor, a page at a time, into the local writer.

        Pages are read from the room while the writer stores the ones before (a few in
        flight, which it merges into fewer transactions); the saved cursor moves on only
        once its page is committed.
        """
        pending: deque[tuple[Future[Any], int]] = deque()
        saved: Future[None] | None = None
        start = self.status.seq
        while not self._halt.is_set():
            # the body as text, parsed here: psycopg's own JSON loader costs as much again
            rows = conn.execute("SELECT seq, body::text FROM mentions WHERE seq > %s ORDER BY seq"
                                " LIMIT %s", (self.status.seq, self.page)).fetchall()  # fmt: skip
            if not rows:
                break
            loads = orjson.loads
            mentions = [mention_from_body(loads(body)) for _, body in rows]
            stored = self.writer.submit(IngestBatch(source="room", source_type="room",
                                                    mentions=mentions, cursor={}, analysed=True))  # fmt: skip
            pending.append((stored, int(rows[-1][0])))
            self.status.seq = int(rows[-1][0])
            self.status.received += len(rows)
            while len(pending) > IN_FLIGHT:
                saved = self._commit(*pending.popleft())
            if len(rows) < self.page:
                break
        while pending:
            saved = self._commit(*pending.popleft())
        if saved is not None:
            saved.result(timeout=60)
        if self.status.seq > start:  # the posts came with the hub's class: the room's, if corrected
            self._mirror_corrections(conn, corrections.corrected_between(conn, start, self.status.seq))
        self.caught_up.set()

    def _commit(self, stored: Future[Any], seq: int) -> Future[None]:
        """Once a page is stored, queue its cursor (the writer commits in order)."""
        stored.result(timeout=120)
        items = {META_ROOM: self._room_id, META_SEQ: str(seq)}
        return self.writer.call(lambda c: _put_meta(c, items), tables=("meta",))

    def _mirror_health(self, conn: psycopg.Connection[Any]) -> None:
        """The room's source health (as the hub records it) into the local cache."""
        rows = conn.execute(f"SELECT {', '.join(HEALTH_COLUMNS)} FROM source_state").fetchall()
        values = [(*r[:2], json.dumps(r[2]), *r[3:]) for r in rows]
        if values:
            self.writer.call(lambda c: c.executemany(_UPSERT_HEALTH, values),
                             tables=("source_state",)).result(timeout=60)  # fmt: skip

    def _mirror_queue(self, conn: psycopg.Connection[Any], ids: set[str] | None) -> None:
        """The room's queue states over the cache's rows: of ``ids``, or (None, on connecting)
        of every item that left 'new' or came back to it (what moved while away)."""
        if ids is None:
            rows = conn.execute(f"{_QUEUE_STATES} WHERE state <> 'new' OR updated_ts > queued_ts")
        elif ids:
            rows = conn.execute(f"{_QUEUE_STATES} WHERE mention_id = ANY (%s)", (list(ids),))
        else:
            return
        values = [(s, a, e, u, m, s, a, e) for m, s, a, e, u in rows.fetchall()]
        if values:
            done = self.writer.call(lambda c: c.executemany(_MIRROR_QUEUE, values),
                                    tables=("queue", "queue_counts"), ids=[v[4] for v in values])  # fmt: skip
            done.result(timeout=60)
        self.status.queue_mirrored += len(values)

    def _mirror_alerts(self, conn: psycopg.Connection[Any]) -> None:
        """The room's acknowledgements over the cache's own alerts (the same alert detected
        here has its own id and a time near the room's): a console's ack clears every wall."""
        rows = conn.execute(
            "SELECT kind, topic, ts, state, acked_by, acked_ts FROM alerts WHERE state <> 'active'"
            " AND coalesce(acked_ts, ts) > extract(epoch FROM now()) - %s", (ALERTS_KEEP_S,),
        ).fetchall()  # fmt: skip
        values = [(s, by, at, *local_matches(k, t, ts)) for k, t, ts, s, by, at in rows]
        if values:
            done = self.writer.call(lambda c: c.executemany(_MIRROR_ALERT, values),
                                    tables=("alerts",))  # fmt: skip
            done.result(timeout=60)

    def _mirror_crises(self, conn: psycopg.Connection[Any]) -> None:
        """The room's crises (the open one and the latest) and their timelines into the cache;
        a crisis open here but not in the room is ended (the room is where crises live)."""
        crises = conn.execute(
            "SELECT id, topic, reason, declared_by, started_ts, ended_ts, ended_by FROM crises"
            " WHERE ended_ts IS NULL OR id > (SELECT coalesce(max(id), 0) FROM crises) - %s",
            (CRISES_KEPT,),
        ).fetchall()  # fmt: skip
        ids = [int(r[0]) for r in crises]
        events = conn.execute("SELECT id, crisis_id, ts, actor, kind, text, mention_id"
                              " FROM crisis_events WHERE crisis_id = ANY (%s)", (ids,)).fetchall()  # fmt: skip
        still = [int(r[0]) for r in crises if r[5] is None]

        def write(c: sqlite3.Connection) -> None:
            c.executemany(_UPSERT_CRISIS, crises)
            c.executemany(_UPSERT_CRISIS_EVENT, events)
            c.execute(f"UPDATE crises SET ended_ts = ?, ended_by = coalesce(ended_by, 'room')"
                      f" WHERE ended_ts IS NULL AND id NOT IN ({', '.join('?' * len(still))})",
                      (time.time(), *still))  # fmt: skip

        self.writer.call(write, tables=("crises", "crisis_events")).result(timeout=60)

    def _mirror_notes(self, conn: psycopg.Connection[Any], ids: set[str] | None) -> None:
        """The room's notes on ``ids`` (None, on connecting: those of the last days) into the cache."""
        if ids is None:
            rows = conn.execute("SELECT mention_id, author, ts, text FROM notes WHERE ts >"
                                " extract(epoch FROM now()) - %s", (NOTES_KEEP_S,))  # fmt: skip
        elif ids:
            rows = conn.execute("SELECT mention_id, author, ts, text FROM notes"
                                " WHERE mention_id = ANY (%s)", (list(ids),))  # fmt: skip
        else:
            return
        values = [(m, a, t, x, m, a, t) for m, a, t, x in rows.fetchall()]
        if values:
            self.writer.call(lambda c: c.executemany(_COPY_NOTE, values), tables=("notes",),
                             ids=sorted({v[0] for v in values})).result(timeout=60)  # fmt: skip

    def _mirror_walls(self, conn: psycopg.Connection[Any]) -> None:
        """The room's new wall commands into the cache, where this machine's walls read them."""
        walls = self._walls
        was = walls.dump()
        new = walls.read(conn)
        state = walls.dump()
        if not new and state == was:
            return

        def write(c: sqlite3.Connection) -> None:
            copy_commands(c, new)
            _put_meta(c, {META_WALLS: state})

        self.writer.call(write, tables=("wall_commands", "meta")).result(timeout=60)

    def _mirror_corrections(self, conn: psycopg.Connection[Any], labels: list[tuple[str, str]]) -> None:
        """The room's sentiment corrections over the cache's posts and rollups."""
        if labels:
            self.writer.call(lambda c: corrections.apply_labels(c, labels),
                             tables=("mentions", "rollups"), ids=[m for m, _ in labels]).result(timeout=60)  # fmt: skip

    def _mirror_exclusions(self, conn: psycopg.Connection[Any], ids: set[str] | None) -> None:
        """The items taken out of their stories anywhere in the room, out here too."""
        rows = stories.read_exclusions(conn, ids)
        if rows:
            self.writer.call(lambda c: stories.copy_exclusions(c, rows),
                             tables=("story_exclusions",), ids=[r[0] for r in rows]).result(timeout=60)  # fmt: skip

    def _mirror_story_claims(self, conn: psycopg.Connection[Any]) -> None:
        """Who holds which story in the room, under this cache's story ids: looked at on
        each new page of posts (they may join or merge a claimed story here), written only
        when the cache's copy differs (the claims are few; copied whole, so one gone idle
        or given up leaves too)."""
        claims = stories.read_story_claims(conn)
        reader = open_reader(self.writer.db_path)
        try:
            same = stories.cache_story_claims(reader, claims) == stories.held_in_cache(reader)
        finally:
            reader.close()
        if not same:
            self.writer.call(lambda c: stories.copy_story_claims(c, claims),
                             tables=("story_claims",)).result(timeout=60)  # fmt: skip

    def _link_up(self) -> None:
        was_lost = self.status.lost_since is not None
        self.status.connected, self.status.lost_since, self.status.error = True, None, ""
        link = {"state": "up", "since": time.time(), "seq": self.status.seq}
        self.writer.call(lambda c: _put_meta(c, {META_LINK: json.dumps(link)}), tables=("meta",))
        (log.warning if was_lost else log.info)(
            "room link up: catching up from sequence %d", self.status.seq
        )

    def _link_lost(self, reason: str) -> None:
        first = self.status.connected or self.status.lost_since is None
        self.status.connected = False
        self.status.error = reason
        if self.status.lost_since is None:
            self.status.lost_since = time.time()
        if not first:
            return
        log.warning("room link lost: %s (the cache keeps what it has)", reason)
        link = {"state": "lost", "since": self.status.lost_since, "error": reason,
                "seq": self.status.seq}  # fmt: skip
        if self.writer.running:
            self.writer.call(lambda c: _put_meta(c, {META_LINK: json.dumps(link)}),
                             tables=("meta",))  # fmt: skip


def _ids(changes: list[RoomChange], table: str) -> set[str] | None:
    """The row ids the changes name for ``table``; None if one names none (too many to
    list: read the table)."""
    ids: set[str] = set()
    for c in changes:
        if table in c.tables:
            if not c.ids:
                return None
            ids.update(c.ids)
    return ids
