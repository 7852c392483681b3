"""``watchfloor export`` of what only the room holds, on a machine of the room.

Every console works the queue, its replies and the audit trail in PostgreSQL; a station's
cache mirrors the queue's states only and holds no console's action, so an export of the
queue or the audit trail from it would leave out what the team did. These read the room,
in the shape of one machine's export (the same fields, the same order).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg

from app.workflow.export import QUEUE_SELECT, audit_record, queue_record

#: what a machine of the room exports from the room instead of its cache
FROM_ROOM = frozenset({"queue", "audit"})
_CHUNK = 2000


def _stream(conn: psycopg.Connection[Any], name: str, sql: str) -> Iterator[tuple[Any, ...]]:
    """Rows of ``sql`` through a server-side cursor: millions need no more memory than ten."""
    with conn.transaction(), conn.cursor(name=name) as cur:
        cur.itersize = _CHUNK
        cur.execute(sql)
        yield from cur


def queue_rows(conn: psycopg.Connection[Any]) -> Iterator[dict[str, Any]]:
    sql = QUEUE_SELECT.format(network="m.network", author="m.body->>'author'",
                              text="m.body->>'text'", url="m.body->>'url'")  # fmt: skip
    for r in _stream(conn, "export_queue", sql):
        yield queue_record(r, list(r[6]))


def audit_rows(conn: psycopg.Connection[Any]) -> Iterator[dict[str, Any]]:
    sql = "SELECT id, ts, actor, action, target, before, after, hash FROM audit ORDER BY id"
    for id_, ts, actor, action, target, before, after, digest in _stream(conn, "export_audit", sql):
        yield audit_record({"id": id_, "ts": ts, "actor": actor, "action": action, "target": target,
                            "before": before, "after": after, "hash": digest})  # fmt: skip


def rows(conn: psycopg.Connection[Any], what: str) -> Iterator[dict[str, Any]]:
    return queue_rows(conn) if what == "queue" else audit_rows(conn)
