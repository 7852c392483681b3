"""Everything one console shows, read in one go on its worker thread.

One read transaction, so the queue, the approvals, the alerts and the crisis agree with
each other; and nothing at all for a user disabled meanwhile (the console signs out on
seeing that).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from app.workflow import queries
from app.workflow.queries import Alert, Crisis, Pending, QueueFilter, QueueRow, Urgent
from app.workflow.users import User, get_user


@dataclass(frozen=True, slots=True)
class Snapshot:
    rows: list[QueueRow] = field(default_factory=list)
    pending: list[Pending] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    crisis: Crisis | None = None
    timeline: list[tuple[float, str, str, str]] = field(default_factory=list)
    #: unclaimed items of the priorities that notify
    urgent: list[Urgent] = field(default_factory=list)
    #: the item selected when the read began, and its row in ``rows`` (-1: filtered out)
    kept: str | None = None
    kept_row: int = -1
    #: the signed-in user as the database has them now (None: disabled or gone)
    user: User | None = None


def read_snapshot(conn: sqlite3.Connection, name: str, f: QueueFilter, priorities: list[int],
                  keep: str | None = None) -> Snapshot:  # fmt: skip
    conn.execute("BEGIN")
    try:
        user = get_user(conn, name)
        if user is None:
            return Snapshot()
        rows = queries.fetch_queue(conn, f)
        crisis = queries.open_crisis(conn)
        snap = Snapshot(
            rows=rows,
            pending=queries.awaiting_approval(conn),
            alerts=queries.active_alerts(conn),
            crisis=crisis,
            timeline=queries.crisis_timeline(conn, crisis.id) if crisis else [],
            urgent=queries.urgent_new(conn, priorities),
            kept=keep,
            kept_row=next((i for i, r in enumerate(rows) if r.mention_id == keep), -1) if keep else -1,
            user=user,
        )
    finally:
        conn.execute("COMMIT")
    return snap
