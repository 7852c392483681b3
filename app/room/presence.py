"""Who is where in the room: each console says who is signed in, what they view, when they type.

A console beats every few seconds; a row not refreshed for :data:`FRESH_S` seconds is a
console that went away and is no longer shown (no one has to clean up after a crash).
Each beat that changes something writes its change-log row, so the other consoles hear
of it through the same NOTIFY as any other change.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

import psycopg

from app.room.publish import log_change

Activity = Literal["idle", "viewing", "typing"]
#: seconds after its last beat that a console counts as gone
FRESH_S = 30.0


@dataclass(frozen=True, slots=True)
class Seen:
    station: str
    user: str
    item: str | None
    activity: str
    seen_ts: float


def beat(conn: psycopg.Connection[Any], station: str, user: str, *, item: str | None = None,
         activity: Activity = "idle") -> None:  # fmt: skip
    """This console is alive, with ``user`` signed in, on ``item`` doing ``activity``."""
    if activity != "idle" and item is None:
        raise ValueError(f"{activity} needs an item")
    now = time.time()
    with conn.transaction():
        refreshed = conn.execute(  # the common case: nothing changed but the time
            "UPDATE presence SET seen_ts = %s WHERE station = %s AND user_name = %s"
            " AND item IS NOT DISTINCT FROM %s AND activity = %s",
            (now, station, user, item, activity),
        ).rowcount  # fmt: skip
        if refreshed:
            return  # a refresh alone is nobody's news
        conn.execute(
            "INSERT INTO presence (station, user_name, item, activity, seen_ts)"
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (station, user_name) DO UPDATE"
            " SET item = excluded.item, activity = excluded.activity, seen_ts = excluded.seen_ts",
            (station, user, item, activity, now),
        )  # fmt: skip
        log_change(conn, ["presence"], [item] if item else [])


def leave(conn: psycopg.Connection[Any], station: str, user: str) -> None:
    """The user signed out of this console."""
    with conn.transaction():
        cur = conn.execute("DELETE FROM presence WHERE station = %s AND user_name = %s",
                           (station, user))  # fmt: skip
        if cur.rowcount:
            log_change(conn, ["presence"], [])


def who(conn: psycopg.Connection[Any], *, item: str | None = None, fresh_s: float = FRESH_S,
        now: float | None = None) -> list[Seen]:  # fmt: skip
    """Who is signed in (or, with ``item``, on that item), freshest first."""
    now = time.time() if now is None else now
    rows = conn.execute(
        "SELECT station, user_name, item, activity, seen_ts FROM presence WHERE seen_ts >= %s"
        " AND (%s::text IS NULL OR item = %s) ORDER BY seen_ts DESC",
        (now - fresh_s, item, item),
    ).fetchall()  # fmt: skip
    return [Seen(*r) for r in rows]
