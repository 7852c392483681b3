"""A story as one piece of work: claim all its open items, answer them with one template,
dismiss its duplicates, take an item out of it.

Each item stays its own queue item and goes through the one state machine
(:mod:`app.workflow.states`) by the workflow's own methods, each transition audited: a
story's answer is one reply per item, each with its own placeholders, through the outbox
(which keeps within each network's rate limits). What is added here is who holds a story
(``story_claims``: new items that join it go to the same operator while the claim lives)
and which items were taken out (``story_exclusions``: they stay out, whatever the
detector decides later). Stories come from :mod:`app.stories`; a story that merged into
a larger one is followed to the one that stays.
"""

from __future__ import annotations

import functools
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from app.workflow import audit, queries
from app.workflow.roles import Permission, grants
from app.workflow.service import SYSTEM, QueueWorkflow
from app.workflow.states import HELD, WorkflowError
from app.workflow.users import get_user

T = TypeVar("T")

TABLES = ("queue", "replies", "audit", "crisis_events", "story_claims", "story_exclusions")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a story action did: the items done, and the ones left with the reason why."""

    done: list[str]
    skipped: dict[str, str]


class StoryWork:
    def __init__(self, workflow: QueueWorkflow) -> None:
        self.workflow = workflow

    # -- reading ---------------------------------------------------------------------

    def open_items(self, conn: sqlite3.Connection, story_id: int) -> list[queries.StoryItem]:
        return queries.story_items(conn, queries.story_root(conn, story_id))

    def story_for(self, conn: sqlite3.Connection, mention_id: str) -> int:
        """The story of an item, or the sentence saying it has none."""
        story = queries.story_of(conn, mention_id)
        if story is None:
            raise WorkflowError("this item is in no story")
        return story

    def claim_of(self, conn: sqlite3.Connection, story_id: int, now: float) -> str | None:
        row = conn.execute("SELECT assignee FROM story_claims WHERE story_id = ? AND expires >= ?",
                           (story_id, now)).fetchone()  # fmt: skip
        return str(row[0]) if row else None

    # -- the actions -----------------------------------------------------------------

    def _handler(self, conn: sqlite3.Connection, actor: str) -> bool:
        """The actor may handle items (checked first); returns whether they are an admin."""
        role = self.workflow.user(conn, actor).role
        story_handler(role)
        return grants(role, Permission.ADMIN)

    def _hold(self, conn: sqlite3.Connection, actor: str, story_id: int, now: float) -> None:
        conn.execute(
            "INSERT INTO story_claims (story_id, assignee, claimed_ts, expires) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (story_id) DO UPDATE SET assignee = excluded.assignee,"
            " claimed_ts = CASE WHEN assignee = excluded.assignee THEN claimed_ts"
            " ELSE excluded.claimed_ts END, expires = excluded.expires",
            (story_id, actor, now, now + self.workflow.rules.claim_idle_s),
        )

    def claim_story(self, conn: sqlite3.Connection, actor: str, story_id: int) -> Outcome:
        """Take a story: every open item nobody else holds, and the items that join it later."""
        admin = self._handler(conn, actor)
        now = time.time()
        root = queries.story_root(conn, story_id)
        holder = self.claim_of(conn, root, now)
        if holder is not None and holder != actor and not admin:
            raise WorkflowError(f"{holder} has claimed this story")
        items = queries.story_items(conn, root)
        if not items:
            raise WorkflowError("this story has no open items")
        self._hold(conn, actor, root, now)
        audit.record(conn, actor, "story.claim", f"story:{root}", {"assignee": holder},
                     {"assignee": actor, "open": len(items)}, now=now)  # fmt: skip
        free = [i.mention_id for i in items if i.state == "new" or (
            i.state in HELD and (i.assignee == actor or (i.claim_expires or 0) < now))]  # fmt: skip
        return _each(conn, free, lambda mid: self.workflow.claim(conn, actor, mid, story=root),
                     skipped={i.mention_id: _held(i) for i in items if i.mention_id not in free})  # fmt: skip

    def answer_story(self, conn: sqlite3.Connection, actor: str, story_id: int,
                     template: str) -> Outcome:  # fmt: skip
        """One pre-approved template to every item of the story the actor holds: one reply
        per item, each with its own placeholders, each audited, all through the outbox."""
        self._handler(conn, actor)
        now = time.time()
        root = queries.story_root(conn, story_id)
        if self.claim_of(conn, root, now) != actor:
            raise WorkflowError("claim the story first")
        items = queries.story_items(conn, root)
        mine = [i.mention_id for i in items if i.state in HELD and i.assignee == actor]
        if not mine:
            raise WorkflowError("you hold no open item of this story")
        out = _each(conn, mine, lambda mid: self.workflow.reply_template(conn, actor, mid, template),
                    skipped={i.mention_id: _held(i) for i in items if i.mention_id not in mine})  # fmt: skip
        if not out.done:
            raise WorkflowError(next(iter(out.skipped.values())))
        self._hold(conn, actor, root, now)
        audit.record(conn, actor, "story.answer", f"story:{root}", {},
                     {"template": template, "answered": len(out.done), "left": len(out.skipped)},
                     now=now)  # fmt: skip
        return out

    def dismiss_duplicates(self, conn: sqlite3.Connection, actor: str, story_id: int, reason: str,
                           *, keep: str | None = None) -> Outcome:  # fmt: skip
        """Dismiss every open item of the story but one (``keep``, else the most urgent),
        with one reason; items someone else is working on are left to them."""
        self._handler(conn, actor)
        if not reason.strip():
            raise WorkflowError("dismissing duplicates needs a reason")
        now = time.time()
        root = queries.story_root(conn, story_id)
        items = queries.story_items(conn, root)
        if keep is None or keep not in {i.mention_id for i in items}:
            keep = items[0].mention_id if items else None
        others = [i for i in items if i.mention_id != keep]
        ours = [i.mention_id for i in others
                if duplicate_dismissable(i.state, i.assignee, i.claim_expires, actor, now)]  # fmt: skip
        out = _each(conn, ours, lambda mid: self.workflow.dismiss(conn, actor, mid, reason),
                    skipped={i.mention_id: _held(i) for i in others if i.mention_id not in ours})  # fmt: skip
        audit.record(conn, actor, "story.dismiss_duplicates", f"story:{root}", {},
                     {"reason": reason.strip(), "kept": keep, "dismissed": len(out.done)}, now=now)  # fmt: skip
        return out

    def take_out(self, conn: sqlite3.Connection, actor: str, mention_id: str) -> int:
        """The item is not like the others: out of its story for good; the story's id."""
        self._handler(conn, actor)
        story = self.story_for(conn, mention_id)
        self.workflow.item(conn, mention_id)
        now = time.time()
        conn.execute("INSERT INTO story_exclusions (mention_id, story_id, by, ts) VALUES (?, ?, ?, ?)",
                     (mention_id, story, actor, now))  # fmt: skip
        audit.record(conn, actor, "item.take_out", mention_id, {"story": story}, {"story": None}, now=now)
        return story

    # -- new items of claimed stories ------------------------------------------------

    def route_joiners(self, conn: sqlite3.Connection, now: float | None = None) -> int:
        """New items that joined a claimed story go to its operator; idle story claims end.
        Returns how many items were handed out (the outbox runs this every round)."""
        now = time.time() if now is None else now
        for story_id, assignee in conn.execute(
            "SELECT story_id, assignee FROM story_claims WHERE expires < ?", (now,)
        ).fetchall():
            conn.execute("DELETE FROM story_claims WHERE story_id = ?", (story_id,))
            audit.record(conn, SYSTEM, "story.expire", f"story:{story_id}", {"assignee": assignee},
                         {"assignee": None}, now=now)  # fmt: skip
        handed = 0
        for story_id, assignee in conn.execute("SELECT story_id, assignee FROM story_claims").fetchall():
            root = queries.story_root(conn, story_id)
            if root != story_id:  # it merged into a larger story: the claim follows, if that one is free
                conn.execute("DELETE FROM story_claims WHERE story_id = ?", (story_id,))
                conn.execute("INSERT OR IGNORE INTO story_claims (story_id, assignee, claimed_ts, expires)"
                             " VALUES (?, ?, ?, ?)",
                             (root, assignee, now, now + self.workflow.rules.claim_idle_s))  # fmt: skip
                assignee = self.claim_of(conn, root, now) or assignee
            if get_user(conn, assignee) is None:  # disabled meanwhile: the story is free again
                conn.execute("DELETE FROM story_claims WHERE story_id = ?", (root,))
                audit.record(conn, SYSTEM, "story.release", f"story:{root}", {"assignee": assignee},
                             {"assignee": None, "why": "user disabled"}, now=now)  # fmt: skip
                continue
            new = [i.mention_id for i in queries.story_items(conn, root) if i.state == "new"]
            out = _each(conn, new, functools.partial(self._hand_over, conn, assignee, root))
            handed += len(out.done)
        return handed

    def _hand_over(self, conn: sqlite3.Connection, assignee: str, story: int, mention_id: str) -> None:
        self.workflow.claim(conn, assignee, mention_id, story=story)


def story_handler(role: str) -> None:
    """Refuse a story action to a role that may not handle items."""
    if not grants(role, Permission.HANDLE):
        raise WorkflowError("your role may not handle stories")


def duplicate_dismissable(state: str, assignee: str | None, claim_expires: float | None,
                          actor: str, now: float) -> bool:  # fmt: skip
    """Whether dismissing a story's duplicates takes this item: not one whose reply is
    approved or going out, nor one someone else is working on (their live claim)."""
    if state in {"sending", "approved"}:
        return False
    return not (state in HELD and assignee not in (None, actor) and (claim_expires or 0) >= now)


def _held(item: queries.StoryItem) -> str:
    who = f" by {item.assignee}" if item.assignee else ""
    return f"{item.state.replace('_', ' ')}{who}"


def _each(conn: sqlite3.Connection, ids: Iterable[str], fn: Callable[[str], T], *,
          skipped: dict[str, str] | None = None) -> Outcome:  # fmt: skip
    """``fn`` on each item in a savepoint of its own: one refused item leaves no half-written
    trace and stops none of the others."""
    done, left = [], dict(skipped or {})
    for mid in ids:
        conn.execute("SAVEPOINT story_item")
        try:
            fn(mid)
        except WorkflowError as exc:
            conn.execute("ROLLBACK TO story_item")
            left[mid] = str(exc)
        else:
            done.append(mid)
        conn.execute("RELEASE story_item")
    return Outcome(done, left)
