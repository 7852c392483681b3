"""What a commit means to the console: which of its parts must read again.

The console hears of every commit one way, the change log read on from the last id it
saw (:mod:`app.store.changelog`), whichever process made it. Each part names the tables
it reads; the item names its rows too, so another item's claim leaves the open item's
detail alone, and a poller's new mentions alone make no part read at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from app.store import tables as T
from app.store.changelog import Change

#: the story tables the queue groups by (the clustering's own, named once here)
STORY_TABLES = ("stories", "story_members", "story_claims", "story_exclusions")


@dataclass(frozen=True, slots=True)
class Part:
    """One part of the console and the tables its read touches."""

    name: str
    tables: frozenset[str]
    #: the part shows one item: a change that names only other rows does not concern it
    by_item: bool = False
    #: read in the one snapshot (queue, approvals, alerts and the user agree with each other)
    in_snapshot: bool = True

    def concerns(self, change: Change, item: str | None = None) -> bool:
        """Does this change concern the part (showing ``item``, if it shows one)?"""
        if not self.tables:
            return False
        if T.EVERY in change.tables:
            return not self.by_item or item is not None
        if not change.tables & self.tables:
            return False
        if not self.by_item:
            return True
        return item is not None and (change.ids is None or item in change.ids)


QUEUE = Part("queue", frozenset({T.QUEUE, T.REPLIES, *STORY_TABLES}))
#: the signed-in user as the database has them (disabled or a new role signs the console out)
SESSION = Part("session", frozenset({T.USERS}))
APPROVALS = Part("approvals", frozenset({T.REPLIES}))
ALERTS = Part("alerts", frozenset({T.ALERTS, T.CRISES, T.CRISIS_EVENTS}))
ITEM = Part("item", frozenset({T.QUEUE, T.REPLIES, T.NOTES, T.AUDIT, T.MENTIONS}),
            by_item=True, in_snapshot=False)  # fmt: skip
#: the walls tab steers the walls and reads nothing of the store (its scenes are the layout's)
WALLS = Part("walls", frozenset(), in_snapshot=False)
PARTS = (QUEUE, SESSION, APPROVALS, ALERTS, ITEM, WALLS)


def concerned(changes: Iterable[Change], item: str | None, parts: Iterable[Part] = PARTS) -> set[Part]:
    """The parts that one read of the change log concerns."""
    todo = list(parts)
    out: set[Part] = set()
    for change in changes:
        for part in todo:
            if part not in out and part.concerns(change, item):
                out.add(part)
        if len(out) == len(todo):
            break
    return out


def tables_read(parts: Iterable[Part] = PARTS) -> frozenset[str]:
    """Every table the parts name (checked against the database: a typo would deafen one)."""
    return frozenset().union(*(p.tables for p in parts))
