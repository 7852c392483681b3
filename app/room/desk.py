"""The console on the room: the same desk, its jobs run on PostgreSQL; the room's queue read.

With ``[room]`` the console keeps its window and its guard (:class:`~app.workflow.desk.Desk`);
only where a job runs changes. :class:`RoomDesk` makes the queue's actions (claim, claim
next, release, draft, submit, reply, approve, send back, dismiss, escalate, retry, note)
into jobs for the room's :class:`~app.room.queue.RoomQueue` (alerts and crises for
:class:`~app.room.alerts.RoomAlerts`, wall commands for :mod:`app.room.walls`, sentiment
corrections for :mod:`app.room.corrections`, a story's items for
:class:`~app.room.stories.RoomStories`), each on an item carrying the item's version as
the operator's screen showed it, so an item someone else changed meanwhile is refused
saying what it is now. A job the room does not share (``room=False``) is refused before
anything is done.

:class:`RoomLink` is the console's one connection, on a thread of its own; while the room
is unreachable it refuses at once (nothing is sent, nothing half-done) and a probe every
few hundred milliseconds reconnects by itself. :func:`room_snapshot` lays the room's queue
states over the local cache's rows (texts, stories and scores stay local).
"""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import psycopg

from app import wallcontrol
from app.config import Room
from app.room import corrections as room_corrections
from app.room import presence
from app.room import users as room_users
from app.room import walls as room_walls
from app.room.alerts import AlertKey, RoomAlerts, find_alert
from app.room.changes import ChangeCursor
from app.room.connect import CHANNEL, RoomError, connect, describe
from app.room.mentions import mention_from_body
from app.room.presence import Seen
from app.room.queue import RoomItem, RoomQueue, in_crisis
from app.room.stories import RoomStories
from app.store.db import open_reader
from app.workflow import queries
from app.workflow.desk import Ask, Desk, Job, NotReady, _never
from app.workflow.queries import Detail, Pending, QueueFilter, QueueRow
from app.workflow.service import QueueWorkflow
from app.workflow.snapshot import Snapshot
from app.workflow.states import WorkflowError
from app.workflow.templates import placeholder_values
from app.workflow.users import User

T = TypeVar("T")
Conn = psycopg.Connection[Any]


class RoomDown(WorkflowError):
    """The room cannot be reached: the console is read-only until it returns."""


# -- the link ---------------------------------------------------------------------------


class RoomLink:
    """One connection to the room, used by one worker thread: actions, reads and beats in turn.

    ``up`` and ``lost_since`` are read from the GUI thread to refuse an action at once
    (without waiting on a connect) and to show the banner.
    """

    def __init__(self, room: Room, *, purpose: str = "console") -> None:
        self.room = room
        self.purpose = purpose
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="room-console")
        self._conn: Conn | None = None
        self.up = False
        self.lost_since: float | None = None
        self.error = ""

    def down_text(self) -> str:
        since = (
            datetime.fromtimestamp(self.lost_since).strftime("%H:%M:%S")
            if self.lost_since
            else "now"
        )
        return f"the room is unreachable since {since}: the console is read-only, nothing was done"

    def submit(self, fn: Callable[[Conn], T]) -> Future[T]:
        return self._pool.submit(self._call, fn)

    def act(self, fn: Callable[[Conn], T]) -> Future[T]:
        """An action: refused at once while the room is known to be down."""
        if not self.up and self.lost_since is not None:
            fut: Future[T] = Future()
            fut.set_exception(RoomDown(self.down_text()))
            return fut
        return self.submit(fn)

    def _lost(self, why: str) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = None
        if self.up or self.lost_since is None:
            self.lost_since = time.time()
        self.up = False
        self.error = why

    def _call(self, fn: Callable[[Conn], T]) -> T:
        if self._conn is None or self._conn.closed:
            try:
                self._conn = connect(self.room, purpose=self.purpose)
            except RoomError as exc:
                self._lost(str(exc))
                raise RoomDown(self.down_text()) from None
            self.up, self.lost_since, self.error = True, None, ""
        try:
            return fn(self._conn)
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            self._lost(describe(exc))
            raise RoomDown("the room went away during this action; it was committed whole or not"
                           " at all: look again once the room is back") from None  # fmt: skip

    def close(self) -> None:
        """Close the connection on its own thread, after whatever it is doing."""

        def finish() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        self._pool.submit(finish)
        self._pool.shutdown(wait=True)


class Wakeup:
    """The room's NOTIFY heard on a connection of its own; ``woken`` runs (on its thread) at
    each. Only a wake-up: a notification sent while away is lost, the change log is the truth."""

    def __init__(self, room: Room, woken: Callable[[], None]) -> None:
        self.room = room
        self.woken = woken
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._run, name="room-wakeup", daemon=True)

    def start(self) -> Wakeup:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._halt.is_set():
            try:
                with connect(self.room, purpose="console listen") as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.woken()  # (re)connected: whatever came meanwhile is read now
                    while not self._halt.is_set():
                        if any(True for _ in conn.notifies(timeout=0.5, stop_after=1)):
                            self.woken()
            except (psycopg.Error, RoomError):
                self._halt.wait(1.0)

    def stop(self) -> None:
        self._halt.set()
        self._thread.join(timeout=10)


# -- the desk ---------------------------------------------------------------------------


class RoomDesk(Desk):
    """The desk whose actions run in the room: the queue's, notes and retries, alerts and
    crises, wall commands, sentiment corrections and the story actions."""

    def __init__(self, workflow: QueueWorkflow, queue: RoomQueue, ask: Ask = _never, *,
                 cache: Path | None = None, station: str = "") -> None:  # fmt: skip
        super().__init__(workflow, ask)
        self.queue = queue
        self.alerts = RoomAlerts()
        #: the story actions: stories found in ``cache``, their items acted on in the room
        self.room_stories = RoomStories(queue, self.stories, cache, station)
        #: the local cache the console shows alerts from (their ids are its own)
        self.cache = cache
        #: the selected item's version as the operator's screen showed it (None: not known)
        self.seen: int | None = None
        #: the item ``seen`` belongs to (a re-read that keeps it selected changes nothing)
        self.opened: str | None = None

    def open(self, mention_id: str | None, version: int | None) -> None:
        """The operator opened an item, showing ``version``; the same one again is no news."""
        if mention_id != self.opened:
            self.opened, self.seen = mention_id, version

    def _checked(self, label: str, fn: Callable[[Conn, str, str, int | None], Any]) -> Job:
        """A job on the selected item, refused if it changed since the screen showed it."""
        user, mid = self._user(), self._item()
        seen = self.seen if self.opened == mid else None  # the version shown of this very item

        def call(conn: Conn) -> Any:
            out = fn(conn, user, mid, seen)
            if self.opened == mid:  # my own change is no news to me
                self.seen = out.version if isinstance(out, RoomItem) else (
                    None if seen is None else seen + 1)  # fmt: skip
            return out

        return Job(label, call, ids=(mid,), room=True)

    def claim(self) -> Job:
        return self._checked("Claim", lambda c, u, m, _: self.queue.claim(c, u, m))

    def claim_next(self) -> Job:
        user, topic = self._user(), self.topic

        def call(conn: Conn) -> RoomItem | None:
            if self.room_stories.cache is not None:
                # a new post of a story another holds is theirs before it is anyone's next
                # (the holder's console or the hub routes it too, but only at its next round)
                self.room_stories.route_joiners(conn)
            item = self.queue.claim_next(conn, user, topic=topic)
            if item is not None:
                self.item = self.opened = item.mention_id
                self.seen = item.version
            return item

        return Job("Claim next", call, room=True)

    def release(self) -> Job:
        return self._checked("Release", lambda c, u, m, _: self.queue.release(c, u, m))

    def _render(self, name: str) -> Callable[[Conn, str, str], str]:
        """The pre-approved template's words for one item, its placeholders that item's own."""
        template = self.workflow.rules.templates.get(name)
        brand = self.workflow.rules.brand

        def render(conn: Conn, user: str, mid: str) -> str:
            if template is None or not template.preapproved:
                raise WorkflowError(f"no pre-approved template {name!r}")
            found = conn.execute("SELECT body FROM mentions WHERE id = %s", (mid,)).fetchone()
            if found is None:
                raise WorkflowError(f"no queue item {mid}")
            m = mention_from_body(dict(found[0]))
            crisis = in_crisis(conn, mid)
            if not template.fits(m.network, list(m.topics), crisis=crisis):
                raise WorkflowError(f"the template {name!r} does not apply here"
                                    + (" (during a crisis only crisis templates apply)" if crisis else ""))  # fmt: skip
            return template.render(placeholder_values(
                author=m.author, author_name=m.author_name, brand=brand, network=m.network,
                topics=list(m.topics), operator=user))  # fmt: skip

        return render

    def send_template(self, name: str | None) -> Job:
        if not name:
            self._item()
            raise NotReady("No template fits this item")
        render = self._render(name)

        def call(conn: Conn, user: str, mid: str, seen: int | None) -> int:
            return self.queue.reply(conn, user, mid, render(conn, user, mid), template=name,
                                    seen_version=seen)  # fmt: skip

        return self._checked("Template reply", call)

    def save_draft(self, text: str) -> Job:
        return self._checked("Save draft", lambda c, u, m, s: self.queue.save_draft(c, u, m, text,
                                                                                   seen_version=s))  # fmt: skip

    def submit(self, text: str) -> Job:
        return self._checked("Submit for approval",
                             lambda c, u, m, s: self.queue.submit(c, u, m, text, seen_version=s))  # fmt: skip

    def send_direct(self, text: str) -> Job:
        return self._checked(
            "Send", lambda c, u, m, s: self.queue.reply(c, u, m, text, seen_version=s)
        )

    def dismiss(self, reason: str | None = None) -> Job:
        self._user()
        self._item()
        why = self._reason(reason, "Dismiss", "Why needs this no response?")
        return self._checked(
            "Dismiss", lambda c, u, m, s: self.queue.dismiss(c, u, m, why, seen_version=s)
        )

    def escalate(self, reason: str | None = None) -> Job:
        self._user()
        self._item()
        why = self._reason(reason, "Escalate", "Why does this need escalating?")
        return self._checked("Escalate",
                             lambda c, u, m, s: self.queue.escalate(c, u, m, why, seen_version=s))  # fmt: skip

    def retry(self) -> Job:
        return self._checked("Retry", lambda c, u, m, s: self.queue.retry(c, u, m, seen_version=s))

    def add_note(self, text: str) -> Job:
        user, mid = self._user(), self._item()
        if not text.strip():
            raise NotReady("")
        return Job("Note", lambda c: self.queue.add_note(c, user, mid, text), ids=(mid,), room=True)

    def approve(self, reply_id: int | None = None) -> Job:
        user = self._user()
        rid = self._reply_id(reply_id, "approve")
        return Job("Approve", lambda c: self.queue.approve(c, user, rid), room=True)

    def reject(self, reply_id: int | None = None, reason: str | None = None) -> Job:
        user = self._user()
        rid = self._reply_id(reply_id, "send back")
        why = self._reason(reason, "Send back", "What should change?")
        return Job("Send back", lambda c: self.queue.reject(c, user, rid, why), room=True)

    def _room_alert(self, conn: Conn, local_id: int) -> int:
        """The room's id of the alert the cache holds as ``local_id``."""
        if self.cache is None:
            raise WorkflowError("this console has no cache to name its alerts by")
        reader = open_reader(self.cache)
        try:
            row = reader.execute("SELECT kind, topic, ts FROM alerts WHERE id = ?",
                                 (local_id,)).fetchone()  # fmt: skip
        finally:
            reader.close()
        if row is None:
            raise WorkflowError(f"no alert {local_id}")
        found = find_alert(conn, AlertKey(str(row[0]), str(row[1]), float(row[2])))
        if found is None:
            raise WorkflowError("the room holds no such alert (yet): nothing was done")
        return found

    def acknowledge(self, alert_id: int | None = None) -> Job:
        user, aid = self._user(), self._alert_id(alert_id)
        return Job("Acknowledge",
                   lambda c: self.alerts.acknowledge(c, user, self._room_alert(c, aid)), room=True)  # fmt: skip

    def accept_alert(self, alert_id: int | None = None) -> Job:
        user, aid = self._user(), self._alert_id(alert_id)
        return Job("Declare crisis",
                   lambda c: self.alerts.accept(c, user, self._room_alert(c, aid)), room=True)  # fmt: skip

    def declare_crisis(self, reason: str | None = None, topic: str | None = None) -> Job:
        user = self._user()
        why = self._reason(reason, "Declare a crisis", "What is happening?")
        on = topic if topic is not None else self.topic
        return Job("Declare crisis", lambda c: self.alerts.declare(c, user, on, why), room=True)

    def end_crisis(self, summary: str | None = None) -> Job:
        user = self._user()
        text = self._reason(summary, "End the crisis", "Summary for the record:")
        return Job("End crisis", lambda c: self.alerts.end(c, user, text), room=True)


    # -- the walls, the post's sentiment, the item's story ---------------------------

    def wall(self, command: wallcontrol.Command, args: dict[str, Any], target: str = "*") -> Job:
        user = self._user()
        return Job(f"Walls: {command}",
                   lambda c: room_walls.issue(c, user, command, args, target=target), room=True)  # fmt: skip

    def relabel(self, label: str) -> Job:
        user, mid = self._user(), self._item()
        return Job(f"Sentiment {label}", lambda c: room_corrections.relabel(c, user, mid, label),
                   ids=(mid,), room=True)  # fmt: skip

    def claim_story(self) -> Job:
        user, mid = self._user(), self._item()
        return Job("Claim story", lambda c: self.room_stories.claim_story(c, user, mid), room=True)

    def answer_story(self, template: str | None) -> Job:
        user, mid = self._user(), self._item()
        if not template:
            raise NotReady("No template fits this item")
        render = self._render(template)
        return Job("Answer story",
                   lambda c: self.room_stories.answer_story(c, user, mid, template, render), room=True)  # fmt: skip

    def dismiss_duplicates(self, reason: str | None = None) -> Job:
        user, mid = self._user(), self._item()
        why = self._reason(reason, "Dismiss the story's duplicates",
                           "Why need the others no response? (The selected item stays.)")  # fmt: skip
        return Job("Dismiss duplicates",
                   lambda c: self.room_stories.dismiss_duplicates(c, user, mid, why, keep=mid),
                   room=True)  # fmt: skip

    def take_out(self) -> Job:
        user, mid = self._user(), self._item()
        return Job("Take out of story", lambda c: self.room_stories.take_out(c, user, mid),
                   ids=(mid,), room=True)  # fmt: skip


def not_shared(job: Job) -> str:
    return f"{job.label} is not shared through the room yet: nothing was done"


# -- reading the room -------------------------------------------------------------------

#: an item's queue state in the room: state, assignee, claim expiry, version
ItemState = tuple[str, str | None, float | None, int]


@dataclass(frozen=True, slots=True)
class RoomView:
    """What a console reads from the room on each look (its worker thread keeps the last)."""

    user: User | None
    items: dict[str, ItemState] = field(default_factory=dict)
    pending: list[Pending] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Beat:
    """One probe: whether the room changed what a console shows, and who is where."""

    changed: bool
    seen: list[Seen]


#: change-log tables that change nothing a console reads from the room (presence is read
#: on every probe; new mentions, notes, wall commands, corrections, items taken out of
#: their stories and who holds a story reach it through the local cache, copied by the
#: station, and its signal)
QUIET = frozenset({"presence", "mentions", "source_state", "notes", "wall_commands",
                   "sentiment_corrections", "story_exclusions", "story_claims"})  # fmt: skip


def read_room(conn: Conn, name: str, ids: list[str]) -> RoomView:
    """The user as the room has them, the listed items' states, the replies awaiting approval."""
    with conn.transaction():  # one snapshot of the room
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        found = conn.execute("SELECT name, role, send_unapproved, spokesperson FROM users"
                             " WHERE lower(name) = lower(%s) AND NOT disabled", (name,)).fetchone()  # fmt: skip
        if found is None:
            return RoomView(None)
        items = {str(r[0]): (str(r[1]), r[2], r[3], int(r[4])) for r in conn.execute(
            "SELECT mention_id, state, assignee, claim_expires, version FROM queue"
            " WHERE mention_id = ANY(%s)", (ids,))}  # fmt: skip
        pending = [Pending(int(r[0]), str(r[1]), str(r[2]), str(r[3]), float(r[4]), str(r[5] or ""),
                           str(r[6] or ""), str(r[7] or "")) for r in conn.execute(
            "SELECT r.id, r.mention_id, r.author, r.text, r.updated_ts, m.body ->> 'author',"
            " m.body ->> 'text', m.body ->> 'network' FROM replies r JOIN mentions m"
            " ON m.id = r.mention_id WHERE r.state = 'awaiting_approval' ORDER BY r.updated_ts"
            " LIMIT 500")]  # fmt: skip
    return RoomView(
        User(str(found[0]), str(found[1]), bool(found[2]), bool(found[3])), items, pending
    )


def probe(conn: Conn, station: str, user: str | None, was: str | None, item: str | None,
          activity: presence.Activity, cursor: ChangeCursor, *, beat: bool = True) -> Beat:  # fmt: skip
    """This console's heartbeat (or its leaving), then the room's changes and presence.

    ``cursor`` reads the change log on from the last id seen, late commits included.

    ``beat=False``: only look (nothing changed here and the last beat is recent).
    """
    if user is None:
        if was is not None:
            presence.leave(conn, station, was)
    elif beat:
        presence.beat(
            conn, station, user, item=item if activity != "idle" else None, activity=activity
        )
    if not cursor.started:  # the first look: from the top (the first read shows everything)
        (top,) = conn.execute("SELECT coalesce(max(id), 0) FROM change_log").fetchone() or (0,)
        cursor.last, cursor.started = int(top), True  # an empty log's first change is id 1: read it
        return Beat(True, presence.who(conn))
    changed = any(c.tables - QUIET for c in cursor.read(conn))
    return Beat(changed, presence.who(conn))


def _overlaid(row: QueueRow, state: ItemState | None) -> QueueRow:
    if state is None:
        return row
    s, assignee, expires, _ = state
    return dataclasses.replace(row, state=s, assignee=assignee, claim_expires=expires)


def _passes(row: QueueRow, f: QueueFilter) -> bool:
    if f.states and row.state not in f.states:
        return False
    if f.assignee == "-":
        return row.assignee is None
    return not f.assignee or row.assignee == f.assignee


def room_snapshot(conn: sqlite3.Connection, f: QueueFilter, priorities: list[int], keep: str | None,
                  look: Callable[[list[str]], RoomView]) -> Snapshot:  # fmt: skip
    """The local cache's queue with each item's state as the room has it (``look`` reads it)."""
    conn.execute("BEGIN")
    try:
        local = queries.fetch_queue(conn, dataclasses.replace(f, states=frozenset(), assignee=""))
        crisis = queries.open_crisis(conn)
        alerts = queries.active_alerts(conn)
        timeline = queries.crisis_timeline(conn, crisis.id) if crisis else []
        urgent = queries.urgent_new(conn, priorities)
    finally:
        conn.execute("COMMIT")
    view = look([r.mention_id for r in local])
    rows = [r for r in (_overlaid(r, view.items.get(r.mention_id)) for r in local) if _passes(r, f)]
    urgent = [u for u in urgent if view.items.get(u.mention_id, ("new",))[0] == "new"]
    return Snapshot(rows=rows, pending=view.pending, alerts=alerts, crisis=crisis, timeline=timeline,
                    urgent=urgent, kept=keep,
                    kept_row=next((i for i, r in enumerate(rows) if r.mention_id == keep), -1) if keep else -1,
                    user=view.user)  # fmt: skip


def room_detail(d: Detail | None, state: ItemState | None) -> Detail | None:
    """The item as the cache holds it, in the state the room has it."""
    if d is None or state is None:
        return d
    s, assignee, expires, _ = state
    return dataclasses.replace(d, state=s, assignee=assignee, claim_expires=expires)


class RoomSignIn:
    """Signing in against the room's users, audited in the room, with the local sign-in's
    per-account backoff and lockout and per-station backoff, counted in the room."""

    def __init__(self, station: str) -> None:
        self.station = station

    def __call__(self, conn: Conn, name: str, password: str) -> User:
        return room_users.sign_in(conn, name, password, self.station)


# -- presence, as the console says it -----------------------------------------------------


def signed_in_text(seen: list[Seen]) -> str:
    """Who is signed in across the room, one name once (at their freshest station)."""
    names: dict[str, str] = {}
    for s in seen:
        names.setdefault(s.user, s.station)
    if not names:
        return "Signed in: nobody"
    return "Signed in: " + ", ".join(f"{u} ({st})" for u, st in sorted(names.items()))


def on_item(seen: list[Seen], item: str | None, *, me: str | None, station: str) -> list[Seen]:
    """The others on ``item`` (not this console's own user at this station)."""
    if item is None:
        return []
    return [s for s in seen if s.item == item and not (s.user == me and s.station == station)]


def on_item_text(others: list[Seen]) -> str:
    if not others:
        return ""
    typing = sorted({s.user for s in others if s.activity == "typing"})
    viewing = sorted({s.user for s in others if s.activity == "viewing"} - set(typing))
    parts = ([f"{', '.join(typing)} typing a reply"] if typing else []) + (
        [f"{', '.join(viewing)} viewing"] if viewing else [])  # fmt: skip
    return "Also on this item: " + "; ".join(parts)


def viewers_by_item(seen: list[Seen], *, me: str | None, station: str) -> dict[str, str]:
    """For each item someone else has open: their names (typing ones marked ✎)."""
    out: dict[str, list[str]] = {}
    for s in seen:
        if s.item is None or (s.user == me and s.station == station):
            continue
        out.setdefault(s.item, []).append(s.user + (" ✎" if s.activity == "typing" else ""))
    return {k: ", ".join(sorted(set(v))) for k, v in out.items()}
