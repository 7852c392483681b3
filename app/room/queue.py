"""The queue's claims in the room: the same state machine, stored in PostgreSQL.

Every transition asks :func:`app.workflow.states.check` (the one place the rules live),
then writes with a compare-and-set on the row's ``version``, so of two stations acting
on one item exactly one wins and the other is told. ``claim_next`` hands out the most
urgent free item with ``FOR UPDATE SKIP LOCKED``: stations racing for work each take a
different row instead of queueing behind one another.

Each transition appends its audit row in the same transaction, chained as the SQLite
trail is (:func:`app.workflow.audit.row_hash`); the chain's appends are serialised by a
transaction-level advisory lock taken just before the commit, so ids run 1, 2, 3 with no
gap and each row links to the one before.

This is the claim part of the room's workflow (claim, claim next, release, expire);
the methods mirror :class:`app.workflow.service.QueueWorkflow` so a console can use
either store.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import psycopg

from app.room.publish import log_change
from app.workflow.audit import GENESIS, row_hash
from app.workflow.roles import Permission, grants
from app.workflow.states import HELD, Action, WorkflowError, check

#: pg_advisory_xact_lock key: one audit append at a time across the room
AUDIT_LOCK = 0x7761_7463_6803
SYSTEM = "system"


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
    """Append one chained audit row inside the caller's transaction; return its id."""
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (AUDIT_LOCK,))
    last = conn.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    prev_id, prev_hash = (int(last[0]), str(last[1])) if last else (0, GENESIS)
    id_ = prev_id + 1
    b, a = _canonical(before), _canonical(after)
    digest = row_hash(prev_hash, id_, now, actor, action, target, b, a)
    conn.execute(
        "INSERT INTO audit (id, ts, actor, action, target, before, after, prev_hash, hash)"
        " OVERRIDING SYSTEM VALUE VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (id_, now, actor, action, target, b, a, prev_hash, digest),
    )
    return id_


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
    return count, None


class RoomQueue:
    def __init__(self, *, claim_idle_s: float = 15 * 60) -> None:
        self.claim_idle_s = claim_idle_s

    def _user(self, conn: psycopg.Connection[Any], name: str) -> tuple[str, str]:
        row = conn.execute("SELECT name, role FROM users WHERE lower(name) = lower(%s)"
                           " AND NOT disabled", (name.strip(),)).fetchone()  # fmt: skip
        if row is None:
            raise WorkflowError(f"no enabled user {name!r}")
        return str(row[0]), str(row[1])

    def item(self, conn: psycopg.Connection[Any], mention_id: str) -> RoomItem:
        row = conn.execute("SELECT mention_id, state, priority, assignee, claim_expires, version"
                           " FROM queue WHERE mention_id = %s", (mention_id,)).fetchone()  # fmt: skip
        if row is None:
            raise WorkflowError(f"no queue item {mention_id}")
        return RoomItem(*row)

    def _move(self, conn: psycopg.Connection[Any], actor: str, item: RoomItem, action: Action,
              target: str, assignee: str | None, now: float) -> RoomItem:  # fmt: skip
        """Compare-and-set on the version the rules were checked against, audited."""
        expires = now + self.claim_idle_s if assignee else None
        cur = conn.execute(
            "UPDATE queue SET state = %s, assignee = %s, claimed_ts = %s, claim_expires = %s,"
            " updated_ts = %s, version = version + 1 WHERE mention_id = %s AND version = %s",
            (target, assignee, now if assignee else None, expires, now, item.mention_id,
             item.version),
        )  # fmt: skip
        if cur.rowcount != 1:
            raise WorkflowError("someone else changed this item just now; look again")
        log_change(conn, ["queue"], [item.mention_id])
        append_audit(conn, actor, f"item.{action}", item.mention_id,
                     {"state": item.state, "assignee": item.assignee},
                     {"state": target, "assignee": assignee}, now=now)  # fmt: skip
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

    def claim(self, conn: psycopg.Connection[Any], actor: str, mention_id: str) -> RoomItem:
        """Take one item; of stations racing for it exactly one wins, the others are told."""
        with conn.transaction():
            name, role = self._user(conn, actor)
            item = self.item(conn, mention_id)
            now = time.time()
            target = self._check_claim(role, name, item, now)
            return self._move(conn, name, item, "claim", target, name, now)

    def claim_next(self, conn: psycopg.Connection[Any], actor: str, *,
                   topic: str | None = None) -> RoomItem | None:  # fmt: skip
        """Claim the most urgent free item (priority, then the longest wait), or None."""
        with conn.transaction():
            name, role = self._user(conn, actor)
            if not grants(role, Permission.HANDLE):
                raise WorkflowError("your role may not claim items")
            now = time.time()
            row = conn.execute(
                "SELECT q.mention_id, q.state, q.priority, q.assignee, q.claim_expires, q.version"
                " FROM queue q JOIN mentions m ON m.id = q.mention_id"
                " WHERE (q.state = 'new' OR (q.state IN ('claimed', 'draft')"
                " AND q.claim_expires < %s)) AND (%s::text IS NULL OR %s = ANY (m.topics))"
                " ORDER BY q.priority, q.queued_ts LIMIT 1 FOR UPDATE OF q SKIP LOCKED",
                (now, topic, topic),
            ).fetchone()
            if row is None:
                return None
            item = RoomItem(*row)
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
