"""Reading stories: the wall's top stories and folded feeds, a story's open items, exports.

:func:`top_stories` reads the per-minute story rollups only (bounded by the stories of the
window, never by the mentions). :func:`open_items` is what a console's story workflow
builds on: the open queue items of a story, most urgent first, with the story's merged
parts included.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from app.model import iso_utc
from app.workflow.states import OPEN

T = TypeVar("T")

#: a story with no post for this long is quiet (it may still come back)
QUIET_S = 30 * 60.0


@dataclass(frozen=True, slots=True)
class StoryRow:
    """A story as the wall shows it: its count in the window and in the window before."""

    id: int
    label: str
    count: int
    previous: int
    size: int
    first_ts: float
    last_ts: float
    negative: int
    positive: int
    networks: dict[str, int]

    @property
    def rise(self) -> float | None:
        """How many times the window before it; ``None`` when it is new in this window."""
        return self.count / self.previous if self.previous else None

    def state(self, now: float) -> str:
        return "active" if now - self.last_ts < QUIET_S else "quiet"


def top_stories(
    conn: sqlite3.Connection, topic: str, window_s: float, limit: int, now: float
) -> list[StoryRow]:
    """A topic's (``*``: every mention's) stories with most posts in the last ``window_s``."""
    start = int((now - window_s) // 60) * 60
    before = int((now - 2 * window_s) // 60) * 60
    top = conn.execute(
        "SELECT story_id, sum(n) FROM story_rollups WHERE topic = ? AND bucket >= ?"
        " GROUP BY story_id ORDER BY 2 DESC, story_id DESC LIMIT ?",
        (topic, start, limit),
    ).fetchall()
    if not top:
        return []
    ids = [sid for sid, _ in top]
    marks = ",".join("?" * len(ids))
    prev = dict(
        conn.execute(
            f"SELECT story_id, sum(n) FROM story_rollups WHERE topic = ? AND bucket >= ?"
            f" AND bucket < ? AND story_id IN ({marks}) GROUP BY story_id",
            (topic, before, start, *ids),
        ).fetchall()
    )
    info = {
        r[0]: r
        for r in conn.execute(
            f"SELECT id, label, size, first_ts, last_ts, neg, pos, networks FROM stories"
            f" WHERE id IN ({marks})",
            ids,
        )
    }
    out = []
    for sid, n in top:
        r = info.get(sid)
        if r is None:
            continue
        out.append(StoryRow(sid, r[1], int(n), int(prev.get(sid, 0)), r[2], r[3], r[4], r[5],
                            r[6], json.loads(r[7])))  # fmt: skip
    return out


def story_of(conn: sqlite3.Connection, mention_id: str) -> int | None:
    """The story a mention belongs to, or ``None`` when nobody repeated it."""
    row = conn.execute(
        "SELECT story_id FROM story_members WHERE mention_id = ?", (mention_id,)
    ).fetchone()
    return None if row is None else int(row[0])


@dataclass(frozen=True, slots=True)
class OpenItem:
    mention_id: str
    state: str
    priority: int
    queued_ts: float
    assignee: str | None


def open_items(conn: sqlite3.Connection, story_id: int, limit: int = 10_000) -> list[OpenItem]:
    """The open queue items of a story (someone still has to act), most urgent first.

    The base of claiming a story or answering it in bulk: each item stays its own piece
    of work, moved through the queue's state machine one by one.
    """
    marks = ",".join("?" * len(OPEN))
    rows = conn.execute(
        f"SELECT q.mention_id, q.state, q.priority, q.queued_ts, q.assignee FROM story_members sm"
        f" JOIN queue q ON q.mention_id = sm.mention_id WHERE sm.story_id = ?"
        f" AND q.state IN ({marks}) ORDER BY q.priority, q.queued_ts LIMIT ?",
        (story_id, *sorted(OPEN), limit),
    ).fetchall()
    return [OpenItem(*r) for r in rows]


STORY_FIELDS = [
    "id", "label", "label_mention_id", "size", "first_seen", "last_seen", "sentiment",
    "networks", "topics", "top_authors", "mention_ids",
]  # fmt: skip


def export_rows(conn: sqlite3.Connection) -> Iterator[dict[str, Any]]:
    """One row a story (merged parts folded in), with the ids of its mentions."""
    cur = conn.execute(
        "SELECT id, label, label_mention, size, first_ts, last_ts, pos, neu, neg, unscored,"
        " networks, topics, authors FROM stories WHERE merged_into IS NULL ORDER BY first_ts, id"
    )
    while chunk := cur.fetchmany(500):
        for r in chunk:
            ids = [
                m for (m,) in conn.execute(
                    "SELECT mention_id FROM story_members WHERE story_id = ? ORDER BY ts",
                    (r[0],),
                )
            ]  # fmt: skip
            yield {
                "id": r[0], "label": r[1], "label_mention_id": r[2], "size": r[3],
                "first_seen": iso_utc(r[4]), "last_seen": iso_utc(r[5]),
                "sentiment": {"positive": r[6], "neutral": r[7], "negative": r[8],
                              "unscored": r[9]},
                "networks": json.loads(r[10]), "topics": json.loads(r[11]),
                "top_authors": [a for a, _, _ in json.loads(r[12])], "mention_ids": ids,
            }  # fmt: skip


def fold_repeats(
    conn: sqlite3.Connection, items: Sequence[T], key: Callable[[T], str], limit: int
) -> list[tuple[T, int]]:
    """A feed's posts with repeats folded: the first post of each story stands for it.

    Returns at most ``limit`` (item, more) pairs in the given order, where ``more`` is how
    many other posts the item's story has ("and 311 more like this"); later posts of a
    story already shown are left out. One indexed look-up for the whole list.
    """
    ids = [key(i) for i in items]
    story: dict[str, tuple[int, int]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        story.update(
            (mid, (sid, size))
            for mid, sid, size in conn.execute(
                f"SELECT sm.mention_id, sm.story_id, s.size FROM story_members sm"
                f" JOIN stories s ON s.id = sm.story_id"
                f" WHERE sm.mention_id IN ({','.join('?' * len(chunk))})",
                chunk,
            )
        )
    out: list[tuple[T, int]] = []
    shown: set[int] = set()
    for item, mid in zip(items, ids, strict=True):
        found = story.get(mid)
        if found is not None:
            if found[0] in shown:
                continue
            shown.add(found[0])
        out.append((item, found[1] - 1 if found else 0))
        if len(out) >= limit:
            break
    return out
