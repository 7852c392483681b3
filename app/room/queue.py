"""The room's queue workflow: the same state machine, stored in PostgreSQL.

Every transition asks :func:`app.workflow.states.check` (the one place the rules live),
then writes with a compare-and-set on the row's ``version``, so of two stations acting
on one item exactly one wins and the other is told. ``claim_next`` hands out the most
urgent free item with ``FOR UPDATE SKIP LOCKED``: stations racing for work each take a
different row instead of queueing behind one another.

Each transition appends its audit row in the same transaction, chained as the SQLite
trail is (:func:`app.workflow.audit.row_hash`); appends are serialised by the row lock on
``audit_head``, taken just before the commit, so ids run 1, 2, 3 with no gap and each
row links to the one before. A claim costs six round trips to the server.

Here: claims (claim, claim next, release, expire); replies (draft, submit, reply with a
template or alone), dismiss and escalate, each refused when the item changed since the
operator's screen showed it; approve and reject (of a reply awaiting approval: the
reply's state is what they check); and the outbox (take due, sent,
failed), retrying a failed reply, and notes. The methods mirror
:class:`app.workflow.service.QueueWorkflow`, so a console can sit on either store (alerts
and crises: :mod:`app.room.alerts`).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import psycopg

from app.workflow.audit import GENESIS, row_hash
from app.workflow.pacing import REPLY_RATES, Rate
from app.workflow.roles import Permission, grants
from app.workflow.states import HELD, Action, WorkflowError, check

SYSTEM = "system"
#: pg_advisory_xact_lock class: one station at a time counts a source's sending budget
OUTBOX_LOCK = 0x7764


@dataclass(frozen=True, slots=True)
class RoomItem:
    mention_id: str
    state: str
    priority: int
    assignee: str | None
    claim_expires: float | None
    version: int


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def append_audit(conn: psycopg.Connection[Any], actor: str, action: str, target: str,
                 before: dict[str, Any], after: dict[str, Any], *, now: float) -> int:  # fmt: skip
    """Append one chained audit row inside the caller's transaction; return its id.

    The head's row lock is taken here and held to the commit: call this last, so the
    room's appends wait on each other for as short a time as possible.
    """
    (id_, prev_hash) = conn.execute(
        "UPDATE audit_head SET last_id = last_id + 1 RETURNING last_id, hash").fetchone() or (0, "")  # fmt: skip
    b, a = _canonical(before), _canonical(after)
    digest = row_hash(prev_hash, id_, now, actor, action, target, b, a)
    conn.execute(
        "WITH row AS (INSERT INTO audit (id, ts, actor, action, target, before, after, prev_hash,"
        " hash) OVERRIDING SYSTEM VALUE VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING hash)"
        " UPDATE audit_head SET hash = (SELECT hash FROM row)",
        (id_, now, actor, action, target, b, a, prev_hash, digest),
    )
    return int(id_)


def verify_audit(conn: psycopg.Connection[Any]) -> tuple[int, int | None]:
    """Walk the room's chain: (rows checked, the first row that does not hold or None)."""
    expected, prev, count = 1, GENESIS, 0
    with conn.cursor() as cur:
        cur.execute("SELECT id, ts, actor, action, target, before::text, after::text,"
                    " prev_hash, hash FROM audit ORDER BY id")  # fmt: skip
        for id_, ts, actor, action, target, before, after, prev_hash, digest in cur:
            b, a = _canonical(json.loads(before)), _canonical(json.loads(after))
            if (
                id_ != expected
                or prev_hash != prev
                or (row_hash(prev_hash, id_, ts, actor, action, target, b, a) != digest)
            ):
                return count, expected
            expected, prev, count = id_ + 1, digest, count + 1
    head = conn.execute("SELECT last_id, hash FROM audit_head").fetchone()
    if head is not None and (int(head[0]), str(head[1])) != (expected - 1, prev):
        return count, expected  # the tail was cut, or the head moved
    return count, None


def room_user(conn: psycopg.Connection[Any], name: str) -> tuple[str, str]:
    """An enabled user's (name as the room spells it, role); refused for anyone else."""
    row = conn.execute("SELECT name, role FROM users WHERE lower(name) = lower(%s)"
                       " AND NOT disabled", (name.strip(),)).fetchone()  # fmt: skip
    if row is None:
        raise WorkflowError(f"no enabled user {name!r}")
    return str(row[0]), str(row[1])


def in_crisis(conn: psycopg.Connection[Any], mention_id: str) -> bool:
    """Do crisis rules apply to the item: a crisis is open on all topics, on one of the
    item's, or the item was escalated into it (as the single-machine workflow decides)."""
    row = conn.execute(
        "SELECT c.topic IS NULL OR c.topic = ANY (m.topics) OR q.crisis_id = c.id FROM"
        " (SELECT id, topic FROM crises WHERE ended_ts IS NULL ORDER BY started_ts DESC LIMIT 1) c"
        " CROSS JOIN mentions m LEFT JOIN queue q ON q.mention_id = m.id WHERE m.id = %s",
        (mention_id,),
    ).fetchone()  # fmt: skip
    return bool(row and row[0])


#: an item not of a story someone else holds (it goes to them, as on one machine): the
#: room's story claims name the items claimed with them (parameters: actor, now)
NOT_OTHERS_STORY = (
    "NOT EXISTS (SELECT 1 FROM story_claims sc WHERE sc.members @> ARRAY[q.mention_id]"
    " AND lower(sc.assignee) <> lower(%s) AND sc.expires >= %s)"
)


class RoomQueue:
    def __init__(self, *, claim_idle_s: float = 15 * 60) -> None:
        self.claim_idle_s = claim_idle_s

    def _user(self, conn: psycopg.Connection[Any], name: str) -> tuple[str, str]:
        return room_user(conn, name)

    def item(self, conn: psycopg.Connection[Any], mention_id: str) -> RoomItem:
        row = conn.execute("SELECT mention_id, state, priority, assignee, claim_expires, version"
                           " FROM queue WHERE mention_id = %s", (mention_id,)).fetchone()  # fmt: skip
        if row is None:
            raise WorkflowError(f"no queue item {mention_id}")
        return RoomItem(*row)

    def _move(self, conn: psycopg.Connection[Any], actor: str, item: RoomItem, action: Action,
              target: str, assignee: str | None, now: float, *,
              detail: dict[str, Any] | None = None) -> RoomItem:  # fmt: skip
        """Compare-and-set on the version the rules were checked against, audited."""
        expires = now + self.claim_idle_s if assignee else None
        cur = conn.execute(  # the compare-and-set and its change-log row in one round trip
            "WITH moved AS (UPDATE queue SET state = %s, assignee = %s, claimed_ts = %s,"
            " claim_expires = %s, updated_ts = %s, version = version + 1"
            " WHERE mention_id = %s AND version = %s RETURNING mention_id)"
            " INSERT INTO change_log (tables, ids) SELECT '{queue}', ARRAY[mention_id] FROM moved",
            (target, assignee, now if assignee else None, expires, now, item.mention_id,
             item.version),
        )  # fmt: skip
        if cur.rowcount != 1:
            raise WorkflowError("someone else changed this item just now; look again")
        append_audit(conn, actor, f"item.{action}", item.mention_id,
                     {"state": item.state, "assignee": item.assignee},
                     {"state": target, "assignee": assignee, **(detail or {})}, now=now)  # fmt: skip
        return RoomItem(item.mention_id, target, item.priority, assignee, expires,
                        item.version + 1)  # fmt: skip

    def _check_claim(self, role: str, name: str, item: RoomItem, now: float) -> str:
        state = item.state
        if state in HELD and item.claim_expires is not None and item.claim_expires < now:
            state = "new"  # a claim gone idle is free to take
        if item.state == "escalated" and not grants(role, Permission.APPROVE):
            raise WorkflowError("an escalated item is taken over by an approver or admin")
        if state in HELD and item.assignee and item.assignee != name:
            raise WorkflowError(f"{item.assignee} has claimed this item")
        return check("claim", state, granted=grants(role, Permission.HANDLE),
                     is_assignee=item.assignee == name,
                     is_admin=grants(role, Permission.ADMIN))  # fmt: skip

    def claim(self, conn: psycopg.Connection[Any], actor: str, mention_id: str, *,
              story: int | None = None) -> RoomItem:  # fmt: skip
        """Take one item; of stations racing for it exactly one wins, the others are told.
        ``story``: taken with the story it is in (the audit row says so)."""
        with conn.transaction():
            name, role = self._user(conn, actor)
            item = self.item(conn, mention_id)
            now = time.time()
            target = self._check_claim(role, name, item, now)
            return self._move(conn, name, item, "claim", target, name, now,
                              detail=None if story is None else {"story": story})  # fmt: skip

    def claim_next(self, conn: psycopg.Connection[Any], actor: str, *,
                   topic: str | None = None) -> RoomItem | None:  # fmt: skip
        """Claim the most urgent free item (priority, then the longest wait), or None; an
        item of a story someone else holds is theirs, not the next one's.

        The actor and the candidate row come in one statement; the row is locked for
        this transaction and skipped by every other station meanwhile.
        """
        topical = " AND %s = ANY (m.topics)" if topic else ""
        wanted = (topic,) if topic else ()
        with conn.transaction():
            now = time.time()
            others = (actor.strip(), now)  # for NOT_OTHERS_STORY
            row = conn.execute(  # the index on (state, priority, queued_ts) finds the first
                "SELECT u.name, u.role, q.* FROM users u LEFT JOIN LATERAL ("
                " SELECT q.mention_id, q.state, q.priority, q.assignee, q.claim_expires, q.version"
                " FROM queue q JOIN mentions m ON m.id = q.mention_id WHERE q.state = 'new'"
                f"{topical} AND {NOT_OTHERS_STORY}"
                " ORDER BY q.priority, q.queued_ts LIMIT 1 FOR UPDATE OF q SKIP LOCKED"
                ") q ON true WHERE lower(u.name) = lower(%s) AND NOT u.disabled",
                (*wanted, *others, actor.strip()),
            ).fetchone()
            if row is None:
                raise WorkflowError(f"no enabled user {actor!r}")
            name, role = str(row[0]), str(row[1])
            if not grants(role, Permission.HANDLE):
                raise WorkflowError("your role may not claim items")
            found = row[2:] if row[2] is not None else conn.execute(  # else a claim gone idle
                "SELECT q.mention_id, q.state, q.priority, q.assignee, q.claim_expires, q.version"
                " FROM queue q JOIN mentions m ON m.id = q.mention_id"
                f" WHERE q.state IN ('claimed', 'draft') AND q.claim_expires < %s{topical}"
                f" AND {NOT_OTHERS_STORY}"
                " ORDER BY q.priority, q.queued_ts LIMIT 1 FOR UPDATE OF q SKIP LOCKED",
                (now, *wanted, *others),
            ).fetchone()  # fmt: skip
            if found is None:
                return None
            item = RoomItem(*found)
            return self._move(conn, name, item, "claim", self._check_claim(role, name, item, now),
                              name, now)  # fmt: skip

    def release(self, conn: psycopg.Connection[Any], actor: str, mention_id: str) -> RoomItem:
        with conn.transaction():
            name, role = self._user(conn, actor)
            item = self.item(conn, mention_id)
            target = check("release", item.state, granted=grants(role, Permission.HANDLE),
                           is_assignee=item.assignee == name,
                           is_admin=grants(role, Permission.ADMIN))  # fmt: skip
            return self._move(conn, name, item, "release", target, None, time.time())

    # -- acting on an item: the operator's view of it must still be the item ---------

    def _act(self, conn: psycopg.Connection[Any], actor: str, mention_id: str, action: Action,
             *, seen_version: int | None, reason: str = "") -> tuple[str, str, bool, RoomItem, str]:  # fmt: skip
        """Check ``action`` for ``actor`` on the item as it stands, locked for this transaction.

        ``seen_version``: the version the operator's screen showed; if someone replied,
        dismissed, escalated or took the item over since, the action is refused saying so.
        """
        user = conn.execute("SELECT name, role, send_unapproved FROM users"
                            " WHERE lower(name) = lower(%s) AND NOT disabled", (actor.strip(),)).fetchone()  # fmt: skip
        if user is None:
            raise WorkflowError(f"no enabled user {actor!r}")
        name, role, unapproved = str(user[0]), str(user[1]), bool(user[2])
        row = conn.execute("SELECT mention_id, state, priority, assignee, claim_expires, version"
                           " FROM queue WHERE mention_id = %s FOR UPDATE", (mention_id,)).fetchone()  # fmt: skip
        if row is None:
            raise WorkflowError(f"no queue item {mention_id}")
        item = RoomItem(*row)
        if seen_version is not None and item.version != seen_version:
            who = f" by {item.assignee}" if item.assignee else ""
            raise WorkflowError(f"this item changed since you opened it: it is now "
                                f"{item.state.replace('_', ' ')}{who}; look again")  # fmt: skip
        permission = Permission.APPROVE if action in {"approve", "reject"} else Permission.HANDLE
        target = check(action, item.state, granted=grants(role, permission),
                       is_assignee=item.assignee == name, is_admin=grants(role, Permission.ADMIN),
                       reason=reason)  # fmt: skip
        return name, role, unapproved, item, target

    def _new_reply(self, conn: psycopg.Connection[Any], author: str, mention_id: str, text: str,
                   state: str, now: float, *, template: str | None = None,
                   approved_by: str | None = None) -> int:  # fmt: skip
        if not text.strip():
            raise WorkflowError("a reply needs some text")
        conn.execute("UPDATE replies SET state = 'withdrawn', updated_ts = %s WHERE mention_id = %s"
                     " AND state IN ('draft', 'awaiting_approval')", (now, mention_id))  # fmt: skip
        (rid,) = conn.execute(
            "INSERT INTO replies (mention_id, author, text, template, preapproved, state,"
            " created_ts, updated_ts, idempotency_key, approved_by, approved_ts)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (mention_id, author, text.strip(), template, template is not None, state, now, now,
             str(uuid.uuid4()), approved_by, now if approved_by else None),
        ).fetchone() or (0,)  # fmt: skip
        return int(rid)

    def submit(self, conn: psycopg.Connection[Any], actor: str, mention_id: str, text: str, *,
               seen_version: int | None = None) -> int:  # fmt: skip
        """A free-text reply for an approver's sign-off; returns the reply's id."""
        with conn.transaction():
            name, _, _, item, target = self._act(conn, actor, mention_id, "submit",
                                                 seen_version=seen_version)  # fmt: skip
            now = time.time()
            rid = self._new_reply(conn, name, mention_id, text, "awaiting_approval", now)
            self._move(conn, name, item, "submit", target, item.assignee, now)
            return rid

    def reply(self, conn: psycopg.Connection[Any], actor: str, mention_id: str, text: str, *,
              template: str | None = None, seen_version: int | None = None) -> int:  # fmt: skip
        """Straight to the outbox: pre-approved template words, or a user who may send alone."""
        with conn.transaction():
            name, _, unapproved, item, target = self._act(conn, actor, mention_id, "reply",
                                                          seen_version=seen_version)  # fmt: skip
            if template is None and not unapproved:
                raise WorkflowError("your free-text replies need an approver's sign-off")
            if template is None and in_crisis(conn, mention_id):
                raise WorkflowError("during a crisis a free-text reply needs a spokesperson's sign-off")
            now = time.time()
            rid = self._new_reply(conn, name, mention_id, text, "approved", now,
                                  template=template, approved_by=None if template else name)  # fmt: skip
            self._move(conn, name, item, "reply", target, item.assignee, now)
            return rid

    def approve(self, conn: psycopg.Connection[Any], actor: str, reply_id: int) -> None:
        """A second person signs off a free-text reply; it goes to the outbox."""
        with conn.transaction():
            found = conn.execute("SELECT mention_id, author FROM replies WHERE id = %s"
                                 " AND state = 'awaiting_approval' FOR UPDATE", (reply_id,)).fetchone()  # fmt: skip
            if found is None:
                raise WorkflowError(f"reply {reply_id} is not awaiting approval")
            name, _, _, item, target = self._act(conn, actor, str(found[0]), "approve",
                                                 seen_version=None)  # fmt: skip
            if name == found[1]:
                raise WorkflowError("a reply needs the sign-off of someone other than its writer")
            if in_crisis(conn, item.mention_id) and not (conn.execute(
                    "SELECT spokesperson FROM users WHERE name = %s", (name,)).fetchone() or (False,))[0]:  # fmt: skip
                raise WorkflowError("during a crisis only a designated spokesperson may approve replies")
            now = time.time()
            conn.execute("UPDATE replies SET state = 'approved', approved_by = %s, approved_ts = %s,"
                         " updated_ts = %s WHERE id = %s", (name, now, now, reply_id))  # fmt: skip
            self._move(conn, name, item, "approve", target, item.assignee, now)

    def save_draft(self, conn: psycopg.Connection[Any], actor: str, mention_id: str, text: str,
                   *, seen_version: int | None = None) -> int:  # fmt: skip
        """Keep the words being written (the claim stays live); returns the draft's id."""
        with conn.transaction():
            name, _, _, item, target = self._act(conn, actor, mention_id, "draft",
                                                 seen_version=seen_version)  # fmt: skip
            now = time.time()
            rid = self._new_reply(conn, name, mention_id, text, "draft", now)
            self._move(conn, name, item, "draft", target, item.assignee, now)
            return rid

    def reject(self, conn: psycopg.Connection[Any], actor: str, reply_id: int, reason: str) -> None:
        """Back to its writer with a reason; the item is a draft of theirs again."""
        with conn.transaction():
            found = conn.execute("SELECT mention_id FROM replies WHERE id = %s"
                                 " AND state = 'awaiting_approval' FOR UPDATE", (reply_id,)).fetchone()  # fmt: skip
            if found is None:
                raise WorkflowError(f"reply {reply_id} is not awaiting approval")
            name, _, _, item, target = self._act(conn, actor, str(found[0]), "reject",
                                                 seen_version=None, reason=reason)  # fmt: skip
            now = time.time()
            conn.execute("UPDATE replies SET state = 'draft', review_note = %s, updated_ts = %s"
                         " WHERE id = %s", (reason.strip(), now, reply_id))  # fmt: skip
            self._move(conn, name, item, "reject", target, item.assignee, now)

    def escalate(self, conn: psycopg.Connection[Any], actor: str, mention_id: str, reason: str,
                 *, seen_version: int | None = None) -> int:  # fmt: skip
        """Hand the item up (an approver or admin takes it over), with a reason, and declare
        a crisis on its topic or join the one open (as on one machine); the crisis's id."""
        from app.room.alerts import RoomAlerts  # (alerts build on this module)

        with conn.transaction():
            name, _, _, item, target = self._act(conn, actor, mention_id, "escalate",
                                                 seen_version=seen_version, reason=reason)  # fmt: skip
            now = time.time()
            (topics,) = conn.execute("SELECT topics FROM mentions WHERE id = %s",
                                     (mention_id,)).fetchone() or ([],)  # fmt: skip
            topic = next((t for t in topics or [] if t), None)
            crisis_id = RoomAlerts()._declare(conn, name, topic, f"escalated: {reason.strip()}",
                                              None, now, by_escalation=True)  # fmt: skip
            self._move(conn, name, item, "escalate", target, None, now,
                       detail={"reason": reason.strip(), "crisis": crisis_id})  # fmt: skip
            conn.execute("UPDATE queue SET crisis_id = %s WHERE mention_id = %s",
                         (crisis_id, mention_id))  # fmt: skip
            return crisis_id

    def dismiss(self, conn: psycopg.Connection[Any], actor: str, mention_id: str, reason: str, *,
                seen_version: int | None = None) -> None:  # fmt: skip
        with conn.transaction():
            name, _, _, item, target = self._act(conn, actor, mention_id, "dismiss",
                                                 seen_version=seen_version, reason=reason)  # fmt: skip
            now = time.time()
            conn.execute("UPDATE replies SET state = 'withdrawn', updated_ts = %s WHERE"
                         " mention_id = %s AND state IN ('draft', 'awaiting_approval',"
                         " 'approved', 'failed')", (now, mention_id))  # fmt: skip
            self._move(conn, name, item, "dismiss", target, None, now,
                       detail={"reason": reason.strip()})  # fmt: skip

    def retry(self, conn: psycopg.Connection[Any], actor: str, mention_id: str, *,
              seen_version: int | None = None) -> RoomItem:  # fmt: skip
        """Send a failed reply again: the same row and idempotency key, and one attempt kept
        on record, so the next one first looks for the reply an earlier attempt may have
        posted (some servers ignore the key): never a second post."""
        with conn.transaction():
            name, _, _, item, target = self._act(conn, actor, mention_id, "retry",
                                                 seen_version=seen_version)  # fmt: skip
            now = time.time()
            found = conn.execute(
                "UPDATE replies SET state = 'approved', next_attempt_ts = NULL, attempts = 1,"
                " sending_by = NULL, sending_until = NULL, updated_ts = %s WHERE id = (SELECT id"
                " FROM replies WHERE mention_id = %s AND state = 'failed' ORDER BY id DESC LIMIT 1)"
                " RETURNING id", (now, mention_id),
            ).fetchone()  # fmt: skip
            if found is None:
                raise WorkflowError("this item has no failed reply to send again")
            return self._move(conn, name, item, "retry", target, item.assignee, now)

    def add_note(self, conn: psycopg.Connection[Any], actor: str, mention_id: str, text: str) -> int:
        """A note on the item for the others (its state and version stay); the note's id."""
        with conn.transaction():
            name, role = self._user(conn, actor)
            if not grants(role, Permission.HANDLE):
                raise WorkflowError("your role may not write notes")
            if not text.strip():
                raise WorkflowError("the note is empty")
            self.item(conn, mention_id)
            now = time.time()
            (nid,) = conn.execute(
                "WITH note AS (INSERT INTO notes (mention_id, author, ts, text)"
                " VALUES (%s, %s, %s, %s) RETURNING id), logged AS (INSERT INTO change_log"
                " (tables, ids) VALUES ('{notes}', ARRAY[%s])) SELECT id FROM note",
                (mention_id, name, now, text.strip(), mention_id),
            ).fetchone() or (0,)  # fmt: skip
            append_audit(conn, name, "item.note", mention_id, {}, {"text": text.strip()}, now=now)
            return int(nid)

    def expire_claims(self, conn: psycopg.Connection[Any], now: float | None = None) -> int:
        """Free claims whose holder went idle (skipping rows a station is acting on now)."""
        now = time.time() if now is None else now
        freed = 0
        with conn.transaction():
            rows = conn.execute(
                "SELECT mention_id, state, priority, assignee, claim_expires, version FROM queue"
                " WHERE state IN ('claimed', 'draft') AND claim_expires < %s"
                " FOR UPDATE SKIP LOCKED", (now,),
            ).fetchall()  # fmt: skip
            for row in rows:
                item = RoomItem(*row)
                target = check("expire", item.state, granted=True, is_assignee=False,
                               is_admin=False)  # fmt: skip
                self._move(conn, SYSTEM, item, "expire", target, None, now)
                freed += 1
        return freed


@dataclass(frozen=True, slots=True)
class RoomSend:
    """A reply this station's outbox holds the lease to send."""

    reply_id: int
    mention_id: str
    source: str
    text: str
    idempotency_key: str
    reply_ref: dict[str, Any]
    attempt: int


class RoomOutbox:
    """The room's outbox: exactly one station sends a given reply, even when several run.

    ``take_due`` marks replies ``sending`` under a lease held by this station, skipping
    rows another station is taking (SKIP LOCKED); a station that dies mid-send leaves a
    lease that runs out, and the next taker sends again with the same idempotency key
    (the network, or the look for our own reply, keeps it from posting twice). Marking
    the outcome is a compare-and-set on the lease: a station whose lease was taken over
    records nothing.
    """

    def __init__(self, station: str, *, lease_s: float = 120.0, max_attempts: int = 5,
                 retry_base_s: float = 30.0,
                 reply_rates: Mapping[str, tuple[Rate, ...]] | None = None) -> None:  # fmt: skip
        self.station = station
        self.lease_s = lease_s
        self.max_attempts = max_attempts
        self.retry_base_s = retry_base_s
        #: how fast each network may be posted to (the networks' own account limits)
        self.reply_rates = dict(REPLY_RATES if reply_rates is None else reply_rates)

    def _step(self, conn: psycopg.Connection[Any], mention_id: str, action: Action,
              detail: dict[str, Any], now: float) -> None:  # fmt: skip
        """The queue item follows its reply, by the same rules, audited as the system — if
        it still stands where the reply puts it (approved for a send, sending for its
        outcome): an item someone escalated or dismissed meanwhile stays where they put it,
        and the other replies of the round go on (as on one machine)."""
        row = conn.execute("SELECT mention_id, state, priority, assignee, claim_expires, version"
                           " FROM queue WHERE mention_id = %s FOR UPDATE", (mention_id,)).fetchone()  # fmt: skip
        if row is None:
            return
        item = RoomItem(*row)
        if item.state != ("approved" if action == "send" else "sending"):
            return
        target = check(action, item.state, granted=True, is_assignee=False, is_admin=False)
        cur = conn.execute(
            "WITH moved AS (UPDATE queue SET state = %s, updated_ts = %s, version = version + 1"
            " WHERE mention_id = %s AND version = %s RETURNING mention_id)"
            " INSERT INTO change_log (tables, ids) SELECT '{queue,replies}', ARRAY[mention_id]"
            " FROM moved", (target, now, mention_id, item.version),
        )  # fmt: skip
        if cur.rowcount != 1:
            raise WorkflowError("someone else changed this item just now; look again")
        append_audit(conn, SYSTEM, f"item.{action}", mention_id,
                     {"state": item.state}, {"state": target, **detail}, now=now)  # fmt: skip

    def _budget(self, conn: psycopg.Connection[Any], source: str, network: str,
                now: float) -> int | None:  # fmt: skip
        """How many more replies ``source`` may send now under its network's limits (None: no
        limit known), counted from the room's replies, so every station's sends count. The
        count is taken under a per-source lock held to the commit: two stations taking at
        once share one budget."""
        rates = self.reply_rates.get(network, ())
        if not rates:
            return None
        conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (OUTBOX_LOCK, source))
        windows = ", ".join(["count(*) FILTER (WHERE r.sent_ts > %s)"] * len(rates))
        row = conn.execute(
            f"SELECT count(*) FILTER (WHERE r.state = 'sending'), {windows} FROM replies r"
            " JOIN mentions m ON m.id = r.mention_id WHERE m.source = %s",
            (*(now - rate.per_s for rate in rates), source),
        ).fetchone() or (0, *([0] * len(rates)))  # fmt: skip
        sending, sent = int(row[0]), [int(n) for n in row[1:]]
        return max(0, min(rate.count - n for rate, n in zip(rates, sent, strict=True)) - sending)

    def take_due(self, conn: psycopg.Connection[Any], *, limit: int = 20) -> list[RoomSend]:
        """Approved replies due now (as many of each source's as its network's limits have
        room for: the rest stay approved, due as the window moves on), and sends whose lease
        ran out, leased to this station."""
        now = time.time()
        with conn.transaction():
            due = conn.execute(
                "SELECT r.id, r.state, m.source, m.network FROM replies r JOIN mentions m"
                " ON m.id = r.mention_id WHERE (r.state = 'approved'"
                " AND coalesce(r.next_attempt_ts, 0) <= %s) OR (r.state = 'sending'"
                " AND r.sending_until < %s) ORDER BY r.id LIMIT %s FOR UPDATE OF r SKIP LOCKED",
                (now, now, limit * 10),
            ).fetchall()  # fmt: skip
            budgets: dict[str, int | None] = {}
            was: dict[int, str] = {}
            for rid, state, source, network in due:
                if len(was) >= limit:
                    break
                if state == "approved":  # a lease run out was counted when it was taken
                    if source not in budgets:
                        budgets[source] = self._budget(conn, source, network, now)
                    left = budgets[source]
                    if left is not None:
                        if left <= 0:
                            continue
                        budgets[source] = left - 1
                was[int(rid)] = str(state)
            rows = conn.execute(
                "UPDATE replies SET state = 'sending', sending_by = %s, sending_until = %s,"
                " attempts = attempts + 1, updated_ts = %s WHERE id = ANY (%s)"
                " RETURNING id, mention_id, text, idempotency_key, attempts",
                (self.station, now + self.lease_s, now, list(was)),
            ).fetchall()  # fmt: skip
            out = []
            for rid, mid, text, key, attempt in sorted(rows):
                if was[int(rid)] == "approved":
                    self._step(conn, mid, "send", {"reply": rid, "attempt": attempt,
                                                   "station": self.station}, now)  # fmt: skip
                found = conn.execute("SELECT source, body -> 'reply_ref' FROM mentions"
                                     " WHERE id = %s", (mid,)).fetchone()  # fmt: skip
                source, ref = found if found else ("", None)
                out.append(RoomSend(int(rid), str(mid), str(source), str(text), str(key),
                                    dict(ref or {}), int(attempt)))  # fmt: skip
        return out

    def _mine(self, conn: psycopg.Connection[Any], reply_id: int) -> tuple[str, int] | None:
        row = conn.execute("SELECT mention_id, attempts FROM replies WHERE id = %s"
                           " AND state = 'sending' AND sending_by = %s FOR UPDATE",
                           (reply_id, self.station)).fetchone()  # fmt: skip
        return (str(row[0]), int(row[1])) if row else None

    def mark_sent(self, conn: psycopg.Connection[Any], reply_id: int, native_id: str,
                  url: str = "") -> bool:  # fmt: skip
        """The reply is out; False (nothing recorded) if another station holds it now."""
        now = time.time()
        with conn.transaction():
            mine = self._mine(conn, reply_id)
            if mine is None:
                return False
            conn.execute("UPDATE replies SET state = 'sent', sent_native_id = %s, sent_url = %s,"
                         " sent_ts = %s, updated_ts = %s, last_error = NULL, sending_until = NULL"
                         " WHERE id = %s", (native_id, url, now, now, reply_id))  # fmt: skip
            self._step(conn, mine[0], "sent", {"reply": reply_id, "native_id": native_id,
                                               "station": self.station}, now)  # fmt: skip
        return True

    def mark_failed(self, conn: psycopg.Connection[Any], reply_id: int, error: str, *,
                    retryable: bool, retry_after: float | None = None) -> bool:  # fmt: skip
        """A failed attempt; True if it will be tried again by itself (after a backoff, and
        not before the server's ``retry_after``, when it said)."""
        now = time.time()
        with conn.transaction():
            mine = self._mine(conn, reply_id)
            if mine is None:
                return False
            mention_id, attempts = mine
            again = retryable and attempts < self.max_attempts
            delay = max(self.retry_base_s * 2 ** max(attempts - 1, 0), retry_after or 0.0)
            conn.execute("UPDATE replies SET state = %s, last_error = %s, next_attempt_ts = %s,"
                         " updated_ts = %s, sending_by = NULL, sending_until = NULL WHERE id = %s",
                         ("approved" if again else "failed", error, now + delay if again else None,
                          now, reply_id))  # fmt: skip
            self._step(conn, mention_id, "requeue" if again else "fail",
                       {"reply": reply_id, "error": error, "attempt": attempts}, now)  # fmt: skip
        return again
