"""What the console reads: the queue with its filters, and one item's whole story.

These can scan many rows (a queue of 100,000), so the console runs them on a worker
thread with its own connection; the GUI thread only receives the finished rows.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from app.workflow.states import OPEN

SortKey = Literal["priority", "age", "sla", "author", "network", "state", "assignee"]


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """The console's filter bar. Empty fields filter nothing."""

    states: frozenset[str] = OPEN
    priorities: frozenset[int] = frozenset()
    network: str = ""
    topic: str = ""
    assignee: str = ""  # a name, "-" for unclaimed
    max_age_min: float | None = None
    text: str = ""
    sort: SortKey = "priority"
    descending: bool = False
    limit: int = 200_000
    #: in the priority order, the items of one story together (its most urgent first, the
    #: stories with most open items before single posts of the same priority)
    by_story: bool = True


@dataclass(frozen=True, slots=True)
class QueueRow:
    mention_id: str
    priority: int
    state: str
    queued_ts: float
    assignee: str | None
    claim_expires: float | None
    network: str
    author: str
    text: str
    topics: tuple[str, ...]
    sentiment: float
    crisis_id: int | None
    #: the story it is in (None: no story, or taken out), its label and open items
    story: int | None = None
    story_label: str = ""
    story_open: int = 0


_NOT_TAKEN_OUT = "NOT EXISTS (SELECT 1 FROM story_exclusions x WHERE x.mention_id = sm.mention_id)"
_ORDER: dict[str, str] = {
    "priority": "q.priority {d}, q.queued_ts",
    "sla": "q.priority {d}, q.queued_ts",
    "age": "q.queued_ts {d}",
    "author": "m.author {d}, q.priority, q.queued_ts",
    "network": "m.network {d}, q.priority, q.queued_ts",
    "state": "q.state {d}, q.priority, q.queued_ts",
    "assignee": "q.assignee {d}, q.priority, q.queued_ts",
}


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def fetch_queue(conn: sqlite3.Connection, f: QueueFilter, now: float | None = None) -> list[QueueRow]:
    """The queue rows that pass the filter, in the asked order."""
    now = time.time() if now is None else now
    where: list[str] = []
    params: list[Any] = []
    if f.states:
        where.append(f"q.state IN ({', '.join('?' * len(f.states))})")
        params += sorted(f.states)
    if f.priorities:
        where.append(f"q.priority IN ({', '.join('?' * len(f.priorities))})")
        params += sorted(f.priorities)
    if f.network:
        where.append("m.network = ?")
        params.append(f.network)
    if f.topic:
        where.append("EXISTS (SELECT 1 FROM json_each(m.topics) WHERE json_each.value = ?)")
        params.append(f.topic)
    if f.assignee == "-":
        where.append("q.assignee IS NULL")
    elif f.assignee:
        where.append("q.assignee = ?")
        params.append(f.assignee)
    if f.max_age_min is not None:
        where.append("q.queued_ts >= ?")
        params.append(now - f.max_age_min * 60)
    if f.text:
        where.append("(m.text LIKE ? ESCAPE '\\' OR m.author LIKE ? ESCAPE '\\')")
        params += [_like(f.text), _like(f.text)]
    grouped = f.by_story and f.sort == "priority"
    order = _ORDER[f.sort].format(d="DESC" if f.descending else "ASC")
    groups = ""
    if grouped:
        groups = (
            " LEFT JOIN (SELECT sm2.story_id AS sid, count(*) AS n, min(q2.priority) AS p"
            " FROM story_members sm2 JOIN queue q2 ON q2.mention_id = sm2.mention_id"
            f" WHERE q2.state IN ({', '.join('?' * len(OPEN))}) AND NOT EXISTS (SELECT 1 FROM"
            " story_exclusions x WHERE x.mention_id = sm2.mention_id) GROUP BY sm2.story_id) g"
            " ON g.sid = sm.story_id"
        )
        order = ("coalesce(g.p, q.priority) {d}, coalesce(g.n, 1) DESC, coalesce(sm.story_id, 0), "
                 .format(d="DESC" if f.descending else "ASC") + order)  # fmt: skip
    sql = (
        "SELECT q.mention_id, q.priority, q.state, q.queued_ts, q.assignee, q.claim_expires,"
        " coalesce(m.network, ''), coalesce(m.author, ''), coalesce(m.text, ''),"
        " coalesce(m.topics, '[]'), coalesce(m.sentiment, 0), q.crisis_id, sm.story_id,"
        " coalesce(s.label, ''), " + ("coalesce(g.n, 0)" if grouped else "0")
        + " FROM queue q LEFT JOIN mentions m ON m.id = q.mention_id"
        " LEFT JOIN story_members sm ON sm.mention_id = q.mention_id AND " + _NOT_TAKEN_OUT
        + " LEFT JOIN stories s ON s.id = sm.story_id" + groups
        + (" WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY " + order + " LIMIT ?"
    )  # fmt: skip
    if grouped:
        params = sorted(OPEN) + params
    params.append(f.limit)
    topics_cache: dict[str, tuple[str, ...]] = {}
    out = []
    for r in conn.execute(sql, params):
        topics = topics_cache.get(r[9])
        if topics is None:
            topics = topics_cache[r[9]] = tuple(json.loads(r[9]))
        out.append(QueueRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], topics, r[10], r[11],
                            r[12], r[13], r[14]))  # fmt: skip
    return out


@dataclass(frozen=True, slots=True)
class Reply:
    id: int
    author: str
    text: str
    template: str | None
    state: str
    approved_by: str | None
    review_note: str
    attempts: int
    last_error: str | None
    sent_url: str
    ts: float


@dataclass(frozen=True, slots=True)
class Detail:
    """Everything the detail pane shows about one item (all of it plain text)."""

    mention: dict[str, Any]
    state: str
    assignee: str | None
    claim_expires: float | None
    queued_ts: float
    note: str
    reasons: list[str]
    parent: dict[str, Any] | None
    earlier: list[dict[str, Any]] = field(default_factory=list)
    replies_to_author: int = 0
    notes: list[tuple[str, float, str]] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)
    history: list[tuple[float, str, str]] = field(default_factory=list)
    #: the story it is in (None: none, or taken out)
    story: StoryInfo | None = None


_MENTION_COLS = ("id", "network", "source", "url", "author", "author_name", "author_followers",
                 "title", "text", "ts", "content_warning", "sensitive", "sentiment", "topics",
                 "engagement", "in_reply_to", "priority", "reply_ref", "sentiment_label")  # fmt: skip


def _mention(conn: sqlite3.Connection, where: str, value: str) -> dict[str, Any] | None:
    row = conn.execute(f"SELECT {', '.join(_MENTION_COLS)} FROM mentions WHERE {where} = ?",
                       (value,)).fetchone()  # fmt: skip
    if row is None:
        return None
    out = dict(zip(_MENTION_COLS, row, strict=True))
    out["topics"] = json.loads(out["topics"])
    out["reply_ref"] = json_object(out["reply_ref"])
    return out


def json_object(text: str | None) -> dict[str, Any]:
    """A JSON object column (a reply handle); anything else reads as empty."""
    try:
        value = json.loads(text) if text else {}
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def item_detail(conn: sqlite3.Connection, mention_id: str) -> Detail | None:
    q = conn.execute(
        "SELECT state, assignee, claim_expires, queued_ts, note, reasons FROM queue WHERE mention_id = ?",
        (mention_id,),
    ).fetchone()
    mention = _mention(conn, "id", mention_id)
    if q is None or mention is None:
        return None
    parent = None
    if mention["in_reply_to"]:
        parent = _mention(conn, "id", f"{mention['network']}:{mention['in_reply_to']}") or _mention(
            conn, "id", str(mention["in_reply_to"]))
    earlier = [
        dict(zip(("id", "ts", "text", "sentiment"), r, strict=True))
        for r in conn.execute(
            "SELECT id, ts, text, sentiment FROM mentions WHERE network = ? AND author = ? AND id != ?"
            " ORDER BY ts DESC LIMIT 10",
            (mention["network"], mention["author"], mention_id),
        )
    ]
    (answered,) = conn.execute(
        "SELECT count(*) FROM replies r JOIN mentions m ON m.id = r.mention_id"
        " WHERE m.network = ? AND m.author = ? AND r.state = 'sent'",
        (mention["network"], mention["author"]),
    ).fetchone()
    notes = [(r[0], r[1], r[2]) for r in conn.execute(
        "SELECT author, ts, text FROM notes WHERE mention_id = ? ORDER BY ts", (mention_id,))]  # fmt: skip
    replies = [Reply(*r) for r in conn.execute(
        "SELECT id, author, text, template, state, approved_by, review_note, attempts, last_error,"
        " sent_url, updated_ts FROM replies WHERE mention_id = ? ORDER BY id", (mention_id,))]  # fmt: skip
    history = [(r[0], r[1], r[2]) for r in conn.execute(
        "SELECT ts, actor, action FROM audit WHERE target = ? ORDER BY id", (mention_id,))]  # fmt: skip
    return Detail(mention, q[0], q[1], q[2], q[3], q[4], json.loads(q[5]), parent, earlier,
                  int(answered), notes, replies, history, story_info(conn, mention_id))  # fmt: skip


@dataclass(frozen=True, slots=True)
class Pending:
    reply_id: int
    mention_id: str
    author: str
    text: str
    ts: float
    post_author: str
    post_text: str
    network: str


def awaiting_approval(conn: sqlite3.Connection, limit: int = 500) -> list[Pending]:
    return [Pending(*r) for r in conn.execute(
        "SELECT r.id, r.mention_id, r.author, r.text, r.updated_ts, coalesce(m.author, ''),"
        " coalesce(m.text, ''), coalesce(m.network, '') FROM replies r"
        " LEFT JOIN mentions m ON m.id = r.mention_id WHERE r.state = 'awaiting_approval'"
        " ORDER BY r.updated_ts LIMIT ?", (limit,))]  # fmt: skip


def crisis_timeline(conn: sqlite3.Connection, crisis_id: int) -> list[tuple[float, str, str, str]]:
    return [(r[0], r[1], r[2], r[3]) for r in conn.execute(
        "SELECT ts, actor, kind, text FROM crisis_events WHERE crisis_id = ? ORDER BY id",
        (crisis_id,))]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Alert:
    id: int
    ts: float
    text: str
    #: when it fell back under its threshold, still unacknowledged (None: happening now)
    subsided_ts: float | None = None


@dataclass(frozen=True, slots=True)
class Crisis:
    id: int
    topic: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class Urgent:
    """An unclaimed item of a priority that notifies (what a desktop notice names)."""

    mention_id: str
    priority: int
    author: str
    text: str


def active_alerts(conn: sqlite3.Connection, limit: int = 50) -> list[Alert]:
    return [Alert(int(r[0]), float(r[1]), str(r[2]), None if r[3] is None else float(r[3]))
            for r in conn.execute(
        "SELECT id, ts, explanation, subsided_ts FROM alerts WHERE state = 'active'"
        " ORDER BY ts DESC LIMIT ?", (limit,))]  # fmt: skip


def open_crisis(conn: sqlite3.Connection) -> Crisis | None:
    row = conn.execute("SELECT id, topic, reason FROM crises WHERE ended_ts IS NULL"
                       " ORDER BY started_ts DESC LIMIT 1").fetchone()  # fmt: skip
    return Crisis(int(row[0]), row[1], str(row[2])) if row else None


def urgent_new(conn: sqlite3.Connection, priorities: list[int], limit: int = 500) -> list[Urgent]:
    """The newest unclaimed items of ``priorities``."""
    if not priorities:
        return []
    return [Urgent(str(r[0]), int(r[1]), str(r[2]), str(r[3])) for r in conn.execute(
        f"SELECT q.mention_id, q.priority, coalesce(m.author, ''), coalesce(m.text, '')"
        f" FROM queue q LEFT JOIN mentions m ON m.id = q.mention_id WHERE q.state = 'new'"
        f" AND q.priority IN ({', '.join('?' * len(priorities))})"
        f" ORDER BY q.queued_ts DESC LIMIT ?", (*priorities, limit))]  # fmt: skip


# -- stories (app.stories groups the posts; an item taken out of its story stays out) ---------

@dataclass(frozen=True, slots=True)
class StoryItem:
    mention_id: str
    state: str
    priority: int
    queued_ts: float
    assignee: str | None
    claim_expires: float | None


@dataclass(frozen=True, slots=True)
class StoryInfo:
    """The story an item belongs to, as its detail pane shows it."""

    id: int
    label: str
    size: int
    open: int
    assignee: str | None


def story_root(conn: sqlite3.Connection, story_id: int) -> int:
    """The story that stays when ``story_id`` merged into a larger one (itself otherwise)."""
    for _ in range(64):  # merges form a chain; a cycle would be a bug, never a hang
        row = conn.execute("SELECT merged_into FROM stories WHERE id = ?", (story_id,)).fetchone()
        if row is None or row[0] is None:
            return story_id
        story_id = int(row[0])
    return story_id


def story_of(conn: sqlite3.Connection, mention_id: str) -> int | None:
    """The story an item is in (followed through merges), unless it was taken out."""
    row = conn.execute(f"SELECT sm.story_id FROM story_members sm WHERE sm.mention_id = ?"
                       f" AND {_NOT_TAKEN_OUT}", (mention_id,)).fetchone()  # fmt: skip
    return None if row is None else story_root(conn, int(row[0]))


def story_members(conn: sqlite3.Connection, story_id: int) -> list[str]:
    """A story's posts, oldest first, those taken out left out (what a station's cache says
    the story holds, open or not)."""
    return [str(m) for (m,) in conn.execute(
        f"SELECT sm.mention_id FROM story_members sm WHERE sm.story_id = ? AND {_NOT_TAKEN_OUT}"
        " ORDER BY sm.ts, sm.mention_id", (story_id,))]  # fmt: skip


def story_items(conn: sqlite3.Connection, story_id: int, limit: int = 10_000) -> list[StoryItem]:
    """A story's open items (someone still has to act), most urgent first, those taken out left out."""
    marks = ",".join("?" * len(OPEN))
    return [StoryItem(*r) for r in conn.execute(
        f"SELECT q.mention_id, q.state, q.priority, q.queued_ts, q.assignee, q.claim_expires"
        f" FROM story_members sm JOIN queue q ON q.mention_id = sm.mention_id WHERE sm.story_id = ?"
        f" AND q.state IN ({marks}) AND {_NOT_TAKEN_OUT} ORDER BY q.priority, q.queued_ts LIMIT ?",
        (story_id, *sorted(OPEN), limit))]  # fmt: skip


def story_info(conn: sqlite3.Connection, mention_id: str, now: float | None = None) -> StoryInfo | None:
    story = story_of(conn, mention_id)
    if story is None:
        return None
    row = conn.execute("SELECT label, size FROM stories WHERE id = ?", (story,)).fetchone()
    if row is None:
        return None
    claim = conn.execute("SELECT assignee FROM story_claims WHERE story_id = ? AND expires >= ?",
                         (story, time.time() if now is None else now)).fetchone()  # fmt: skip
    return StoryInfo(story, str(row[0]), int(row[1]), len(story_items(conn, story)),
                     str(claim[0]) if claim else None)  # fmt: skip
