"""Alerts and crises shared through the room: acknowledged, declared and ended in PostgreSQL.

An acknowledgement is a compare-and-set on the alert's state (of two consoles acting at
once one wins, the other is told who did it); declaring takes an advisory lock so the room
never holds two open crises. Each action is audited on the room's chain and logged in the
change log in its transaction, so every station's sync copies it into its cache and each
wall's crisis bar follows within a moment.

Stations detect alerts from the same mentions as the hub, a little earlier or later, so
their ids and times differ from the room's: an alert is matched by kind, topic and a time
within :data:`MATCH_S` of the room's (see :func:`find_alert` and :func:`local_matches`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import psycopg

from app.room.publish import log_change
from app.room.queue import append_audit, room_user
from app.workflow.roles import Permission, grants
from app.workflow.states import WorkflowError

#: pg_advisory_xact_lock key: one crisis declared at a time across the room
CRISIS_LOCK = 0x7761_7463_6803
#: seconds an alert detected at another machine may lie from the room's and still be it
MATCH_S = 15 * 60.0


@dataclass(frozen=True, slots=True)
class AlertKey:
    """What identifies an alert across machines (ids and times are each machine's own)."""

    kind: str
    topic: str
    ts: float


def find_alert(conn: psycopg.Connection[Any], key: AlertKey) -> int | None:
    """The room's alert that ``key`` (as a station's cache holds it) is, or None."""
    row = conn.execute(
        "SELECT id FROM alerts WHERE kind = %s AND topic = %s AND ts BETWEEN %s AND %s"
        " ORDER BY abs(ts - %s) LIMIT 1",
        (key.kind, key.topic, key.ts - MATCH_S, key.ts + MATCH_S, key.ts),
    ).fetchone()
    return int(row[0]) if row else None


#: a station's active alerts that are a room alert (its kind, topic, ts bounds)
LOCAL_MATCH = "state = 'active' AND kind = ? AND topic = ? AND ts BETWEEN ? AND ?"


def local_matches(kind: str, topic: str, ts: float) -> tuple[str, str, float, float]:
    """The :data:`LOCAL_MATCH` parameters of a room alert."""
    return kind, topic, ts - MATCH_S, ts + MATCH_S


class RoomAlerts:
    """The room's alert acknowledgement and crisis commands (mirroring QueueWorkflow's)."""

    def _event(self, conn: psycopg.Connection[Any], crisis_id: int, actor: str, kind: str,
               text: str, now: float) -> None:  # fmt: skip
        conn.execute("INSERT INTO crisis_events (crisis_id, ts, actor, kind, text)"
                     " VALUES (%s, %s, %s, %s, %s)", (crisis_id, now, actor, kind, text))  # fmt: skip

    def _open(self, conn: psycopg.Connection[Any]) -> int | None:
        row = conn.execute("SELECT id FROM crises WHERE ended_ts IS NULL"
                           " ORDER BY started_ts DESC LIMIT 1").fetchone()  # fmt: skip
        return int(row[0]) if row else None

    def _ack(self, conn: psycopg.Connection[Any], actor: str, alert_id: int, now: float) -> None:
        """Compare-and-set active → acknowledged, audited; refused saying who was first."""
        cur = conn.execute("UPDATE alerts SET state = 'acknowledged', acked_by = %s, acked_ts = %s"
                           " WHERE id = %s AND state = 'active'", (actor, now, alert_id))  # fmt: skip
        if cur.rowcount != 1:
            row = conn.execute("SELECT state, acked_by FROM alerts WHERE id = %s",
                               (alert_id,)).fetchone()  # fmt: skip
            if row is None:
                raise WorkflowError(f"no alert {alert_id} in the room")
            by = f" by {row[1]}" if row[1] else ""
            raise WorkflowError(f"this alert is {row[0]} already{by}: nothing was done")
        crisis = self._open(conn)
        if crisis is not None:
            self._event(conn, crisis, actor, "alert acknowledged", f"alert {alert_id}", now)
        log_change(conn, ["alerts", "crises"] if crisis else ["alerts"], [str(alert_id)])
        append_audit(conn, actor, "alert.acknowledge", f"alert:{alert_id}", {"state": "active"},
                     {"state": "acknowledged"}, now=now)  # fmt: skip

    def acknowledge(self, conn: psycopg.Connection[Any], actor: str, alert_id: int) -> None:
        with conn.transaction():
            name, role = room_user(conn, actor)
            if not grants(role, Permission.HANDLE):
                raise WorkflowError("your role may not acknowledge alerts")
            self._ack(conn, name, alert_id, time.time())

    def _declare(self, conn: psycopg.Connection[Any], actor: str, topic: str | None,
                 reason: str, alert_id: int | None, now: float, *,
                 by_escalation: bool = False) -> int:  # fmt: skip
        """Open a crisis, or return the one open; an operator's escalation may open one
        (as on one machine), anything else needs an approver or admin."""
        name, role = room_user(conn, actor)
        if not by_escalation and not grants(role, Permission.COMMAND):
            raise WorkflowError("only an approver or admin may declare a crisis")
        why = reason.strip()
        if not why:
            raise WorkflowError("a crisis needs a reason")
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (CRISIS_LOCK,))
        existing = self._open(conn)
        if existing is not None:
            return existing
        found = conn.execute(
            "INSERT INTO crises (topic, reason, alert_id, declared_by, started_ts)"
            " VALUES (%s, %s, %s, %s, %s) RETURNING id", (topic, why, alert_id, name, now),
        ).fetchone()  # fmt: skip
        crisis_id = int(found[0]) if found else 0
        self._event(conn, crisis_id, name, "declared", why, now)
        log_change(conn, ["crises"], [str(crisis_id)])
        append_audit(conn, name, "crisis.declare", f"crisis:{crisis_id}", {},
                     {"topic": topic, "reason": why, "alert": alert_id}, now=now)  # fmt: skip
        return crisis_id

    def declare(self, conn: psycopg.Connection[Any], actor: str, topic: str | None, reason: str,
                *, alert_id: int | None = None) -> int:  # fmt: skip
        """Open a crisis (or return the one open already); its id."""
        with conn.transaction():
            return self._declare(conn, actor, topic, reason, alert_id, time.time())

    def accept(self, conn: psycopg.Connection[Any], actor: str, alert_id: int) -> int:
        """Treat an alert as a crisis: declared on its topic, the alert acknowledged."""
        with conn.transaction():
            row = conn.execute("SELECT topic, explanation, state FROM alerts WHERE id = %s",
                               (alert_id,)).fetchone()  # fmt: skip
            if row is None:
                raise WorkflowError(f"no alert {alert_id} in the room")
            now = time.time()
            topic = None if row[0] == "*" else str(row[0])
            crisis_id = self._declare(conn, actor, topic, str(row[1]), alert_id, now)
            if row[2] == "active":
                self._ack(conn, room_user(conn, actor)[0], alert_id, now)
            return crisis_id

    def end(self, conn: psycopg.Connection[Any], actor: str, summary: str = "") -> int:
        """End the open crisis, its active alerts acknowledged (or the walls would stay red)."""
        with conn.transaction():
            name, role = room_user(conn, actor)
            if not grants(role, Permission.COMMAND):
                raise WorkflowError("only an approver or admin may end a crisis")
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (CRISIS_LOCK,))
            crisis_id = self._open(conn)
            if crisis_id is None:
                raise WorkflowError("no crisis is open")
            now = time.time()
            conn.execute("UPDATE crises SET ended_ts = %s, ended_by = %s WHERE id = %s",
                         (now, name, crisis_id))  # fmt: skip
            acked = [str(r[0]) for r in conn.execute(
                "UPDATE alerts SET state = 'acknowledged', acked_by = %s, acked_ts = %s"
                " WHERE state = 'active' RETURNING id", (name, now))]  # fmt: skip
            self._event(conn, crisis_id, name, "ended", summary, now)
            log_change(conn, ["crises", "alerts"] if acked else ["crises"], [str(crisis_id)])
            append_audit(conn, name, "crisis.end", f"crisis:{crisis_id}", {"open": True},
                         {"open": False, "summary": summary, "alerts": acked}, now=now)  # fmt: skip
            return crisis_id
