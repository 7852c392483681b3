"""Periodic work on the writer thread: spike alerts, trending terms, term counts, pruning.

Each task reads a bounded slice of rollups or term buckets (never raw mentions in bulk)
and commits in its own transaction; the writer calls :meth:`Maintenance.run_due`
between ingest batches.
"""

from __future__ import annotations

import functools
import json
import logging
import sqlite3
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from app.analysis.spikes import (
    NEGATIVE_MIN_LIFT,
    SUBSIDE_MIN,
    Finding,
    current_level,
    driver_terms,
    negative_surge,
    typical_posts,
    volume_spike,
)
from app.analysis.tokens import Doc, trend_terms
from app.analysis.trending import TERM_BUCKET_S, TermCounter, Trend, rising_terms
from app.config import Config
from app.store.db import is_damage, transaction
from app.store.schema import ALL

log = logging.getLogger(__name__)

#: how many recent 10-minute buckets count as "now" for trending
RECENT_BUCKETS = 2
#: hours of term history a trend is measured against
HISTORY_HOURS = 6
#: minutes of history judged for alerts on first start or after a stop
CATCH_UP_MIN = 24 * 60
#: an alert that fires for a minute older than this is recorded as already resolved
LIVE_S = 15 * 60
#: posts of the spiking window (and of its baseline) read to find what drives it
DRIVER_POSTS = 3000


#: mentions deleted per transaction (the writer's ingest waits at most one such commit)
PRUNE_BATCH = 2000
#: writer time one pruning turn may take; with more left it goes on at the next turn
PRUNE_BUDGET_S = 0.25
#: wall commands are read within a second; a day of them is history enough
WALL_COMMANDS_DAYS = 1


def _terms_of(posts: list[tuple[str, str, str]]) -> list[list[str]]:
    """The trend terms of (id, text, title) rows, as analysis counted them."""
    return [trend_terms(Doc.from_text(f"{title}\n{text}" if title else text)) for _, text, title in posts]


@dataclass
class _Task:
    every_s: float
    run: Callable[[sqlite3.Connection, float], set[str]]
    last: float = 0.0
    #: the task commits itself (in bounded transactions) instead of in one around it
    own_transactions: bool = False
    #: it stopped with work left: run again at the next turn, not after ``every_s``
    again: bool = False


class Maintenance:
    def __init__(
        self, config: Config, terms: TermCounter, excluded: Callable[[str | None], frozenset[str]]
    ) -> None:
        self.config = config
        self.terms = terms
        self.excluded = excluded
        self.scopes = [ALL, *(t.name for t in config.topics)]
        #: when this process began: a minute before it is history, never a live alert
        self.started = time.time()
        #: called inside each task's transaction with the tables it changed
        self.on_commit: Callable[[sqlite3.Connection, set[str]], object] | None = None
        self.tasks = [
            _Task(60, self.flush_terms),
            _Task(20, self.check_alerts),
            _Task(60, self.refresh_trending),
            _Task(60, self.prune, own_transactions=True),
        ]
        #: set when a task found the database damaged (``poll`` reports it and fails)
        self.damage: str | None = None

    def run_due(
        self, conn: sqlite3.Connection, now: float | None = None, *, force: bool = False
    ) -> set[str]:
        """Run every task whose time has come; return the tables changed."""
        now = time.time() if now is None else now
        changed: set[str] = set()
        for task in self.tasks:
            if force or task.again or now - task.last >= task.every_s:
                task.last = now
                try:
                    if task.own_transactions:
                        got = task.run(conn, now)
                    else:
                        got = self._commit(conn, functools.partial(task.run, conn, now))
                    changed |= got
                except sqlite3.Error as exc:
                    if is_damage(exc):  # the file is damaged: say so, a traceback adds nothing
                        self.damage = str(exc)
                        log.error("maintenance task %s failed: %s", task.run.__name__, exc)
                    else:
                        log.exception("maintenance task %s failed", task.run.__name__)
        return changed

    def _commit(self, conn: sqlite3.Connection, fn: Callable[[], set[str]]) -> set[str]:
        """Run ``fn`` in one transaction, with its change-log row in the same commit."""
        with transaction(conn):
            got = fn()
            if self.on_commit is not None:
                self.on_commit(conn, got)
        return got

    # -- term counts and trending -------------------------------------------------

    def flush_terms(self, conn: sqlite3.Connection, now: float) -> set[str]:
        rows = self.terms.drain()
        if rows:
            conn.executemany(
                "INSERT INTO term_buckets (scope, bucket, term, n) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (scope, bucket, term) DO UPDATE SET n = n + excluded.n",
                rows,
            )
        return {"term_buckets"} if rows else set()

    def trends(
        self, conn: sqlite3.Connection, scope: str, now: float, limit: int = 15
    ) -> list[Trend]:
        current = int(now // TERM_BUCKET_S) * TERM_BUCKET_S
        recent_from = current - (RECENT_BUCKETS - 1) * TERM_BUCKET_S
        history_from = recent_from - HISTORY_HOURS * 3600
        recent: Counter[str] = Counter()
        history: Counter[str] = Counter()
        buckets: set[int] = set()
        for bucket, term, n in conn.execute(
            "SELECT bucket, term, n FROM term_buckets WHERE scope = ? AND bucket >= ?",
            (scope, history_from),
        ):
            if bucket >= recent_from:
                recent[term] += n
            else:
                history[term] += n
                buckets.add(bucket)
        # the current bucket is partly filled: scale expectations by how much of it has passed
        elapsed = (RECENT_BUCKETS - 1) + (now - current) / TERM_BUCKET_S
        per_bucket = {t: n / max(len(buckets), 1) for t, n in history.items()}
        return rising_terms(
            recent,
            per_bucket,
            elapsed,
            exclude=self.excluded(None if scope == ALL else scope),
            limit=limit,
        )

    def refresh_trending(self, conn: sqlite3.Connection, now: float) -> set[str]:
        conn.execute("DELETE FROM trending")
        for scope in self.scopes:
            conn.executemany(
                "INSERT INTO trending (scope, rank, term, recent, baseline, score, updated_ts)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (scope, rank, t.term, t.recent, t.baseline, t.score, now)
                    for rank, t in enumerate(self.trends(conn, scope, now), start=1)
                ],
            )
        return {"trending"}

    # -- alerts -------------------------------------------------------------------

    def check_alerts(self, conn: sqlite3.Connection, now: float) -> set[str]:
        """Evaluate every complete minute not evaluated yet (catching up after a backfill).

        Each minute is judged once, against the minutes before it, so a crisis in
        backfilled history is on record while only a live one wakes the room.
        """
        cfg = self.config.alerts
        changed: set[str] = set()
        if cfg.auto_resolve_min:
            cur = conn.execute(
                "UPDATE alerts SET state = 'resolved' WHERE state = 'active' AND ts < ?",
                (now - cfg.auto_resolve_min * 60,),
            )
            if cur.rowcount:
                changed.add("alerts")
        newest = int(now // 60) * 60 - 60  # start of the newest complete minute
        if self.track_subsided(conn, newest):
            changed.add("alerts")
        row = conn.execute("SELECT value FROM meta WHERE key = 'alerts_checked'").fetchone()
        checked = int(row[0]) if row else newest - CATCH_UP_MIN * 60
        first_eval = max(checked + 60, newest - CATCH_UP_MIN * 60)
        if first_eval > newest:
            return changed
        span = cfg.baseline_min + cfg.window_min
        first = first_eval - (span - 1) * 60
        size = (newest - first) // 60 + 1
        # a minute is judged only against a baseline of real history, not the empty time
        # before the first mention was stored (that would make every start a "spike")
        row = conn.execute(
            "SELECT min(bucket) FROM rollups WHERE res = 60 AND topic = ?", (ALL,)
        ).fetchone()
        judged_from = (row[0] or newest) + cfg.baseline_min * 60 // 2
        for scope in self.scopes:
            counts = [0] * size
            negs = [0] * size
            for bucket, n, neg in conn.execute(
                "SELECT bucket, n, neg FROM rollups WHERE res = 60 AND topic = ?"
                " AND bucket BETWEEN ? AND ?",
                (scope, first, newest),
            ):
                i = (bucket - first) // 60
                counts[i], negs[i] = n, neg
            for end in range(span, size + 1):
                minute = first + (end - 1) * 60
                if minute < judged_from:
                    continue
                c, g = counts[end - span : end], negs[end - span : end]
                found = {
                    "spike": volume_spike(
                        c, window=cfg.window_min, alpha=cfg.ewma_alpha,
                        z_threshold=cfg.z, min_count=cfg.min_count, min_ratio=cfg.min_ratio,
                    ),
                    "negative_surge": negative_surge(
                        c, g, window=cfg.window_min, alpha=cfg.ewma_alpha,
                        z_threshold=cfg.negative_z, min_count=cfg.negative_min_count,
                    ),
                }  # fmt: skip
                fired_at = minute + 60.0
                for kind, finding in found.items():
                    if finding and not self._cooling(conn, kind, scope, fired_at):
                        live = now - fired_at < LIVE_S and fired_at > self.started
                        self._raise_alert(conn, kind, scope, finding, fired_at, minute, live=live)
                        changed.add("alerts")
        conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('alerts_checked', ?)", (str(newest),)
        )
        return changed

    def track_subsided(self, conn: sqlite3.Connection, newest: int) -> bool:
        """Say which unacknowledged alerts are over: back under their threshold for the last
        :data:`SUBSIDE_MIN` complete minutes after they fired (``subsided_ts``, the first of
        those minutes), and live again when the level rises back over it.

        They stay active (a person acknowledges them); the wall only stops saying "now".
        Reads :data:`SUBSIDE_MIN` rollup rows per topic with an active alert.
        """
        cfg = self.config.alerts
        start = newest - (SUBSIDE_MIN - 1) * 60
        series: dict[str, tuple[list[int], list[int]]] = {}
        changed = False
        for alert_id, kind, topic, ts, baseline, subsided in conn.execute(
            "SELECT id, kind, topic, ts, baseline, subsided_ts FROM alerts WHERE state = 'active'"
            " ORDER BY ts DESC LIMIT 200"
        ).fetchall():
            if start < ts:  # judged on the minutes after it fired only
                continue
            if topic not in series:
                counts, negs = [0] * SUBSIDE_MIN, [0] * SUBSIDE_MIN
                for bucket, n, neg in conn.execute(
                    "SELECT bucket, n, neg FROM rollups WHERE res = 60 AND topic = ?"
                    " AND bucket BETWEEN ? AND ?",
                    (topic, start, newest),
                ):
                    counts[(bucket - start) // 60], negs[(bucket - start) // 60] = n, neg
                series[topic] = (counts, negs)
            counts, negs = series[topic]
            spike = kind == "spike"
            level, above = current_level(
                kind, counts, negs, float(baseline), window=cfg.window_min,
                z_threshold=cfg.z if spike else cfg.negative_z,
                min_count=cfg.min_count if spike else cfg.negative_min_count,
                min_ratio=cfg.min_ratio if spike else NEGATIVE_MIN_LIFT,
            )  # fmt: skip
            since = None if above else (subsided if subsided is not None else float(start))
            cur = conn.execute(
                "UPDATE alerts SET subsided_ts = ?, now_level = ? WHERE id = ?"
                " AND (subsided_ts IS NOT ? OR now_level IS NOT ?)",
                (since, level, alert_id, since, level),
            )
            if cur.rowcount and (since is None) != (subsided is None):
                log.info("alert %s (%s %s) %s", alert_id, topic, kind,
                         "rose again" if since is None else "subsided")  # fmt: skip
            changed |= cur.rowcount > 0
        return changed

    def rewind_alerts(self, conn: sqlite3.Connection, oldest_ts: float) -> None:
        """Mentions older than the alert watermark arrived (a backfill): judge those minutes again.

        Re-judging never duplicates an alert: the cooldown finds the one already raised.
        """
        conn.execute(
            "UPDATE meta SET value = CAST(? AS TEXT) WHERE key = 'alerts_checked'"
            " AND CAST(value AS INTEGER) > ?",
            (int(oldest_ts // 60) * 60 - 60, int(oldest_ts // 60) * 60 - 60),
        )

    def _cooling(self, conn: sqlite3.Connection, kind: str, topic: str, now: float) -> bool:
        """Was the same alert raised within the cooldown? For a live minute, one this run
        never showed (from history before it started, resolved with nobody acknowledging it)
        does not count: a surge in the backfill twenty minutes before the start held back the
        live crisis's. Within the history the cooldown holds as always."""
        live = now > self.started
        row = conn.execute(
            "SELECT 1 FROM alerts WHERE kind = ? AND topic = ? AND ts > ? AND ts <= ?"
            " AND NOT (? AND ts <= ? AND state = 'resolved' AND acked_by IS NULL) LIMIT 1",
            (kind, topic, now - self.config.alerts.cooldown_min * 60, now, live, self.started),
        ).fetchone()
        return row is not None

    def _raise_alert(
        self,
        conn: sqlite3.Connection,
        kind: str,
        topic: str,
        f: Finding,
        now: float,
        last: int,
        *,
        live: bool,
    ) -> None:
        window = self.config.alerts.window_min
        start = last - (window - 1) * 60
        drivers, posts = self._drivers(conn, topic, start, last + 60,
                                       negative=kind != "spike")  # fmt: skip
        label = "all mentions" if topic == ALL else topic
        if kind == "spike":
            text = (
                f"{label}: {f.observed:.0f} mentions/min over the last {window} min, "
                f"{f.ratio:.1f}× the usual {f.baseline:.1f}/min (z = {f.z:.1f})"
            )
        else:
            text = (
                f"{label}: {f.observed:.0%} negative over the last {window} min "
                f"against a usual {f.baseline:.0%} ({f.window_count} negative posts, z = {f.z:.1f})"
            )
        if drivers:
            text += "; driven by " + ", ".join(drivers)
        conn.execute(
            "INSERT INTO alerts (kind, topic, ts, window_start, observed, baseline, z, explanation,"
            " terms, state, posts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (kind, topic, now, start, f.observed, f.baseline, f.z, text,
             json.dumps(drivers), "active" if live else "resolved", json.dumps(posts)),
        )  # fmt: skip
        (log.warning if live else log.info)("alert: %s", text)

    def _posts(
        self, conn: sqlite3.Connection, topic: str, start: float, end: float, limit: int,
        *, negative: bool = False,
    ) -> list[tuple[str, str, str]]:
        """(id, text, title) of the newest public posts of a topic in ``[start, end)``
        (only those scored negative, if ``negative``)."""
        only = " AND m.sentiment_label = 'negative'" if negative else ""
        if topic == ALL:
            sql = ("SELECT m.id, m.text, m.title FROM mentions m WHERE m.ts >= ? AND m.ts < ?"
                   f" AND m.private = 0{only} ORDER BY m.ts DESC LIMIT ?")  # fmt: skip
            return conn.execute(sql, (start, end, limit)).fetchall()
        sql = ("SELECT m.id, m.text, m.title FROM mention_topics t"
               " JOIN mentions m ON m.rowid = t.mention"
               f" WHERE t.topic = ? AND t.ts >= ? AND t.ts < ?{only} ORDER BY t.ts DESC LIMIT ?")  # fmt: skip
        return conn.execute(sql, (topic, start, end, limit)).fetchall()

    def _drivers(
        self, conn: sqlite3.Connection, topic: str, start: float, end: float, *,
        negative: bool = False,
    ) -> tuple[list[str], list[str]]:
        """What drives a spike (the window against its own baseline), and its typical posts.

        For a negative surge (``negative``) both sides are the negative posts: what the
        complaints say now that they did not before, not the praise that happens to share
        the window."""
        window = self._posts(conn, topic, start, end, DRIVER_POSTS, negative=negative)
        before = start - self.config.alerts.baseline_min * 60
        base = self._posts(conn, topic, before, start, DRIVER_POSTS, negative=negative)
        terms, base_terms = _terms_of(window), _terms_of(base)
        found = driver_terms(terms, base_terms, limit=5)
        typical = typical_posts(terms, [text for _, text, _ in window], found)
        return [d.term for d in found], [window[i][0] for i in typical]

    # -- retention ----------------------------------------------------------------

    def prune(self, conn: sqlite3.Connection, now: float) -> set[str]:
        """Drop what is past retention: raw mentions (keeping open queue items), fine rollups,
        old term counts, alerts and wall commands.

        Mentions go in batches of :data:`PRUNE_BATCH`, one transaction each, for at most
        :data:`PRUNE_BUDGET_S` a turn; with more left the task runs again at the writer's
        next turn, so pruning keeps up with any ingest rate the writer keeps up with.
        """
        ret = self.config.retention
        cutoff = now - ret.mentions_days * 86400
        task = next(t for t in self.tasks if t.run == self.prune)
        deadline = time.monotonic() + PRUNE_BUDGET_S
        changed: set[str] = set()
        while True:
            deleted = 0

            def batch() -> set[str]:
                nonlocal deleted
                deleted = self._prune_mentions(conn, cutoff)
                return {"mentions", "mention_topics"} if deleted else set()

            changed |= self._commit(conn, batch)
            if deleted < PRUNE_BATCH:
                break
            if time.monotonic() >= deadline:
                task.again = True  # more to do: the next turn goes on
                return changed
        task.again = False
        return changed | self._commit(conn, lambda: self._prune_the_rest(conn, now))

    def _prune_mentions(self, conn: sqlite3.Connection, cutoff: float) -> int:
        """One batch of the oldest mentions past ``cutoff`` that no open queue item needs."""
        stamps = conn.execute(
            "DELETE FROM mentions WHERE rowid IN (SELECT m.rowid FROM mentions m WHERE m.ts < ?"
            " AND NOT EXISTS (SELECT 1 FROM queue q WHERE q.mention_id = m.id"
            " AND q.state NOT IN ('sent', 'dismissed')) ORDER BY m.ts LIMIT ?) RETURNING ts",
            (cutoff, PRUNE_BATCH),
        ).fetchall()
        if stamps:
            upto = min(max(ts for (ts,) in stamps), cutoff)
            for scope in self.scopes[1:]:  # by topic, so the primary key bounds each delete
                conn.execute("DELETE FROM mention_topics WHERE topic = ? AND ts <= ? AND ts < ?",
                             (scope, upto, cutoff))  # fmt: skip
        return len(stamps)

    def _prune_the_rest(self, conn: sqlite3.Connection, now: float) -> set[str]:
        ret = self.config.retention
        before = conn.total_changes
        conn.execute(
            "DELETE FROM rollups WHERE res = 60 AND bucket < ?",
            (now - ret.minute_rollups_days * 86400,),
        )
        conn.execute("DELETE FROM rollups WHERE res = 600 AND bucket < ?", (now - 90 * 86400,))
        rollups = conn.total_changes != before
        conn.execute(
            "DELETE FROM term_buckets WHERE bucket < ?", (now - (HISTORY_HOURS + 2) * 3600,)
        )
        before = conn.total_changes
        # an alert still active, or one a crisis was declared from, stays
        conn.execute(
            "DELETE FROM alerts WHERE ts < ? AND state != 'active'"
            " AND id NOT IN (SELECT alert_id FROM crises WHERE alert_id IS NOT NULL)",
            (now - ret.alerts_days * 86400,),
        )
        alerts = conn.total_changes != before
        before = conn.total_changes
        # the newest command keeps the ids growing; the newest spotlight is what walls show
        conn.execute(
            "DELETE FROM wall_commands WHERE ts < ?"
            " AND id < (SELECT max(id) FROM wall_commands)"
            " AND id IS NOT (SELECT max(id) FROM wall_commands"
            " WHERE command IN ('spotlight', 'clear_spotlight'))",
            (now - WALL_COMMANDS_DAYS * 86400,),
        )
        commands = conn.total_changes != before
        return ({"rollups"} if rollups else set()) | ({"alerts"} if alerts else set()) | (
            {"wall_commands"} if commands else set()
        )
