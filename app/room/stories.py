"""A story as one piece of work in a room: its items found in this console's cache, acted on
in the room.

Stories are detected by each station in its own cache (:mod:`app.stories`), so a story's id
means something only there; its items are the room's. An action resolves the selected
item's story to its open items in this console's cache (:class:`~app.workflow.story_work.StoryWork`
reads them, as the single-machine console does), then acts on each through the room's
queue (:class:`~app.room.queue.RoomQueue`: the one state machine, a compare-and-set and an
audit row per item) in one transaction, each item in a savepoint of its own, so one refused
item stops none of the others. An answer is one reply per item, each with its own
placeholders, each its own post through the room's outbox.

Who holds a story is the room's (``story_claims``), keyed by a post every station has: the
story's first post as the claiming cache had it, with the items claimed with it. Each
station finds the story in its own cache through them (:func:`story_in_cache`), so every
console shows who claimed it (the station copies the claims into its cache:
:func:`copy_story_claims`) and the same rule as on one machine holds: another's story is
refused unless one is an admin. While the claim lives (it ends when idle, as on one
machine), the new items that join the story are claimed in the room for its holder
(:func:`route_joiners`): by the console's probes and by the active hub's outbox rounds, so
the routing goes on when the console that claimed it closes.

If the cache and the room disagree on an item (the cache is a moment behind another
console's claim), the action is refused whole, saying so: an operator acts on what their
screen shows or not at all.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from app.room.publish import log_change
from app.room.queue import SYSTEM, RoomItem, RoomQueue, append_audit, room_user
from app.store.db import open_reader
from app.workflow import queries
from app.workflow.queries import StoryItem
from app.workflow.roles import Permission, grants
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


@dataclass(frozen=True, slots=True)
class StoryClaim:
    """A story claimed in the room: its key post, holder, since and until when, its items."""

    anchor: str
    assignee: str
    claimed_ts: float
    expires: float
    members: tuple[str, ...]


def read_story_claims(conn: Conn, now: float | None = None) -> list[StoryClaim]:
    """The room's live story claims (not gone idle)."""
    now = time.time() if now is None else now
    rows = conn.execute("SELECT anchor, assignee, claimed_ts, expires, members FROM story_claims"
                        " WHERE expires >= %s ORDER BY anchor", (now,)).fetchall()  # fmt: skip
    return [StoryClaim(str(a), str(w), float(c), float(e), tuple(m or ())) for a, w, c, e, m in rows]


def story_in_cache(conn: sqlite3.Connection, claim: StoryClaim) -> int | None:
    """The claimed story as this cache has it (followed through merges): the story of its
    key post, else of the first item claimed with it that the cache puts in a story."""
    for mid in (claim.anchor, *claim.members):
        story = queries.story_of(conn, mid)
        if story is not None:
            return story
    return None


#: a cache's row of who holds one of its stories: story id, assignee, since, until
CacheClaim = tuple[int, str, float, float]


def cache_story_claims(conn: sqlite3.Connection, claims: Iterable[StoryClaim]) -> set[CacheClaim]:
    """The room's story claims as a cache's ``story_claims`` rows (under its own story ids,
    where its console reads who holds a story); a claim of a story the cache lacks is left out."""
    rows: dict[int, CacheClaim] = {}
    for claim in claims:
        story = story_in_cache(conn, claim)
        if story is not None:
            rows[story] = (story, claim.assignee, claim.claimed_ts, claim.expires)
    return set(rows.values())


def held_in_cache(conn: sqlite3.Connection) -> set[CacheClaim]:
    return {(int(s), str(a), float(c), float(e)) for s, a, c, e in conn.execute(
        "SELECT story_id, assignee, claimed_ts, expires FROM story_claims")}  # fmt: skip


def copy_story_claims(conn: sqlite3.Connection, claims: Iterable[StoryClaim]) -> int:
    """A cache's ``story_claims`` made the room's (:func:`cache_story_claims`); how many."""
    rows = cache_story_claims(conn, claims)
    conn.execute("DELETE FROM story_claims")
    conn.executemany("INSERT INTO story_claims (story_id, assignee, claimed_ts, expires)"
                     " VALUES (?, ?, ?, ?)", sorted(rows))  # fmt: skip
    return len(rows)


def route_joiners(conn: Conn, queue: RoomQueue, work: StoryWork,
                  local: Callable[[Callable[[sqlite3.Connection], Any]], Any],
                  now: float | None = None) -> list[str]:  # fmt: skip
    """The room's story claims gone idle ended; the new items that joined a live one (as the
    cache ``local`` reads sees the story) claimed in the room for its holder; a holder who
    may no longer handle items frees the story. Returns the ids taken."""
    now = time.time() if now is None else now
    with conn.transaction():
        ended = conn.execute("DELETE FROM story_claims WHERE expires < %s RETURNING anchor, assignee",
                             (now,)).fetchall()  # fmt: skip
        if ended:
            log_change(conn, ["story_claims"], [str(a) for a, _ in ended])
            for anchor, assignee in ended:
                append_audit(conn, SYSTEM, "story.expire", f"story:{anchor}",
                             {"assignee": assignee}, {"assignee": None}, now=now)  # fmt: skip
    claims = read_story_claims(conn, now)
    if not claims:
        return []

    def read(c: sqlite3.Connection) -> list[tuple[StoryClaim, int, list[str]]]:
        out = []
        for claim in claims:
            story = story_in_cache(c, claim)
            if story is not None:
                out.append((claim, story, [i.mention_id for i in work.open_items(c, story)]))
        return out

    taken: list[str] = []
    for claim, story, ids in local(read):
        new = [str(m) for (m,) in conn.execute(
            "SELECT mention_id FROM queue WHERE mention_id = ANY (%s) AND state = 'new'"
            " ORDER BY priority, queued_ts", (ids,))]  # fmt: skip
        if not new:
            continue
        try:
            story_handler(room_user(conn, claim.assignee)[1])
        except WorkflowError:  # disabled meanwhile (or no longer a handler): free again
            with conn.transaction():
                if conn.execute("DELETE FROM story_claims WHERE anchor = %s AND assignee = %s",
                                (claim.anchor, claim.assignee)).rowcount:  # fmt: skip
                    log_change(conn, ["story_claims"], [claim.anchor])
                    append_audit(conn, SYSTEM, "story.release", f"story:{claim.anchor}",
                                 {"assignee": claim.assignee},
                                 {"assignee": None, "why": "user disabled"}, now=now)  # fmt: skip
            continue
        mine = []
        for mid in new:
            try:
                with conn.transaction():
                    row = conn.execute("SELECT state FROM queue WHERE mention_id = %s FOR UPDATE",
                                       (mid,)).fetchone()  # fmt: skip
                    if row is None or row[0] != "new":
                        continue  # another router or someone else took it meanwhile
                    queue.claim(conn, claim.assignee, mid, story=story)
            except WorkflowError:
                continue  # someone took it meanwhile: theirs
            mine.append(mid)
        if mine:
            with conn.transaction():
                conn.execute("UPDATE story_claims SET members = ARRAY(SELECT DISTINCT unnest(members"
                             " || %s::text[]) ORDER BY 1) WHERE anchor = %s", (mine, claim.anchor))  # fmt: skip
                log_change(conn, ["story_claims"], [claim.anchor])
        taken += mine
    return taken


class RoomStories:
    def __init__(self, queue: RoomQueue, work: StoryWork, cache: Path | None, station: str = "") -> None:
        self.queue = queue
        self.work = work
        self.cache = cache
        self.station = station

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
        story, items, members = self._story_and_members(mention_id)
        if not items:
            raise WorkflowError("this story has no open items")
        with conn.transaction():
            name = self._handler(conn, actor)
            found = self._claims_of(conn, name, members, refuse=True)
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
            self._hold(conn, name, found, members, out.done)
        return out

    def answer_story(self, conn: Conn, actor: str, mention_id: str, template: str,
                     render: Render) -> Outcome:  # fmt: skip
        """One pre-approved template to every item of the story the actor holds: one reply per
        item, its placeholders its own, each audited, each its own post through the outbox."""
        story, items, members = self._story_and_members(mention_id)
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
            found = self._claims_of(conn, name, members, refuse=False)
            if all(c.assignee == name for c in found):  # held on (another's claim stays theirs)
                self._hold(conn, name, found, members, out.done)
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

    # -- who holds the story ----------------------------------------------------------

    def _story_and_members(self, mention_id: str) -> tuple[int, list[StoryItem], list[str]]:
        """The item's story, its open items and all its posts (oldest first), in this cache."""

        def read(c: sqlite3.Connection) -> tuple[int, list[StoryItem], list[str]]:
            story = self.work.story_for(c, mention_id)
            return story, self.work.open_items(c, story), queries.story_members(c, story)

        found: tuple[int, list[StoryItem], list[str]] = self._local(read)
        return found

    def _claims_of(self, conn: Conn, name: str, members: list[str], *,
                   refuse: bool) -> list[StoryClaim]:  # fmt: skip
        """The room's live claims of this story (keyed by one of its posts or holding one of
        them), locked to the commit; with ``refuse``, another's claim refuses a non-admin."""
        now = time.time()
        rows = conn.execute(
            "SELECT anchor, assignee, claimed_ts, expires, members FROM story_claims"
            " WHERE (anchor = ANY (%s) OR members && %s::text[]) AND expires >= %s"
            " ORDER BY claimed_ts FOR UPDATE", (members, members, now)).fetchall()  # fmt: skip
        found = [StoryClaim(str(a), str(w), float(c), float(e), tuple(m or ())) for a, w, c, e, m in rows]
        other = next((c.assignee for c in found if c.assignee != name), None)
        if refuse and other is not None and not grants(room_user(conn, name)[1], Permission.ADMIN):
            raise WorkflowError(f"{other} has claimed this story")
        return found

    def _hold(self, conn: Conn, name: str, found: list[StoryClaim], members: list[str],
              claimed: list[str]) -> None:  # fmt: skip
        """Hold the story for ``name`` until it goes idle, under the key the room had for it
        (else its first post here), the items claimed with it kept."""
        now = time.time()
        anchor = next((c.anchor for c in found), members[0] if members else claimed[0])
        kept = {m for c in found if c.assignee == name for m in c.members}
        since = next((c.claimed_ts for c in found if c.assignee == name), now)
        conn.execute("DELETE FROM story_claims WHERE anchor = ANY (%s)", ([c.anchor for c in found],))
        conn.execute("INSERT INTO story_claims (anchor, assignee, claimed_ts, expires, members, station)"
                     " VALUES (%s, %s, %s, %s, %s, %s)",
                     (anchor, name, since, now + self.queue.claim_idle_s, sorted(kept | set(claimed)),
                      self.station))  # fmt: skip
        log_change(conn, ["story_claims"], [anchor, *(c.anchor for c in found if c.anchor != anchor)])

    def route_joiners(self, conn: Conn, now: float | None = None) -> list[str]:
        """:func:`route_joiners` as this console's cache sees the stories."""
        return route_joiners(conn, self.queue, self.work, self._local, now)

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
