"""A story as one piece of work in a room: its items found in this console's cache, acted on
in the room.

Stories are detected by each station in its own cache (:mod:`app.stories`), so a story's id
means something only there; its items are the room's. An action resolves the selected
item's story to its open items in this console's cache (:class:`~app.workflow.story_work.StoryWork`
reads them, as the single-machine console does), then acts on each through the room's
queue (:class:`~app.room.queue.RoomQueue`: the one state machine, a compare-and-set and an
audit row per item) in one transaction, each item in a savepoint of its own, so one refused
item stops none of the others. An answer is one reply per item, each with its own
placeholders, each its own post through the room's outbox. While a story claimed here is
held (:meth:`RoomStories.route_joiners`, on each of the console's probes), the new items
that join it in this cache are claimed in the room for its holder.

If the cache and the room disagree on an item (the cache is a moment behind another
console's claim), the action is refused whole, saying so: an operator acts on what their
screen shows or not at all.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import psycopg

from app.room.publish import log_change
from app.room.queue import RoomItem, RoomQueue, append_audit, room_user
from app.store.db import open_reader
from app.workflow import queries
from app.workflow.queries import StoryItem
from app.workflow.states import HELD, WorkflowError
from app.workflow.story_work import Outcome, StoryWork, duplicate_dismissable, story_handler

Conn = psycopg.Connection[Any]
#: renders the template for one item, as ``actor``: the reply's words
Render = Callable[[Conn, str, str], str]


def _standing(state: str, assignee: str | None, expires: float | None,
              now: float) -> tuple[str, str | None]:  # fmt: skip
    """An item's state and holder as the claim rules see them: a claim gone idle is free
    (whether or not a cache or the room has written it back to new yet)."""
    if state in HELD and expires is not None and expires < now:
        return "new", None
    return state, assignee


def _said(state: str, assignee: str | None) -> str:
    return state.replace("_", " ") + (f" by {assignee}" if assignee else "")


def _held(item: RoomItem) -> str:
    return _said(item.state, item.assignee)


class RoomStories:
    def __init__(self, queue: RoomQueue, work: StoryWork, cache: Path | None, station: str = "") -> None:
        self.queue = queue
        self.work = work
        self.cache = cache
        self.station = station
        #: the stories (their ids in this cache) claimed from this console: until when, and
        #: for whom, the new items that join them are claimed too
        self.held: dict[int, tuple[str, float]] = {}

    # -- this console's cache --------------------------------------------------------

    def _local(self, fn: Callable[[sqlite3.Connection], Any]) -> Any:
        if self.cache is None:
            raise WorkflowError("this console has no cache to find its stories in")
        reader = open_reader(self.cache)
        try:
            return fn(reader)
        finally:
            reader.close()

    def story(self, mention_id: str) -> tuple[int, list[StoryItem]]:
        """The item's story (as this cache has it) and its open items there."""

        def read(c: sqlite3.Connection) -> tuple[int, list[StoryItem]]:
            story = self.work.story_for(c, mention_id)
            return story, self.work.open_items(c, story)

        found: tuple[int, list[StoryItem]] = self._local(read)
        return found

    # -- the room --------------------------------------------------------------------

    def _handler(self, conn: Conn, actor: str) -> str:
        name, role = room_user(conn, actor)
        story_handler(role)
        return name

    def _agreed(self, conn: Conn, items: list[StoryItem]) -> dict[str, RoomItem]:
        """The story's items as the room has them, locked to the commit; refused whole if the
        cache shows any of them otherwise."""
        ids = [i.mention_id for i in items]
        rows = {str(r[0]): RoomItem(*r) for r in conn.execute(
            "SELECT mention_id, state, priority, assignee, claim_expires, version FROM queue"
            " WHERE mention_id = ANY (%s) ORDER BY mention_id FOR UPDATE", (ids,))}  # fmt: skip
        now = time.time()
        differ = [(i, rows.get(i.mention_id)) for i in items if (r := rows.get(i.mention_id)) is None
                  or _standing(r.state, r.assignee, r.claim_expires, now)
                  != _standing(i.state, i.assignee, i.claim_expires, now)]  # fmt: skip
        if differ:
            local, room = differ[0]
            there = "not in the room" if room is None else _said(*_standing(
                room.state, room.assignee, room.claim_expires, now)) + " in the room"  # fmt: skip
            here = _said(*_standing(local.state, local.assignee, local.claim_expires, now))
            raise WorkflowError(
                f"this console's copy of the story is behind the room for {len(differ)} of its "
                f"{len(items)} open items ({local.mention_id} is {there}, {here} here): nothing"
                " was done; look again in a moment"
            )
        return rows

    def _each(self, conn: Conn, ids: Iterable[str], fn: Callable[[str], Any],
              skipped: dict[str, str]) -> Outcome:  # fmt: skip
        """``fn`` on each item; the queue's own savepoint undoes a refused item whole."""
        done, left = [], dict(skipped)
        for mid in ids:
            try:
                fn(mid)
            except WorkflowError as exc:
                left[mid] = str(exc)
            else:
                done.append(mid)
        return Outcome(done, left)

    def _audit(self, conn: Conn, actor: str, action: str, story: int, after: dict[str, Any]) -> None:
        append_audit(conn, actor, action, f"story:{story}", {},
                     {**after, "station": self.station}, now=time.time())  # fmt: skip

    def claim_story(self, conn: Conn, actor: str, mention_id: str) -> Outcome:
        """Claim every open item of the item's story that the claim rules let the actor take
        (nobody else holds it); the ones they hold already count as taken."""
        story, items = self.story(mention_id)
        if not items:
            raise WorkflowError("this story has no open items")
        with conn.transaction():
            name = self._handler(conn, actor)
            room = self._agreed(conn, items)
            mine = [m for m, r in room.items() if r.state in HELD and r.assignee == name]
            # the others as the queue's claim rules have them: what they refuse is left
            out = self._each(conn, [i.mention_id for i in items if i.mention_id not in mine],
                             lambda m: self.queue.claim(conn, name, m, story=story), {})  # fmt: skip
            out = Outcome([*mine, *out.done], out.skipped)
            if not out.done:
                raise WorkflowError(f"no item of this story is free: {next(iter(out.skipped.values()))}")
            self._audit(conn, name, "story.claim", story, {"assignee": name, "open": len(items),
                                                           "claimed": len(out.done)})  # fmt: skip
        self._hold(story, name)
        return out

    def answer_story(self, conn: Conn, actor: str, mention_id: str, template: str,
                     render: Render) -> Outcome:  # fmt: skip
        """One pre-approved template to every item of the story the actor holds: one reply per
        item, its placeholders its own, each audited, each its own post through the outbox."""
        story, items = self.story(mention_id)
        with conn.transaction():
            name = self._handler(conn, actor)
            room = self._agreed(conn, items)
            mine = [i.mention_id for i in items
                    if room[i.mention_id].state in HELD and room[i.mention_id].assignee == name]  # fmt: skip
            if not mine:
                raise WorkflowError("you hold no open item of this story: claim the story first")
            out = self._each(
                conn, mine,
                lambda m: self.queue.reply(conn, name, m, render(conn, name, m), template=template),
                {m: _held(r) for m, r in room.items() if m not in mine},
            )  # fmt: skip
            if not out.done:
                raise WorkflowError(out.skipped[mine[0]])
            self._audit(conn, name, "story.answer", story, {
                "template": template, "answered": len(out.done), "left": len(out.skipped)})  # fmt: skip
        self._hold(story, name)
        return out

    def dismiss_duplicates(self, conn: Conn, actor: str, mention_id: str, reason: str, *,
                           keep: str | None = None) -> Outcome:  # fmt: skip
        """Dismiss every open item of the story but ``keep`` (else the most urgent), with one
        reason; items someone else is working on are left to them."""
        if not reason.strip():
            raise WorkflowError("dismissing duplicates needs a reason")
        story, items = self.story(mention_id)
        with conn.transaction():
            name = self._handler(conn, actor)
            room = self._agreed(conn, items)
            if keep is None or keep not in room:
                keep = items[0].mention_id if items else None
            now = time.time()
            others = [i.mention_id for i in items if i.mention_id != keep]
            ours = [m for m in others if duplicate_dismissable(
                room[m].state, room[m].assignee, room[m].claim_expires, name, now)]  # fmt: skip
            out = self._each(conn, ours, lambda m: self.queue.dismiss(conn, name, m, reason),
                             {m: _held(room[m]) for m in others if m not in ours})  # fmt: skip
            self._audit(conn, name, "story.dismiss_duplicates", story,
                        {"reason": reason.strip(), "kept": keep, "dismissed": len(out.done)})  # fmt: skip
            return out

    # -- new items of a story claimed here ------------------------------------------

    def _hold(self, story: int, actor: str) -> None:
        self.held[story] = (actor, time.time() + self.queue.claim_idle_s)

    def route_joiners(self, conn: Conn, now: float | None = None) -> list[str]:
        """The new items that joined a story claimed from this console (as this cache sees
        them) claimed in the room for its holder; a story merged into a larger one is followed.
        A hold ends when it goes idle or its holder may no longer claim; returns the ids taken."""
        now = time.time() if now is None else now
        for story, (_, until) in list(self.held.items()):
            if until < now:
                del self.held[story]
        if not self.held:
            return []
        held = dict(self.held)

        def read(c: sqlite3.Connection) -> dict[int, tuple[int, list[str]]]:
            out = {}
            for story in held:
                root = queries.story_root(c, story)
                out[story] = (root, [i.mention_id for i in self.work.open_items(c, root)
                                     if i.state == "new"])  # fmt: skip
            return out

        taken: list[str] = []
        for story, (root, new) in self._local(read).items():
            holder, until = held[story]
            if root != story:  # merged: the hold follows the story that stays
                del self.held[story]
                self.held.setdefault(root, (holder, until))
            if not new:
                continue
            try:
                self._handler(conn, holder)
            except WorkflowError:  # disabled meanwhile (or no longer a handler): free again
                self.held.pop(root, None)
                continue
            for mid in new:
                try:
                    self.queue.claim(conn, holder, mid, story=root)
                except WorkflowError:
                    continue  # someone took it meanwhile: theirs
                taken.append(mid)
        return taken

    def take_out(self, conn: Conn, actor: str, mention_id: str) -> int:
        """The item is not like the others: out of its story on every station, for good; the
        story's id (in this cache)."""
        story, _ = self.story(mention_id)
        with conn.transaction():
            name = self._handler(conn, actor)
            self.queue.item(conn, mention_id)
            now = time.time()
            cur = conn.execute("INSERT INTO story_exclusions (mention_id, taken_by, ts)"
                               " VALUES (%s, %s, %s) ON CONFLICT DO NOTHING", (mention_id, name, now))  # fmt: skip
            if cur.rowcount != 1:
                raise WorkflowError("this item was taken out of its story already")
            log_change(conn, ["story_exclusions"], [mention_id])
            append_audit(conn, name, "item.take_out", mention_id,
                         {"story": story, "station": self.station}, {"story": None}, now=now)  # fmt: skip
            return story


def read_exclusions(conn: Conn, ids: Iterable[str] | None) -> list[tuple[str, str, float]]:
    """(mention id, by, ts) of the room's items taken out of their stories (of ``ids``, or all)."""
    if ids is None:
        rows = conn.execute("SELECT mention_id, taken_by, ts FROM story_exclusions")
    else:
        rows = conn.execute("SELECT mention_id, taken_by, ts FROM story_exclusions"
                            " WHERE mention_id = ANY (%s)", (list(ids),))  # fmt: skip
    return [(str(m), str(b), float(t)) for m, b, t in rows.fetchall()]


#: an item the room took out, into a cache (under the story the cache has it in, if any)
COPY_EXCLUSION = (
    "INSERT OR IGNORE INTO story_exclusions (mention_id, story_id, by, ts) VALUES (?, coalesce("
    "(SELECT story_id FROM story_members WHERE mention_id = ?), 0), ?, ?)"
)


def copy_exclusions(conn: sqlite3.Connection, rows: list[tuple[str, str, float]]) -> None:
    conn.executemany(COPY_EXCLUSION, [(m, m, b, t) for m, b, t in rows])
