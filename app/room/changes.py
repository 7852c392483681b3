"""Reading the room's change log on from the last id seen, without missing a late commit.

Ids are handed out when a row is inserted, not when its transaction commits: with two
consoles acting at once, id 11 can commit before id 10. A reader that only asked for
``id > 11`` afterwards would never see 10. So the reader remembers the ids it skipped
over and asks for them again for :data:`GAP_WAIT_S` seconds (an id whose transaction
rolled back never comes, and is forgotten then).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import psycopg

#: seconds an id skipped over is looked for again (a transaction rarely stays open longer)
GAP_WAIT_S = 60.0


@dataclass(frozen=True, slots=True)
class RoomChange:
    id: int
    tables: frozenset[str]
    ids: tuple[str, ...]
    topics: frozenset[str]


@dataclass
class ChangeCursor:
    """The last id seen, and the ids below it not seen yet (with when they were missed)."""

    last: int = 0
    gaps: dict[int, float] = field(default_factory=dict)
    #: the log's top taken as the start (a console's first look reads the room whole)
    started: bool = False

    def read(self, conn: psycopg.Connection[Any], *, now: float | None = None) -> list[RoomChange]:
        """The changes committed since the last read, in id order."""
        now = time.monotonic() if now is None else now
        rows = conn.execute(
            "SELECT id, tables, ids, topics FROM change_log WHERE id > %s OR id = ANY (%s)"
            " ORDER BY id", (self.last, list(self.gaps)),
        ).fetchall()  # fmt: skip
        got = [RoomChange(int(i), frozenset(t), tuple(d), frozenset(p)) for i, t, d, p in rows]
        seen = {c.id for c in got}
        for c in got:
            self.gaps.pop(c.id, None)
        newest = max((c.id for c in got), default=self.last)
        for skipped in range(self.last + 1, newest):
            if skipped not in seen:
                self.gaps[skipped] = now
        self.last = max(self.last, newest)
        for gap, since in list(self.gaps.items()):
            if now - since > GAP_WAIT_S:
                del self.gaps[gap]
        return got
