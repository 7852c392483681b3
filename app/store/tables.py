"""The store's table names as constants: what a commit says it touched and a view listens for.

A name written by hand in a view could be mistyped and the view would never hear of a
change again; a misspelt constant is an error at import, and :func:`check` refuses a
name the database has no table for.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Final

#: "every table": a change that could have touched anything (a gap in the change log)
EVERY: Final = "*"

MENTIONS: Final = "mentions"
MENTION_TOPICS: Final = "mention_topics"
ROLLUPS: Final = "rollups"
SOURCE_STATE: Final = "source_state"
TERM_BUCKETS: Final = "term_buckets"
TRENDING: Final = "trending"
ALERTS: Final = "alerts"
QUEUE: Final = "queue"
QUEUE_COUNTS: Final = "queue_counts"
REPLIES: Final = "replies"
NOTES: Final = "notes"
AUDIT: Final = "audit"
USERS: Final = "users"
CRISES: Final = "crises"
CRISIS_EVENTS: Final = "crisis_events"
WALL_COMMANDS: Final = "wall_commands"
META: Final = "meta"
CHANGES: Final = "changes"



def existing(conn: sqlite3.Connection) -> frozenset[str]:
    """The tables this database has (plug-ins add their own), and :data:`EVERY`."""
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return frozenset(str(name) for (name,) in rows) | {EVERY}


def check(names: Iterable[str], known: frozenset[str]) -> frozenset[str]:
    """``names`` as a frozenset, or ``ValueError`` naming the ones that are no table."""
    out = frozenset(names)
    unknown = sorted(out - known)
    if unknown:
        raise ValueError(f"unknown table name(s): {', '.join(unknown)}")
    return out
