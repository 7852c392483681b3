"""Export rows of the queue (with its latest reply) and of the audit trail."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

from app.model import iso_utc
from app.workflow import audit


def _iso(ts: float | None) -> str | None:
    return iso_utc(ts) if ts else None


#: the queue's columns as :func:`queue_record` reads them (a room reads the same from its tables)
QUEUE_SELECT = (
    "SELECT q.mention_id, q.priority, q.state, q.queued_ts, q.updated_ts, q.assignee,"
    " q.reasons, q.note, q.crisis_id, {network}, {author}, {text}, {url},"
    " r.id, r.state, r.text, r.author, r.approved_by, r.template, r.sent_native_id, r.sent_url,"
    " r.sent_ts, r.attempts, r.last_error"
    " FROM queue q LEFT JOIN mentions m ON m.id = q.mention_id"
    " LEFT JOIN replies r ON r.id = (SELECT max(id) FROM replies WHERE mention_id = q.mention_id"
    " AND state != 'withdrawn') ORDER BY q.queued_ts, q.mention_id"
)


def queue_record(r: Sequence[Any], reasons: list[str]) -> dict[str, Any]:
    """One exported queue row (an item with its latest reply) from :data:`QUEUE_SELECT`'s columns."""
    return {
        "mention_id": r[0], "priority": r[1], "state": r[2], "queued_at": _iso(r[3]),
        "updated_at": _iso(r[4]), "assignee": r[5], "reasons": reasons,
        "note": r[7], "crisis_id": r[8], "network": r[9], "author": r[10], "text": r[11],
        "url": r[12], "reply_id": r[13], "reply_state": r[14], "reply_text": r[15],
        "reply_author": r[16], "approved_by": r[17], "template": r[18],
        "reply_native_id": r[19], "reply_url": r[20], "replied_at": _iso(r[21]),
        "attempts": r[22], "last_error": r[23],
    }  # fmt: skip


def queue_rows(conn: sqlite3.Connection) -> Iterator[dict[str, Any]]:
    cur = conn.execute(QUEUE_SELECT.format(network="m.network", author="m.author", text="m.text", url="m.url"))
    while chunk := cur.fetchmany(2000):
        for r in chunk:
            yield queue_record(r, json.loads(r[6]))


def audit_record(row: dict[str, Any]) -> dict[str, Any]:
    """One exported audit row: its time as ISO 8601 UTC in place of epoch seconds."""
    row["at"] = iso_utc(row.pop("ts"))
    return row


def audit_rows(conn: sqlite3.Connection) -> Iterator[dict[str, Any]]:
    for row in audit.rows(conn):
        yield audit_record(row)
