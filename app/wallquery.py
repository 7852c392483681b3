"""The reads behind the wall's tiles: every one bounded by rollups, indexes or a LIMIT.

Tiles never scan raw mentions: a refresh costs the same at ten thousand or ten million
stored mentions (``bench/wall.py`` measures it). Times are UTC epoch seconds.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from app.config import Config
from app.store.schema import ALL

#: queue states that still wait for someone (everything but sent and dismissed)
OPEN_STATES = (
    "new", "claimed", "draft", "awaiting_approval", "approved", "sending", "failed", "escalated",
)
#: how the wall names a waiting item's state (words for a room, not the store's names)
STATE_WORDS = {
    "new": "new", "claimed": "being answered", "draft": "reply drafted",
    "awaiting_approval": "awaiting approval", "approved": "approved", "sending": "sending",
    "failed": "send failed", "escalated": "escalated",
}  # fmt: skip
#: late items are counted up to this ("1k+"): counting further would scan the queue
LATE_CAP = 1_000


def resolution_for(window_s: float) -> int:
    """The rollup resolution that draws ``window_s`` in a few hundred points at most."""
    if window_s <= 6 * 3600:
        return 60
    if window_s <= 4 * 86400:
        return 600
    return 3600


@dataclass(frozen=True, slots=True)
class Series:
    """Fixed-length, zero-filled buckets: ``starts[i]`` is bucket i's start second."""

    res: int
    starts: list[int]
    n: list[int]
    pos: list[int]
    neu: list[int]
    neg: list[int]
    sent_sum: list[float]


def series(conn: sqlite3.Connection, topic: str, start: float, end: float) -> Series:
    """Per-bucket counts of ``topic`` (``*`` = all) from ``start`` to ``end``."""
    res = resolution_for(end - start)
    first = int(start // res) * res
    last = int(end // res) * res
    size = (last - first) // res + 1
    n, pos, neu, neg = [0] * size, [0] * size, [0] * size, [0] * size
    sums = [0.0] * size
    for bucket, c, p, u, g, s in conn.execute(
        "SELECT bucket, n, pos, neu, neg, sent_sum FROM rollups"
        " WHERE res = ? AND topic = ? AND bucket BETWEEN ? AND ?",
        (res, topic, first, last),
    ):
        i = (bucket - first) // res
        n[i], pos[i], neu[i], neg[i], sums[i] = c, p, u, g, s
    return Series(res, [first + i * res for i in range(size)], n, pos, neu, neg, sums)


@dataclass(frozen=True, slots=True)
class Totals:
    n: int = 0
    pos: int = 0
    neu: int = 0
    neg: int = 0
    sent_sum: float = 0.0
    engagement: int = 0
    needs_response: int = 0
    #: mentions the scorer could not read (another language): in ``n``, in no class
    unscored: int = 0

    @property
    def scored(self) -> int:
        return self.n - self.unscored

    @property
    def net_sentiment(self) -> float:
        """Positive minus negative share of the scored mentions, −1…1: the figure a room quotes."""
        return (self.pos - self.neg) / self.scored if self.scored else 0.0

    @property
    def mean_sentiment(self) -> float:
        return self.sent_sum / self.scored if self.scored else 0.0


#: how many points the negative share must rise for more mentions to count as bad news
ANGRIER_POINTS = 0.05


def louder_and_angrier(cur: Totals, prev: Totals) -> bool:
    """More mentions than the period before, and a larger share of them negative.

    A rise in volume is good news (a launch, a campaign) unless the added voices complain:
    during a crisis the mentions tile must not glow green.
    """
    if cur.n <= prev.n or not cur.scored:
        return False
    before = prev.neg / prev.scored if prev.scored else 0.0
    return cur.neg / cur.scored >= before + ANGRIER_POINTS


def totals(conn: sqlite3.Connection, topic: str, start: float, end: float) -> Totals:
    """Sums over ``[start, end)`` from the finest rollup that keeps the read small."""
    res = resolution_for(end - start)
    row = conn.execute(
        "SELECT count(*), sum(n), sum(pos), sum(neu), sum(neg), sum(sent_sum), sum(engagement),"
        " sum(needs_response), sum(unscored)"
        " FROM rollups WHERE res = ? AND topic = ? AND bucket >= ? AND bucket < ?",
        (res, topic, int(start // res) * res, int(end // res) * res + (res if end % res else 0)),
    ).fetchone()
    if not row[0]:
        return Totals()
    return Totals(*(v or 0 for v in row[1:]))


def records_begin(conn: sqlite3.Connection, res: int = 60) -> float | None:
    """Where the stored record of mentions begins at resolution ``res`` (its oldest bucket
    still kept: a chart at that resolution starts there), or None.

    Before it a chart knows nothing, which is not the same as zero: a wall started three
    hours ago has no night before, quiet or not. One index probe.
    """
    row = conn.execute("SELECT min(bucket) FROM rollups WHERE res = ? AND topic = ?", (res, ALL)).fetchone()
    return None if row is None or row[0] is None else float(row[0])


def before_record(begins: float | None, start: float) -> bool:
    """Whether a window from ``start`` reaches back before the stored record ``begins`` (a
    minute's grace for the record's first bucket): a change against such a period compares
    with part of it, and a count over it is a count over less than it says."""
    return begins is not None and begins > start + 60


def period_record(conn: sqlite3.Connection, period_s: float, now: float) -> tuple[float | None, bool]:
    """For a figure over the last ``period_s`` compared with the period before it: where
    the record it is summed from begins, and whether that period before is on record whole."""
    begins = records_begin(conn, resolution_for(period_s))
    return begins, not before_record(begins, now - 2 * period_s)


def rate_per_min(conn: sqlite3.Connection, topic: str, now: float, window_min: int) -> float:
    """Mentions per minute over the last ``window_min`` complete minutes (minute rollups):
    the one "now" rate every tile and alert quotes, whatever span its chart shows."""
    end = int(now // 60) * 60
    return totals(conn, topic, end - window_min * 60, end).n / max(window_min, 1)


def share_of_voice(
    conn: sqlite3.Connection, topics: Sequence[str], start: float, end: float
) -> dict[str, int]:
    return {t: totals(conn, t, start, end).n for t in topics}


@dataclass(frozen=True, slots=True)
class Post:
    id: str
    network: str
    source: str
    author: str
    author_name: str
    author_followers: int | None
    text: str
    title: str
    ts: float
    sentiment: float
    topics: list[str]
    priority: int
    needs_response: bool
    content_warning: str
    sensitive: bool
    engagement: int
    url: str


_POST_COLS = (
    "m.id, m.network, m.source, m.author, m.author_name, m.author_followers, m.text, m.title,"
    " m.ts, m.sentiment, m.topics, m.priority, m.needs_response, m.content_warning, m.sensitive,"
    " m.engagement, m.url"
)


def _post(row: Sequence[Any]) -> Post:
    r = list(row)
    r[10] = json.loads(r[10])
    r[12], r[14] = bool(r[12]), bool(r[14])
    return Post(*r)


def latest(conn: sqlite3.Connection, topic: str, limit: int = 20) -> list[Post]:
    """The newest mentions of a topic (``*`` = every mention), newest first."""
    if topic == ALL:
        rows = conn.execute(
            f"SELECT {_POST_COLS} FROM mentions m WHERE m.private = 0 ORDER BY m.ts DESC LIMIT ?",
            (limit,),
        ).fetchall()
    else:
        rows = conn.execute(
            f"SELECT {_POST_COLS} FROM (SELECT mention FROM mention_topics WHERE topic = ?"
            " ORDER BY ts DESC LIMIT ?) t JOIN mentions m ON m.rowid = t.mention ORDER BY m.ts DESC",
            (topic, limit),
        ).fetchall()
    return [_post(r) for r in rows]


def post(conn: sqlite3.Connection, mention_id: str) -> Post | None:
    """One public post (the spotlight): a private one is never content for a wall."""
    row = conn.execute(
        f"SELECT {_POST_COLS} FROM mentions m WHERE m.id = ? AND m.private = 0", (mention_id,)
    ).fetchone()
    return _post(row) if row else None


#: what the wall shows of a private item in the queue instead of its text and author
PRIVATE_PLACEHOLDER = "private message · open it in the console"


def _masked(row: Sequence[Any]) -> Post:
    """A queue row for the wall: a private post keeps its place, never its words or author."""
    post = _post(row[:-1])
    if not row[-1]:
        return post
    return replace(post, author="", author_name="", text=PRIVATE_PLACEHOLDER, title="", url="")


@dataclass(frozen=True, slots=True)
class QueueSummary:
    #: waiting items per priority (1…4)
    waiting: dict[int, int] = field(default_factory=dict)
    #: items past their SLA per priority, counted up to LATE_CAP
    breached: dict[int, int] = field(default_factory=dict)
    #: when the oldest waiting item was queued, per priority
    oldest: dict[int, float] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.waiting.values())

    @property
    def total_breached(self) -> int:
        return sum(self.breached.values())


def queue_summary(conn: sqlite3.Connection, now: float, sla_min: dict[int, int]) -> QueueSummary:
    """Waiting items by priority (exact, from the trigger-kept counts), SLA breaches
    (counted up to :data:`LATE_CAP`) and the oldest wait: a handful of index probes."""
    marks = ",".join("?" * len(OPEN_STATES))
    summary = QueueSummary()
    present: dict[int, list[str]] = {}
    for state, priority, n in conn.execute(
        f"SELECT state, priority, n FROM queue_counts WHERE state IN ({marks}) AND n > 0", OPEN_STATES
    ):
        summary.waiting[priority] = summary.waiting.get(priority, 0) + n
        present.setdefault(priority, []).append(state)
    for p, states in present.items():
        deadline = now - sla_min.get(p, 10**6) * 60
        oldest = None
        breached = 0
        for state in states:
            (first,) = conn.execute(
                "SELECT min(queued_ts) FROM queue WHERE state = ? AND priority = ?", (state, p)
            ).fetchone()
            if first is not None:
                oldest = first if oldest is None else min(oldest, first)
            if first is not None and first < deadline and breached < LATE_CAP:
                (late,) = conn.execute(
                    "SELECT count(*) FROM (SELECT 1 FROM queue WHERE state = ? AND priority = ?"
                    " AND queued_ts < ? LIMIT ?)",
                    (state, p, deadline, LATE_CAP - breached),
                ).fetchone()
                breached += late
        summary.breached[p] = breached
        if oldest is not None:
            summary.oldest[p] = oldest
    return summary


def queue_head(conn: sqlite3.Connection, limit: int = 6) -> list[tuple[Post, str, float]]:
    """The most urgent waiting items (priority, then longest wait): post, state, queued_ts.

    One index probe per state and priority, merged here: an ``IN`` with ``ORDER BY`` would
    make SQLite sort every waiting item.
    """
    out: list[tuple[Post, str, float]] = []
    for p in (1, 2, 3, 4):
        if len(out) >= limit:
            break
        found: list[tuple[Post, str, float]] = []
        for state in OPEN_STATES:
            rows = conn.execute(
                f"SELECT {_POST_COLS}, m.private, q.state, q.queued_ts FROM queue q"
                " JOIN mentions m ON m.id = q.mention_id"
                " WHERE q.state = ? AND q.priority = ? ORDER BY q.queued_ts LIMIT ?",
                (state, p, limit - len(out)),
            ).fetchall()
            found.extend((_masked(r[:-2]), str(r[-2]), float(r[-1])) for r in rows)
        found.sort(key=lambda item: item[2])
        out.extend(found[: limit - len(out)])
    return out


@dataclass(frozen=True, slots=True)
class TrendRow:
    term: str
    recent: int
    baseline: float
    score: float

    @property
    def new(self) -> bool:
        """Next to nothing before: a rise would be a division by almost zero."""
        return self.baseline < 0.5

    @property
    def rise(self) -> float:
        """How many times its usual count the term reached."""
        return self.recent / max(self.baseline, 0.5)


def trending(conn: sqlite3.Connection, scope: str = ALL, limit: int = 10) -> list[TrendRow]:
    """The ``limit`` terms the analysis ranks highest, listed by how far each rose (new
    ones first): a wall shows each term's rise, so its list reads in that order, not in
    one by a score nobody sees (``battery ×11.6`` above ``free ×53.1``)."""
    rows = [
        TrendRow(term, recent, baseline, score)
        for term, recent, baseline, score in conn.execute(
            "SELECT term, recent, baseline, score FROM trending WHERE scope = ? ORDER BY rank LIMIT ?",
            (scope, limit),
        )
    ]
    return sorted(rows, key=lambda t: (not t.new, -t.rise))


@dataclass(frozen=True, slots=True)
class AlertRow:
    id: int
    kind: str
    topic: str
    ts: float
    observed: float
    baseline: float
    z: float
    explanation: str
    terms: list[str]
    state: str
    #: an active alert whose level is back under its threshold: since when (None: happening)
    subsided_ts: float | None = None
    #: its level at the last check (per-minute rate, or negative share)
    now_level: float | None = None

    @property
    def subsided(self) -> bool:
        """Unacknowledged but over: listed and counted, never shown as happening now."""
        return self.state == "active" and self.subsided_ts is not None


def _alert(row: Sequence[Any]) -> AlertRow:
    r = list(row)
    r[8] = json.loads(r[8])
    return AlertRow(*r)


_ALERT_COLS = "id, kind, topic, ts, observed, baseline, z, explanation, terms, state, subsided_ts, now_level"


def active_alerts(conn: sqlite3.Connection, limit: int = 10) -> list[AlertRow]:
    rows = conn.execute(
        f"SELECT {_ALERT_COLS} FROM alerts WHERE state = 'active' ORDER BY ts DESC LIMIT ?", (limit,)
    ).fetchall()
    return [_alert(r) for r in rows]


def count_active_alerts(conn: sqlite3.Connection, cap: int = 1000) -> int:
    """How many alerts stand unacknowledged (counted up to ``cap``)."""
    (n,) = conn.execute(
        "SELECT count(*) FROM (SELECT 1 FROM alerts WHERE state = 'active' LIMIT ?)", (cap,)
    ).fetchone()
    return int(n)


def count_subsided_alerts(conn: sqlite3.Connection, cap: int = 1000) -> int:
    """How many of the unacknowledged alerts are over (counted up to ``cap``)."""
    (n,) = conn.execute(
        "SELECT count(*) FROM (SELECT 1 FROM alerts WHERE state = 'active'"
        " AND subsided_ts IS NOT NULL LIMIT ?)",
        (cap,),
    ).fetchone()
    return int(n)


def recent_alerts(conn: sqlite3.Connection, since: float, limit: int = 10) -> list[AlertRow]:
    """Alerts fired since ``since`` in any state (what a quiet alerts tile still shows)."""
    rows = conn.execute(
        f"SELECT {_ALERT_COLS} FROM alerts WHERE ts >= ? ORDER BY ts DESC LIMIT ?", (since, limit)
    ).fetchall()
    return [_alert(r) for r in rows]


def alert_marks(conn: sqlite3.Connection, topics: Sequence[str], since: float) -> list[AlertRow]:
    """Alerts of these topics since ``since``, for markers on a volume chart."""
    out: list[AlertRow] = []
    for topic in topics:
        out.extend(
            _alert(r)
            for r in conn.execute(
                f"SELECT {_ALERT_COLS} FROM alerts WHERE topic = ? AND kind IN ('spike', 'negative_surge')"
                " AND ts >= ? ORDER BY ts DESC LIMIT 20",
                (topic, since),
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class SourceHealth:
    name: str
    type: str
    status: str
    last_success: float | None
    last_error: str | None
    last_error_ts: float | None
    next_poll: float | None
    failures: int
    stored_total: int

    @property
    def healthy(self) -> bool:
        return self.status in {"ok", "starting"}

    @property
    def flowing(self) -> bool:
        """Data comes, whatever warning the source has to show."""
        return self.healthy or self.status == "degraded"


def sources(conn: sqlite3.Connection) -> list[SourceHealth]:
    return [
        SourceHealth(*row)
        for row in conn.execute(
            "SELECT name, type, status, last_success, last_error, last_error_ts, next_poll, failures,"
            " stored_total FROM source_state ORDER BY name"
        )
    ]


#: a source is late when nothing came for its interval plus this margin (at least)
LATE_MARGIN_S = 30.0


@dataclass(frozen=True, slots=True)
class SourceFreshness:
    """A source's health judged by its age too: a poller that stopped writing (dead,
    disk full, database locked) records no error, but its source goes late by itself."""

    health: SourceHealth
    #: healthy by its status, but nothing written for longer than its interval allows
    late: bool

    @property
    def live(self) -> bool:
        return self.health.flowing and not self.late and self.health.last_success is not None


@dataclass(frozen=True, slots=True)
class Freshness:
    """How live the whole picture is: what the title bar and every tile's dimming follow."""

    sources: list[SourceFreshness] = field(default_factory=list)
    #: the newest successful poll of any configured source (None: never)
    newest: float | None = None
    #: enabled sources in the config (none: nothing to judge, the picture is not called stale)
    configured: int = 0

    @property
    def live(self) -> bool:
        return not self.configured or any(s.live for s in self.sources)

    @property
    def stale_since(self) -> float | None:
        """When the data stopped coming (the newest poll), or None while it is live."""
        return None if self.live else self.newest

    @property
    def not_live(self) -> list[SourceFreshness]:
        return [s for s in self.sources if not s.live]


def late(health: SourceHealth, interval_s: float, now: float) -> bool:
    """Nothing for longer than expected: the interval (or a later poll the source asked
    for) plus a margin of the interval itself, at least :data:`LATE_MARGIN_S`."""
    if health.last_success is None:
        return False
    expected = max(health.last_success + interval_s, health.next_poll or 0.0)
    return now > expected + max(LATE_MARGIN_S, interval_s)


def freshness(conn: sqlite3.Connection, config: Config, now: float) -> Freshness:
    """Each enabled source's health and lateness (a handful of rows)."""
    intervals = {s.name: s.interval_s for s in config.sources if s.enabled}
    every = sources(conn)
    if config.room is not None:  # a room's station: the hub's sources, as the room reports them
        intervals = {r.name: intervals.get(r.name, 0.0) for r in every}  # late after next_poll
    rows = [r for r in every if r.name in intervals]
    judged = [SourceFreshness(r, late(r, intervals[r.name], now)) for r in rows]
    newest = max((r.last_success for r in rows if r.last_success is not None), default=None)
    return Freshness(judged, newest, len(intervals))
