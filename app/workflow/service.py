"""The queue workflow over SQLite: every action checked, written and audited in one transaction.

Each method takes the write connection (the store writer calls it inside ``BEGIN
IMMEDIATE``, so a claim is a compare-and-set no other console can interleave with) and
the acting user's *name*: the role is read from the database, never trusted from the
caller. The rules themselves are :mod:`app.workflow.states`; a PostgreSQL store for a
shared room implements the same methods around the same :func:`~app.workflow.states.check`.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app import wallcontrol
from app.sources.base import Source
from app.workflow import audit
from app.workflow.limits import ReplyRoom, reply_room
from app.workflow.pacing import REPLY_RATES, Rate, room
from app.workflow.queries import json_object
from app.workflow.roles import Permission, grants
from app.workflow.states import HELD, TRANSITIONS, Action, WorkflowError, check
from app.workflow.templates import Template, placeholder_values
from app.workflow.users import User, get_user

SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Rules:
    """The room's settings the workflow needs (from ``[console]`` and ``[brand]``)."""

    brand: str = ""
    claim_idle_s: float = 15 * 60
    max_attempts: int = 5
    retry_base_s: float = 30.0
    #: a reply stuck in ``sending`` this long (the sender died) is tried again, same key
    sending_stale_s: float = 300.0
    templates: dict[str, Template] = field(default_factory=dict)
    #: how fast the outbox may post, per network (the networks' own account limits)
    reply_rates: Mapping[str, tuple[Rate, ...]] = field(default_factory=lambda: dict(REPLY_RATES))


@dataclass(frozen=True, slots=True)
class Item:
    """A queue row as the workflow sees it."""

    mention_id: str
    state: str
    priority: int
    assignee: str | None
    claim_expires: float | None
    network: str
    source: str
    author: str
    author_name: str
    topics: list[str]
    crisis_id: int | None
    reply_ref: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OutboxItem:
    reply_id: int
    mention_id: str
    source: str
    network: str
    text: str
    idempotency_key: str
    reply_ref: dict[str, Any]
    attempts: int


class QueueWorkflow:
    def __init__(self, rules: Rules | None = None, sources: Mapping[str, Source] | None = None) -> None:
        self.rules = rules or Rules()
        #: the configured sources, to count a reply as its network does and to refuse
        #: replies where the network takes none (None: no such checks, as in bare tests)
        self.sources = sources

    # -- reading ---------------------------------------------------------------------

    def item(self, conn: sqlite3.Connection, mention_id: str) -> Item:
        row = conn.execute(
            "SELECT q.mention_id, q.state, q.priority, q.assignee, q.claim_expires,"
            " coalesce(m.network, ''), coalesce(m.source, ''), coalesce(m.author, ''),"
            " coalesce(m.author_name, ''), coalesce(m.topics, '[]'), q.crisis_id, m.reply_ref"
            " FROM queue q LEFT JOIN mentions m ON m.id = q.mention_id WHERE q.mention_id = ?",
            (mention_id,),
        ).fetchone()
        if row is None:
            raise WorkflowError(f"no queue item {mention_id}")
        return Item(row[0], row[1], int(row[2]), row[3], row[4], row[5], row[6], row[7], row[8],
                    json.loads(row[9]), row[10], json_object(row[11]))  # fmt: skip

    def user(self, conn: sqlite3.Connection, name: str) -> User:
        user = get_user(conn, name)
        if user is None:
            raise WorkflowError(f"unknown or disabled user {name!r}")
        return user

    def open_crisis(self, conn: sqlite3.Connection) -> tuple[int, str | None] | None:
        row = conn.execute(
            "SELECT id, topic FROM crises WHERE ended_ts IS NULL ORDER BY started_ts DESC LIMIT 1"
        ).fetchone()
        return (int(row[0]), row[1]) if row else None

    def in_crisis(self, conn: sqlite3.Connection, item: Item) -> bool:
        """Crisis rules apply to an item escalated into the open crisis or tagged with its topic."""
        crisis = self.open_crisis(conn)
        if crisis is None:
            return False
        crisis_id, topic = crisis
        return item.crisis_id == crisis_id or topic is None or topic in item.topics

    def templates_for(self, conn: sqlite3.Connection, mention_id: str) -> list[Template]:
        """The pre-approved templates that apply, those made for the post's mood first."""
        item = self.item(conn, mention_id)
        crisis = self.in_crisis(conn, item)
        row = conn.execute("SELECT sentiment FROM mentions WHERE id = ?", (mention_id,)).fetchone()
        sentiment = float(row[0]) if row else 0.0
        fitting = [t for t in self.rules.templates.values()
                   if t.preapproved and t.fits(item.network, item.topics, crisis=crisis)]  # fmt: skip
        return sorted(fitting, key=lambda t: t.rank(sentiment))

    # -- the transitions ---------------------------------------------------------------

    def _step(self, conn: sqlite3.Connection, actor: str, mention_id: str, action: Action,
              *, reason: str = "") -> tuple[User | None, Item, str]:  # fmt: skip
        """Check ``action`` on the item for ``actor``; return the user, the item and the new state.

        The actor first: a disabled user learns nothing about the item and changes nothing."""
        user = None if actor == SYSTEM else self.user(conn, actor)
        item = self.item(conn, mention_id)
        permission = TRANSITIONS[action].permission
        granted = user is not None and permission is not None and grants(user.role, permission)
        if user is None and permission is not None:
            raise WorkflowError(f"{action} needs a signed-in user")
        state = item.state
        if (action == "claim" and state in HELD and item.claim_expires is not None
                and item.claim_expires < time.time()):  # fmt: skip
            state = "new"  # a claim gone idle is free to take
        is_admin = user is not None and grants(user.role, Permission.ADMIN)
        if action == "claim" and item.state == "escalated" and not (
            user is not None and grants(user.role, Permission.APPROVE)
        ):
            raise WorkflowError("an escalated item is taken over by an approver or admin")
        target = check(action, state, granted=granted or user is None,
                       is_assignee=user is not None and item.assignee == user.name,
                       is_admin=is_admin, reason=reason)  # fmt: skip
        return user, item, target

    def _move(self, conn: sqlite3.Connection, actor: str, item: Item, target: str, action: str,
              *, assignee: str | bool | None = False, note: str | None = None,
              crisis_id: int | None = None, detail: dict[str, Any] | None = None,
              now: float | None = None) -> None:  # fmt: skip
        """Write the new state (compare-and-set on the old one) and its audit row."""
        now = time.time() if now is None else now
        sets = ["state = ?", "updated_ts = ?"]
        params: list[Any] = [target, now]
        new_assignee = item.assignee
        if assignee is not False:
            new_assignee = assignee if isinstance(assignee, str) else None
            sets += ["assignee = ?", "claim_expires = ?", "claimed_ts = ?"]
            params += [new_assignee, now + self.rules.claim_idle_s if new_assignee else None,
                       now if new_assignee else None]  # fmt: skip
        elif target in {"claimed", "draft"} and item.assignee:
            sets.append("claim_expires = ?")
            params.append(now + self.rules.claim_idle_s)
        if note is not None:
            sets.append("note = ?")
            params.append(note)
        if crisis_id is not None:
            sets.append("crisis_id = ?")
            params.append(crisis_id)
        cur = conn.execute(
            f"UPDATE queue SET {', '.join(sets)} WHERE mention_id = ? AND state = ?"
            " AND assignee IS ?",
            (*params, item.mention_id, item.state, item.assignee),
        )
        if cur.rowcount != 1:
            raise WorkflowError("someone else changed this item just now; look again")
        before = {"state": item.state, "assignee": item.assignee}
        after = {"state": target, "assignee": new_assignee, **(detail or {})}
        audit.record(conn, actor, f"item.{action}", item.mention_id, before, after, now=now)
        if item.crisis_id or crisis_id:
            cid = crisis_id or item.crisis_id
            assert cid is not None
            self._timeline(conn, cid, actor, action, _describe(action, detail), item.mention_id, now)

    def claim(self, conn: sqlite3.Connection, actor: str, mention_id: str, *,
              story: int | None = None) -> Item:  # fmt: skip
        """Take an item; exactly one of several racing consoles wins, the others are told.
        ``story``: taken with the story it is in (the audit row says so)."""
        user = self.user(conn, actor)  # before anything: a disabled user extends no claim
        current = self.item(conn, mention_id)
        takeover = False
        if current.state in HELD and current.assignee:
            if current.assignee == user.name:
                self.touch(conn, user.name, mention_id)
                return current
            if (current.claim_expires or 0) >= time.time():
                if not grants(user.role, Permission.ADMIN):
                    raise WorkflowError(f"{current.assignee} has claimed this item")
                takeover = True  # an admin reassigns work left with someone gone home
        if takeover:
            item, target = current, "claimed" if current.state == "claimed" else "draft"
        else:
            _, item, target = self._step(conn, actor, mention_id, "claim")
        detail = ({"taken_from": current.assignee} if takeover else {}) | (
            {"story": story} if story is not None else {})  # fmt: skip
        self._move(conn, user.name, item, target, "claim", assignee=user.name, detail=detail or None)
        return self.item(conn, mention_id)

    def claim_next(self, conn: sqlite3.Connection, actor: str, *,
                   topic: str | None = None) -> Item | None:  # fmt: skip
        """Claim the most urgent unclaimed item (priority, then the longest wait); an item of a
        story someone else has claimed is theirs (it goes to them), not the next one's."""
        self.user(conn, actor)
        now = time.time()
        rows = conn.execute(
            "SELECT q.mention_id, m.topics FROM queue q LEFT JOIN mentions m ON m.id = q.mention_id"
            " WHERE (q.state = 'new' OR (q.state IN ('claimed', 'draft') AND q.claim_expires < ?))"
            " AND NOT EXISTS (SELECT 1 FROM story_members sm JOIN story_claims sc"
            " ON sc.story_id = sm.story_id WHERE sm.mention_id = q.mention_id AND sc.assignee != ?"
            " AND sc.expires >= ? AND NOT EXISTS (SELECT 1 FROM story_exclusions x"
            " WHERE x.mention_id = q.mention_id))"
            " ORDER BY q.priority, q.queued_ts LIMIT 200",
            (now, actor, now),
        ).fetchall()
        for mention_id, topics in rows:
            if topic is not None and topic not in json.loads(topics or "[]"):
                continue
            return self.claim(conn, actor, mention_id)
        return None

    def touch(self, conn: sqlite3.Connection, actor: str, mention_id: str) -> None:
        """The operator is still working on it: push the claim's expiry out (not audited)."""
        self.user(conn, actor)
        conn.execute(
            "UPDATE queue SET claim_expires = ? WHERE mention_id = ? AND assignee = ?"
            " AND state IN ('claimed', 'draft')",
            (time.time() + self.rules.claim_idle_s, mention_id, actor),
        )

    def release(self, conn: sqlite3.Connection, actor: str, mention_id: str) -> None:
        _, item, target = self._step(conn, actor, mention_id, "release")
        self._move(conn, actor, item, target, "release", assignee=None)

    def expire_claims(self, conn: sqlite3.Connection, now: float | None = None) -> int:
        """Free claims whose holder went idle, so nothing stays stuck; return how many."""
        now = time.time() if now is None else now
        rows = conn.execute(
            "SELECT mention_id FROM queue WHERE state IN ('claimed', 'draft') AND claim_expires < ?",
            (now,),
        ).fetchall()
        for (mention_id,) in rows:
            _, item, target = self._step(conn, SYSTEM, mention_id, "expire")
            self._move(conn, SYSTEM, item, target, "expire", assignee=None,
                       detail={"idle_since": item.claim_expires}, now=now)  # fmt: skip
        return len(rows)

    # -- replies -------------------------------------------------------------------------

    def _current_reply(self, conn: sqlite3.Connection, mention_id: str) -> tuple[int, str, str] | None:
        row = conn.execute(
            "SELECT id, state, author FROM replies WHERE mention_id = ? AND state IN"
            " ('draft', 'awaiting_approval') ORDER BY id DESC LIMIT 1",
            (mention_id,),
        ).fetchone()
        return (int(row[0]), str(row[1]), str(row[2])) if row else None

    def reply_room(self, item: Item, text: str) -> ReplyRoom | None:
        """Can ``item`` be answered, and how long is ``text`` as its network counts it."""
        if self.sources is None:
            return None
        return reply_room(self.sources, item.source, item.network, item.reply_ref, text)

    def _write_reply(self, conn: sqlite3.Connection, user: User, mention_id: str, text: str,
                     state: str, *, template: Template | None = None) -> int:  # fmt: skip
        text = text.strip()
        if not text:
            raise WorkflowError("the reply is empty")
        room = self.reply_room(self.item(conn, mention_id), text)
        problem = room.problem() if room is not None else None
        if problem:
            raise WorkflowError(problem)
        now = time.time()
        current = self._current_reply(conn, mention_id)
        # a draft is edited in place; what goes to an approver is a reply of its own, so an
        # approver who read an earlier version signs off nothing they did not see (the room
        # does the same)
        if current is not None and template is None and state != "awaiting_approval":
            conn.execute(
                "UPDATE replies SET text = ?, state = ?, author = ?, updated_ts = ? WHERE id = ?",
                (text, state, user.name, now, current[0]),
            )
            return current[0]
        if current is not None:  # a template, or a submission, replaces an unsent draft
            conn.execute("UPDATE replies SET state = 'withdrawn', updated_ts = ? WHERE id = ?",
                         (now, current[0]))  # fmt: skip
        cur = conn.execute(
            "INSERT INTO replies (mention_id, author, text, template, preapproved, state,"
            " created_ts, updated_ts, idempotency_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (mention_id, user.name, text, template.name if template else None,
             int(bool(template and template.preapproved)), state, now, now, uuid.uuid4().hex),
        )  # fmt: skip
        return int(cur.lastrowid or 0)

    def save_draft(self, conn: sqlite3.Connection, actor: str, mention_id: str, text: str) -> int:
        user, item, target = self._step(conn, actor, mention_id, "draft")
        assert user is not None
        reply_id = self._write_reply(conn, user, mention_id, text, "draft")
        if item.state != "draft":
            self._move(conn, actor, item, target, "draft", detail={"reply": reply_id})
        else:
            self.touch(conn, actor, mention_id)
            audit.record(conn, actor, "reply.edit", mention_id, {}, {"reply": reply_id, "text": text})
        return reply_id

    def submit(self, conn: sqlite3.Connection, actor: str, mention_id: str, text: str) -> int:
        """Free text for an approver to sign off."""
        user, item, target = self._step(conn, actor, mention_id, "submit")
        assert user is not None
        reply_id = self._write_reply(conn, user, mention_id, text, "awaiting_approval")
        self._move(conn, actor, item, target, "submit", detail={"reply": reply_id, "text": text.strip()})
        return reply_id

    def reply_template(self, conn: sqlite3.Connection, actor: str, mention_id: str,
                       template_name: str, *, values: dict[str, str] | None = None) -> int:  # fmt: skip
        """Answer with pre-approved words: straight to the outbox."""
        user, item, target = self._step(conn, actor, mention_id, "reply")
        assert user is not None
        template = self.rules.templates.get(template_name)
        if template is None or not template.preapproved:
            raise WorkflowError(f"no pre-approved template {template_name!r}")
        crisis = self.in_crisis(conn, item)
        if not template.fits(item.network, item.topics, crisis=crisis):
            raise WorkflowError(
                f"the template {template_name!r} does not apply here"
                + (" (during a crisis only crisis templates apply)" if crisis else "")
            )
        text = template.render(placeholder_values(
            author=item.author, author_name=item.author_name, brand=self.rules.brand,
            network=item.network, topics=item.topics, operator=user.name,
        ) | (values or {}))  # fmt: skip
        reply_id = self._write_reply(conn, user, mention_id, text, "draft", template=template)
        self._approve_reply(conn, reply_id, user.name)
        self._move(conn, actor, item, target, "reply",
                   detail={"reply": reply_id, "template": template_name, "text": text})  # fmt: skip
        return reply_id

    def reply_direct(self, conn: sqlite3.Connection, actor: str, mention_id: str, text: str) -> int:
        """Free text sent without approval: only for users who hold that right, never in a crisis."""
        user, item, target = self._step(conn, actor, mention_id, "reply")
        assert user is not None
        if not user.send_unapproved:
            raise WorkflowError("your free-text replies need an approver's sign-off")
        if self.in_crisis(conn, item):
            raise WorkflowError("during a crisis a free-text reply needs a spokesperson's sign-off")
        reply_id = self._write_reply(conn, user, mention_id, text, "draft")
        self._approve_reply(conn, reply_id, user.name)
        self._move(conn, actor, item, target, "reply", detail={"reply": reply_id, "text": text.strip()})
        return reply_id

    def _approve_reply(self, conn: sqlite3.Connection, reply_id: int, by: str) -> None:
        try:
            conn.execute(
                "UPDATE replies SET state = 'approved', approved_by = ?, approved_ts = ?,"
                " updated_ts = ? WHERE id = ?",
                (by, time.time(), time.time(), reply_id),
            )
        except sqlite3.IntegrityError as exc:  # the trigger's refusal
            raise WorkflowError(str(exc)) from None

    def _pending_reply(self, conn: sqlite3.Connection, reply_id: int) -> tuple[str, str, str]:
        row = conn.execute(
            "SELECT mention_id, author, text FROM replies WHERE id = ? AND state = 'awaiting_approval'",
            (reply_id,),
        ).fetchone()
        if row is None:
            raise WorkflowError(f"reply {reply_id} is not awaiting approval")
        return str(row[0]), str(row[1]), str(row[2])

    def approve(self, conn: sqlite3.Connection, actor: str, reply_id: int) -> None:
        """A second person signs off a free-text reply (a spokesperson, during a crisis)."""
        self.user(conn, actor)
        mention_id, author, text = self._pending_reply(conn, reply_id)
        user, item, target = self._step(conn, actor, mention_id, "approve")
        assert user is not None
        if author == user.name:
            raise WorkflowError("a reply needs the sign-off of someone other than its writer")
        if self.in_crisis(conn, item) and not user.spokesperson:
            raise WorkflowError("during a crisis only a designated spokesperson may approve replies")
        self._approve_reply(conn, reply_id, user.name)
        self._move(conn, actor, item, target, "approve",
                   detail={"reply": reply_id, "author": author, "text": text})  # fmt: skip

    def reject(self, conn: sqlite3.Connection, actor: str, reply_id: int, reason: str) -> None:
        """Back to its writer as a draft, with the approver's note."""
        self.user(conn, actor)
        mention_id, _, _ = self._pending_reply(conn, reply_id)
        _, item, target = self._step(conn, actor, mention_id, "reject", reason=reason)
        conn.execute(
            "UPDATE replies SET state = 'draft', review_note = ?, updated_ts = ? WHERE id = ?",
            (reason.strip(), time.time(), reply_id),
        )
        self._move(conn, actor, item, target, "reject", detail={"reply": reply_id, "reason": reason})

    # -- other outcomes ------------------------------------------------------------------

    def dismiss(self, conn: sqlite3.Connection, actor: str, mention_id: str, reason: str) -> None:
        _, item, target = self._step(conn, actor, mention_id, "dismiss", reason=reason)
        self._withdraw_unsent(conn, mention_id)
        self._move(conn, actor, item, target, "dismiss", assignee=None, note=reason.strip(),
                   detail={"reason": reason.strip()})  # fmt: skip

    def reopen(self, conn: sqlite3.Connection, actor: str, mention_id: str) -> None:
        _, item, target = self._step(conn, actor, mention_id, "reopen")
        self._move(conn, actor, item, target, "reopen", assignee=None, note="")

    def retry(self, conn: sqlite3.Connection, actor: str, mention_id: str) -> None:
        """Send a failed reply again: the same idempotency key, and one attempt kept on
        record, so the next one first looks for the reply an earlier attempt may have posted
        (some servers ignore the key): never a second post."""
        _, item, target = self._step(conn, actor, mention_id, "retry")
        conn.execute(
            "UPDATE replies SET state = 'approved', next_attempt_ts = NULL, attempts = 1,"
            " updated_ts = ? WHERE id = (SELECT id FROM replies WHERE mention_id = ?"
            " AND state = 'failed' ORDER BY id DESC LIMIT 1)",
            (time.time(), mention_id),
        )
        self._move(conn, actor, item, target, "retry")

    def escalate(self, conn: sqlite3.Connection, actor: str, mention_id: str, reason: str) -> int:
        """Hand the item up and declare a crisis (or join the one already open); its id."""
        user, item, target = self._step(conn, actor, mention_id, "escalate", reason=reason)
        assert user is not None
        crisis = self.open_crisis(conn)
        if crisis is None:
            topic = next((t for t in item.topics if t), None)
            crisis_id = self.declare_crisis(conn, actor, topic, f"escalated: {reason.strip()}",
                                            _by_escalation=True)  # fmt: skip
        else:
            crisis_id = crisis[0]
        self._move(conn, actor, item, target, "escalate", assignee=None, note=reason.strip(),
                   crisis_id=crisis_id, detail={"reason": reason.strip(), "crisis": crisis_id})  # fmt: skip
        return crisis_id

    def add_note(self, conn: sqlite3.Connection, actor: str, mention_id: str, text: str) -> int:
        user = self.user(conn, actor)
        if not grants(user.role, Permission.HANDLE):
            raise WorkflowError("your role may not write notes")
        if not text.strip():
            raise WorkflowError("the note is empty")
        self.item(conn, mention_id)
        cur = conn.execute("INSERT INTO notes (mention_id, author, ts, text) VALUES (?, ?, ?, ?)",
                           (mention_id, actor, time.time(), text.strip()))  # fmt: skip
        audit.record(conn, actor, "item.note", mention_id, {}, {"text": text.strip()})
        return int(cur.lastrowid or 0)

    def _withdraw_unsent(self, conn: sqlite3.Connection, mention_id: str) -> None:
        conn.execute(
            "UPDATE replies SET state = 'withdrawn', updated_ts = ? WHERE mention_id = ?"
            " AND state IN ('draft', 'awaiting_approval', 'approved', 'failed')",
            (time.time(), mention_id),
        )

    # -- the outbox ----------------------------------------------------------------------

    def take_due(self, conn: sqlite3.Connection, *, limit: int = 20,
                 now: float | None = None) -> list[OutboxItem]:  # fmt: skip
        """Approved replies due to go out, marked ``sending`` (one sender wins each), as many
        of each source's as its network's rate limits have room for now."""
        now = time.time() if now is None else now
        budgets: dict[str, int | None] = {}
        rows = conn.execute(
            "SELECT r.id, r.mention_id, coalesce(m.source, ''), coalesce(m.network, ''), r.text,"
            " r.idempotency_key, m.reply_ref, r.attempts, r.state FROM replies r"
            " LEFT JOIN mentions m ON m.id = r.mention_id"
            " WHERE (r.state = 'approved' AND coalesce(r.next_attempt_ts, 0) <= ?)"
            " OR (r.state = 'sending' AND r.updated_ts < ?) ORDER BY r.id LIMIT ?",
            (now, now - self.rules.sending_stale_s, limit * 10),
        ).fetchall()
        out: list[OutboxItem] = []
        for rid, mid, source, network, text, key, ref, attempts, state in rows:
            if len(out) >= limit:
                break
            if source not in budgets:
                budgets[source] = room(conn, source, self.rules.reply_rates.get(network, ()), now)
            left = budgets[source]
            if state == "approved" and left is not None:
                if left <= 0:
                    continue  # due when the network's window has room again
                budgets[source] = left - 1
            conn.execute("UPDATE replies SET state = 'sending', attempts = attempts + 1,"
                         " updated_ts = ? WHERE id = ?", (now, rid))  # fmt: skip
            if state == "approved" and self.item(conn, mid).state == "approved":
                _, item, target = self._step(conn, SYSTEM, mid, "send")
                self._move(conn, SYSTEM, item, target, "send",
                               detail={"reply": rid, "attempt": attempts + 1}, now=now)  # fmt: skip
            out.append(OutboxItem(rid, mid, source, network, text, key, json_object(ref), attempts + 1))
        return out

    def mark_sent(self, conn: sqlite3.Connection, reply_id: int, native_id: str, url: str = "",
                  *, adopted: bool = False) -> None:  # fmt: skip
        """The reply is out; ``adopted``: found already posted by an earlier attempt."""
        now = time.time()
        (mention_id,) = conn.execute("SELECT mention_id FROM replies WHERE id = ?",
                                     (reply_id,)).fetchone()  # fmt: skip
        conn.execute(
            "UPDATE replies SET state = 'sent', sent_native_id = ?, sent_url = ?, sent_ts = ?,"
            " updated_ts = ?, last_error = NULL WHERE id = ?",
            (native_id, url, now, now, reply_id),
        )
        if self.item(conn, mention_id).state == "sending":
            _, item, target = self._step(conn, SYSTEM, mention_id, "sent")
            self._move(conn, SYSTEM, item, target, "sent",
                       detail={"reply": reply_id, "native_id": native_id, "url": url,
                               **({"adopted": True} if adopted else {})}, now=now)  # fmt: skip

    def mark_failed(self, conn: sqlite3.Connection, reply_id: int, error: str, *,
                    retryable: bool, retry_after: float | None = None) -> bool:  # fmt: skip
        """Record a failed attempt; return True if it will be tried again by itself (not
        before the server's ``retry_after``, when it said)."""
        now = time.time()
        mention_id, attempts = conn.execute(
            "SELECT mention_id, attempts FROM replies WHERE id = ?", (reply_id,)
        ).fetchone()
        again = retryable and attempts < self.rules.max_attempts
        delay = max(self.rules.retry_base_s * 2 ** max(attempts - 1, 0), retry_after or 0.0)
        conn.execute(
            "UPDATE replies SET state = ?, last_error = ?, next_attempt_ts = ?, updated_ts = ?"
            " WHERE id = ?",
            ("approved" if again else "failed", error, now + delay if again else None, now, reply_id),
        )
        if self.item(conn, mention_id).state == "sending":
            action: Action = "requeue" if again else "fail"
            _, item, target = self._step(conn, SYSTEM, mention_id, action)
            self._move(conn, SYSTEM, item, target, action,
                       detail={"reply": reply_id, "error": error, "attempt": attempts,
                               "retry_in_s": round(delay) if again else None}, now=now)  # fmt: skip
        return again

    # -- crisis and the walls ------------------------------------------------------------

    def declare_crisis(self, conn: sqlite3.Connection, actor: str, topic: str | None, reason: str,
                       *, alert_id: int | None = None, _by_escalation: bool = False) -> int:  # fmt: skip
        user = self.user(conn, actor)
        if not _by_escalation and not grants(user.role, Permission.COMMAND):
            raise WorkflowError("only an approver or admin may declare a crisis")
        if not reason.strip():
            raise WorkflowError("a crisis needs a reason")
        existing = self.open_crisis(conn)
        if existing is not None:
            return existing[0]
        now = time.time()
        cur = conn.execute(
            "INSERT INTO crises (topic, reason, alert_id, declared_by, started_ts) VALUES (?, ?, ?, ?, ?)",
            (topic, reason.strip(), alert_id, actor, now),
        )
        crisis_id = int(cur.lastrowid or 0)
        audit.record(conn, actor, "crisis.declare", f"crisis:{crisis_id}", {},
                     {"topic": topic, "reason": reason.strip(), "alert": alert_id}, now=now)  # fmt: skip
        self._timeline(conn, crisis_id, actor, "declared", reason.strip(), None, now)
        return crisis_id

    def end_crisis(self, conn: sqlite3.Connection, actor: str, summary: str = "") -> None:
        user = self.user(conn, actor)
        if not grants(user.role, Permission.COMMAND):
            raise WorkflowError("only an approver or admin may end a crisis")
        crisis = self.open_crisis(conn)
        if crisis is None:
            raise WorkflowError("no crisis is open")
        now = time.time()
        conn.execute("UPDATE crises SET ended_ts = ?, ended_by = ? WHERE id = ?", (now, actor, crisis[0]))
        # the alerts that led here are dealt with too, or the walls would stay red
        conn.execute("UPDATE alerts SET state = 'acknowledged', acked_by = ?, acked_ts = ?"
                     " WHERE state = 'active'", (actor, now))  # fmt: skip
        audit.record(conn, actor, "crisis.end", f"crisis:{crisis[0]}", {"open": True},
                     {"open": False, "summary": summary}, now=now)  # fmt: skip
        self._timeline(conn, crisis[0], actor, "ended", summary, None, now)

    def acknowledge_alert(self, conn: sqlite3.Connection, actor: str, alert_id: int) -> None:
        user = self.user(conn, actor)
        if not grants(user.role, Permission.HANDLE):
            raise WorkflowError("your role may not acknowledge alerts")
        row = conn.execute("SELECT state FROM alerts WHERE id = ?", (alert_id,)).fetchone()
        if row is None:
            raise WorkflowError(f"no alert {alert_id}")
        now = time.time()
        conn.execute("UPDATE alerts SET state = 'acknowledged', acked_by = ?, acked_ts = ?"
                     " WHERE id = ?", (actor, now, alert_id))  # fmt: skip
        audit.record(conn, actor, "alert.acknowledge", f"alert:{alert_id}", {"state": row[0]},
                     {"state": "acknowledged"}, now=now)  # fmt: skip
        crisis = self.open_crisis(conn)
        if crisis is not None:
            self._timeline(conn, crisis[0], actor, "alert acknowledged", f"alert {alert_id}", None, now)

    def accept_alert(self, conn: sqlite3.Connection, actor: str, alert_id: int) -> int:
        """Treat a spike alert as a crisis: declare it on the alert's topic; the crisis id."""
        self.user(conn, actor)
        row = conn.execute("SELECT topic, explanation FROM alerts WHERE id = ?", (alert_id,)).fetchone()
        if row is None:
            raise WorkflowError(f"no alert {alert_id}")
        topic = None if row[0] == "*" else str(row[0])
        crisis_id = self.declare_crisis(conn, actor, topic, str(row[1]), alert_id=alert_id)
        self.acknowledge_alert(conn, actor, alert_id)
        return crisis_id

    def wall(self, conn: sqlite3.Connection, actor: str, command: wallcontrol.Command,
             args: dict[str, Any] | None = None, *, target: str = "*") -> int:  # fmt: skip
        """Steer the walls (spotlight a post, switch a scene, reload); audited."""
        wall_permission(self.user(conn, actor).role, command)
        cid = wallcontrol.issue(conn, command, args, target=target, by=actor)
        audit.record(conn, actor, f"wall.{command}", target, {}, dict(args or {}))
        return cid

    def _timeline(self, conn: sqlite3.Connection, crisis_id: int, actor: str, kind: str, text: str,
                  mention_id: str | None, now: float) -> None:  # fmt: skip
        conn.execute(
            "INSERT INTO crisis_events (crisis_id, ts, actor, kind, text, mention_id)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (crisis_id, now, actor, kind, text, mention_id),
        )


def wall_permission(role: str, command: str) -> None:
    """Refuse a wall command ``role`` may not give: a spotlight (and clearing it) needs a
    handler, switching scenes and reloading the layout an approver or admin."""
    needed = Permission.HANDLE if command in {"spotlight", "clear_spotlight"} else Permission.COMMAND
    if not grants(role, needed):
        raise WorkflowError(f"your role may not send {command} to the walls")


def _describe(action: str, detail: dict[str, Any] | None) -> str:
    detail = detail or {}
    for key in ("text", "reason", "error", "template"):
        if detail.get(key):
            return str(detail[key])
    return ""
