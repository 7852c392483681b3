"""Sentiment corrections shared through the room: one operator's class for a post, on every wall.

The correction is held in the room's ``sentiment_corrections`` (one row a post, the newest
class) and audited on the room's chain, in one transaction with its change-log row. Each
station's sync lays it over its cache with :func:`apply_label`, through the very function
a local correction uses (:func:`app.analysis.corrections.apply_label`: the post's class and
its move between classes in the rollups), so each station's rollups, walls and exports
follow; who may correct, and to which classes, is :func:`~app.analysis.corrections.relabel_allowed`. The cache keeps no audit row of it: the room's trail is the record.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from typing import Any

import psycopg

from app.analysis import corrections
from app.analysis.corrections import LABELS, Relabel, relabel_allowed
from app.model import sentiment_label
from app.room.publish import log_change
from app.room.queue import append_audit, room_user
from app.workflow.states import WorkflowError

#: pg_advisory_xact_lock class: one correction of a post at a time (its audit says what it was)
RELABEL_LOCK = 0x7763


def relabel(conn: psycopg.Connection[Any], actor: str, mention_id: str, label: str, *,
            reason: str = "") -> Relabel:  # fmt: skip
    """Set a post's class for the whole room as ``actor`` (an operator or above)."""
    with conn.transaction():
        name, role = room_user(conn, actor)
        relabel_allowed(role, label)
        conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (RELABEL_LOCK, mention_id))
        row = conn.execute(
            "SELECT c.label, m.body ->> 'sentiment_label', m.body ->> 'sentiment' FROM mentions m"
            " LEFT JOIN sentiment_corrections c ON c.mention_id = m.id WHERE m.id = %s",
            (mention_id,),
        ).fetchone()  # fmt: skip
        if row is None:
            raise WorkflowError(f"no mention {mention_id}")
        before = row[0] or row[1] or sentiment_label(float(row[2] or 0.0))
        if before == label:
            return Relabel(mention_id, before, label, 0)
        now = time.time()
        conn.execute(
            "INSERT INTO sentiment_corrections (mention_id, label, corrected_by, ts, reason)"
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (mention_id) DO UPDATE SET"
            " label = excluded.label, corrected_by = excluded.corrected_by, ts = excluded.ts,"
            " reason = excluded.reason", (mention_id, label, name, now, reason.strip()),
        )  # fmt: skip
        log_change(conn, ["sentiment_corrections"], [mention_id])
        audit_id = append_audit(conn, name, "mention.relabel", mention_id,
                                {"sentiment_label": before},
                                {"sentiment_label": label, "reason": reason.strip()}, now=now)  # fmt: skip
        return Relabel(mention_id, before, label, audit_id)


def read_corrections(conn: psycopg.Connection[Any], ids: Iterable[str] | None) -> list[tuple[str, str]]:
    """(mention id, class) of the room's corrections: of ``ids``, or (None) all of them."""
    if ids is None:
        rows = conn.execute("SELECT mention_id, label FROM sentiment_corrections")
    else:
        rows = conn.execute("SELECT mention_id, label FROM sentiment_corrections"
                            " WHERE mention_id = ANY (%s)", (list(ids),))  # fmt: skip
    return [(str(m), str(label)) for m, label in rows.fetchall()]


def corrected_between(conn: psycopg.Connection[Any], after_seq: int,
                      upto_seq: int) -> list[tuple[str, str]]:  # fmt: skip
    """The corrections of the posts numbered ``after_seq`` < seq <= ``upto_seq`` (a catch-up
    just brought them with the class the hub gave them)."""
    rows = conn.execute("SELECT c.mention_id, c.label FROM sentiment_corrections c JOIN mentions m"
                        " ON m.id = c.mention_id WHERE m.seq > %s AND m.seq <= %s",
                        (after_seq, upto_seq)).fetchall()  # fmt: skip
    return [(str(m), str(label)) for m, label in rows]


def apply_labels(conn: sqlite3.Connection, labels: Iterable[tuple[str, str]]) -> list[str]:
    """:func:`apply_label` for each (mention id, class); the ids whose class changed here."""
    return [mid for mid, label in labels if apply_label(conn, mid, label)]


def apply_label(conn: sqlite3.Connection, mention_id: str, label: str) -> bool:
    """Lay the room's class over a cache's post and its rollups (as a local correction does:
    :func:`app.analysis.corrections.apply_label`); False when the cache holds the post with
    that class already, or not yet (the sync lays it on once the post came)."""
    if label not in LABELS:
        return False
    before = corrections.apply_label(conn, mention_id, label)
    return before is not None and before != label
