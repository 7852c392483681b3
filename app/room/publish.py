"""Writing into the room: mentions on the gap-free sequence, the change log that wakes stations.

Shared by the hub (which publishes what it polled), the room's queue (each transition
logs its change) and the benchmark.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

#: more ids than this in one change are recorded as none (read the table)
MAX_IDS = 200
#: a source's health as the room and every cache keep it (the same columns in both)
HEALTH_COLUMNS = ("name", "type", "cursor", "status", "last_success", "last_error",
                  "last_error_ts", "next_poll", "failures", "fetched_total", "stored_total")  # fmt: skip
#: seconds a change-log row is kept (stations read mentions by sequence, not by the log)
CHANGES_KEEP_S = 86_400.0


def insert_mentions(conn: psycopg.Connection[Any], bodies: dict[str, dict[str, Any]]) -> list[str]:
    """Insert the mentions the room does not hold yet, numbered on from its sequence.

    Call inside a transaction: the sequence's row stays locked until the commit, so
    commits come in sequence order and a reader never skips one. Those that need a
    response become queue items in the same transaction. Returns the new ids.
    """
    known = {r[0] for r in conn.execute("SELECT id FROM mentions WHERE id = ANY(%s)",
                                        (list(bodies),))}  # fmt: skip
    new = [i for i in bodies if i not in known]
    if not new:
        return new
    (last,) = conn.execute("UPDATE mention_seq SET last = last + %s RETURNING last",
                           (len(new),)).fetchone() or (0,)  # fmt: skip
    first = int(last) - len(new) + 1
    with conn.cursor().copy("COPY mentions (seq, id, network, source, ts, needs_response,"
                            " priority, topics, body) FROM STDIN") as copy:  # fmt: skip
        for n, mid in enumerate(new):
            b = bodies[mid]
            copy.write_row((first + n, mid, b["network"], b["source"], b["ts"],
                            bool(b["needs_response"]), int(b["priority"]), list(b["topics"]),
                            Jsonb(b)))  # fmt: skip
    now = time.time()
    queued = [(mid, int(bodies[mid]["priority"]), now, now, list(bodies[mid].get("reasons") or []))
              for mid in new if bodies[mid]["needs_response"]]  # fmt: skip
    if queued:  # the room's queue: one item a mention that needs a response
        conn.cursor().executemany(
            "INSERT INTO queue (mention_id, priority, state, queued_ts, updated_ts, reasons)"
            " VALUES (%s, %s, 'new', %s, %s, %s) ON CONFLICT DO NOTHING", queued)  # fmt: skip
    return new


def log_change(conn: psycopg.Connection[Any], tables: Sequence[str], ids: Sequence[str],
               topics: Iterable[str] = ()) -> None:  # fmt: skip
    """The change-log row of this transaction; its trigger NOTIFYs the stations after commit."""
    conn.execute("INSERT INTO change_log (tables, ids, topics) VALUES (%s, %s, %s)",
                 (list(tables), list(ids) if len(ids) <= MAX_IDS else [], sorted(topics)))  # fmt: skip


#: mentions one statement of :func:`prune_mentions` drops (each statement its own transaction)
PRUNE_BATCH = 5000
#: seconds of pruning a hub round may spend; what is left goes at the next round
PRUNE_BUDGET_S = 5.0


def prune_mentions(conn: psycopg.Connection[Any], cutoff: float, *, batch: int = PRUNE_BATCH,
                   budget_s: float = PRUNE_BUDGET_S) -> tuple[int, bool]:  # fmt: skip
    """Drop the room's mentions created before ``cutoff`` that are no part of the care record.

    A post that was queued, answered, noted, re-labelled or taken out of a story keeps its
    row: the room's queue, replies and audit name it, and a console opening that history
    must find the post. Every other one goes, oldest first, ``batch`` rows a statement (on
    an autocommit connection each is its own short transaction, so publishing never waits
    long behind it) for at most ``budget_s``. Stations read by sequence: the numbers left
    out mean nothing to them, and each cache prunes itself by its own ``[retention]``.
    Returns how many went, and whether more are left (the budget ran out first).
    """
    total = 0
    deadline = time.monotonic() + budget_s
    while True:
        cur = conn.execute(
            "DELETE FROM mentions WHERE seq IN (SELECT m.seq FROM mentions m WHERE m.ts < %s"
            " AND NOT EXISTS (SELECT 1 FROM queue q WHERE q.mention_id = m.id)"
            " AND NOT EXISTS (SELECT 1 FROM replies r WHERE r.mention_id = m.id)"
            " AND NOT EXISTS (SELECT 1 FROM notes n WHERE n.mention_id = m.id)"
            " AND NOT EXISTS (SELECT 1 FROM sentiment_corrections c WHERE c.mention_id = m.id)"
            " AND NOT EXISTS (SELECT 1 FROM story_exclusions x WHERE x.mention_id = m.id)"
            " ORDER BY m.ts LIMIT %s)",
            (cutoff, batch),
        )
        total += cur.rowcount
        if cur.rowcount < batch:
            return total, False
        if time.monotonic() >= deadline:
            return total, True


def prune_changes(conn: psycopg.Connection[Any], keep_s: float = CHANGES_KEEP_S) -> int:
    """Drop change-log rows older than ``keep_s``; a station away longer re-reads by sequence."""
    cur = conn.execute("DELETE FROM change_log WHERE ts < extract(epoch FROM now()) - %s",
                       (keep_s,))  # fmt: skip
    return cur.rowcount
