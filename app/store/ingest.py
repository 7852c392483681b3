"""Writing analysed mentions: dedup, topic index, queue rows and rollups in one transaction.

Called only on the writer thread, inside ``BEGIN IMMEDIATE`` (we hold the write lock, so
the existence check and the explicit rowids cannot race another writer).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from app.model import UNSCORED, Mention
from app.secrets import mask
from app.store.schema import ALL, ROLLUP_RES

_CHUNK = 500

_INSERT_MENTION = """
INSERT INTO mentions (rowid, id, network, source, url, author, author_name, author_followers,
    title, text, ts, fetched_ts, lang, content_warning, sensitive, directed_at_us, in_reply_to,
    reply_ref, engagement, sentiment, topics, needs_response, priority, reasons, language,
    sentiment_label, private, text_length)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""

_UPSERT_ROLLUP = """
INSERT INTO rollups (res, topic, bucket, n, pos, neu, neg, sent_sum, engagement, needs_response,
    unscored)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (res, topic, bucket) DO UPDATE SET
    n = n + excluded.n, pos = pos + excluded.pos, neu = neu + excluded.neu,
    neg = neg + excluded.neg, sent_sum = sent_sum + excluded.sent_sum,
    engagement = engagement + excluded.engagement,
    needs_response = needs_response + excluded.needs_response,
    unscored = unscored + excluded.unscored
"""

_UPSERT_SOURCE_OK = """
INSERT INTO source_state (name, type, cursor, status, last_success, next_poll, failures,
    fetched_total, stored_total)
VALUES (?, ?, ?, 'ok', ?, ?, 0, ?, ?)
ON CONFLICT (name) DO UPDATE SET
    type = excluded.type, cursor = excluded.cursor, status = 'ok',
    last_success = excluded.last_success, next_poll = excluded.next_poll, failures = 0,
    fetched_total = fetched_total + excluded.fetched_total,
    stored_total = stored_total + excluded.stored_total
"""


def existing_ids(conn: sqlite3.Connection, ids: Sequence[str]) -> set[str]:
    """Which of ``ids`` are stored already."""
    found: set[str] = set()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        marks = ",".join("?" * len(chunk))
        found.update(
            r[0] for r in conn.execute(f"SELECT id FROM mentions WHERE id IN ({marks})", chunk)
        )
    return found


def unique_new(conn: sqlite3.Connection, mentions: Iterable[Mention]) -> list[Mention]:
    """Drop mentions already stored and repeats within the batch (first one wins)."""
    by_id: dict[str, Mention] = {}
    for m in mentions:
        by_id.setdefault(m.id, m)
    known = existing_ids(conn, list(by_id))
    return [m for i, m in by_id.items() if i not in known]


_EMPTY_JSON = "[]"


def _json_list(items: list[str], cache: dict[tuple[str, ...], str]) -> str:
    """JSON for a short list of strings; topic lists repeat, so most come from the cache."""
    if not items:
        return _EMPTY_JSON
    key = tuple(items)
    text = cache.get(key)
    if text is None:
        text = cache[key] = json.dumps(items, ensure_ascii=False)
    return text


def insert_mentions(conn: sqlite3.Connection, mentions: Sequence[Mention], now: float) -> set[str]:
    """Insert analysed, not-yet-stored mentions with everything derived from them.

    Returns the topics touched (``*`` included when anything public was stored). Private
    posts (direct messages, followers-only) are stored and queued, but reach neither the
    topic index the feeds read nor the rollups: they are never content for a wall.
    """
    if not mentions:
        return set()
    (top,) = conn.execute("SELECT coalesce(max(rowid), 0) FROM mentions").fetchone()
    rows = []
    topic_rows = []
    queue_rows = []
    cache: dict[tuple[str, ...], str] = {}
    # aggregate per minute first; coarser buckets are sums of minutes
    minutes: dict[tuple[str, int], list[float]] = {}
    dumps = json.dumps
    for offset, m in enumerate(mentions, start=1):
        rowid = top + offset
        ts = m.ts
        topics = m.topics
        rows.append(
            (
                rowid, m.id, m.network, m.source, m.url, m.author, m.author_name,
                m.author_followers, m.title, m.text, ts, now, m.lang, m.content_warning,
                int(m.sensitive), int(m.directed_at_us), m.in_reply_to,
                dumps(m.reply_ref) if m.reply_ref is not None else None, m.engagement,
                m.sentiment, _json_list(topics, cache), int(m.needs_response), m.priority,
                _json_list(m.reasons, cache), m.language, m.sentiment_label, int(m.private),
                m.text_length,
            )
        )  # fmt: skip
        if m.needs_response:
            queue_rows.append((m.id, m.priority, now, now, _json_list(m.reasons, cache)))
        if m.private:
            continue
        for topic in topics:
            topic_rows.append((topic, ts, rowid))
        label = m.sentiment_label
        unscored = label == UNSCORED
        s = 0.0 if unscored else m.sentiment
        pos, neg = label == "positive", label == "negative"
        minute = int(ts // 60) * 60
        for topic in (ALL, *topics):
            acc = minutes.get((topic, minute))
            if acc is None:
                acc = minutes[topic, minute] = [0, 0, 0, 0, 0.0, 0, 0, 0]
            acc[0] += 1
            acc[1] += pos
            acc[2] += not (pos or neg or unscored)
            acc[3] += neg
            acc[4] += s
            acc[5] += m.engagement
            acc[6] += m.needs_response
            acc[7] += unscored
    rollups: dict[tuple[int, str, int], list[float]] = {}
    for (topic, minute), acc in minutes.items():
        for res in ROLLUP_RES:
            key = (res, topic, minute // res * res)
            total = rollups.get(key)
            if total is None:
                rollups[key] = list(acc)
            else:
                for i, value in enumerate(acc):
                    total[i] += value
    conn.executemany(_INSERT_MENTION, rows)
    conn.executemany("INSERT INTO mention_topics (topic, ts, mention) VALUES (?, ?, ?)", topic_rows)
    if queue_rows:
        conn.executemany(
            "INSERT OR IGNORE INTO queue (mention_id, priority, state, queued_ts, updated_ts, reasons)"
            " VALUES (?, ?, 'new', ?, ?, ?)",
            queue_rows,
        )
    conn.executemany(_UPSERT_ROLLUP, [(*key, *acc) for key, acc in rollups.items()])
    return {topic for topic, _ in minutes}


def record_source_success(
    conn: sqlite3.Connection,
    name: str,
    source_type: str,
    cursor: dict[str, Any],
    *,
    fetched: int,
    stored: int,
    now: float,
    next_poll: float | None,
) -> None:
    conn.execute(
        _UPSERT_SOURCE_OK,
        (name, source_type, json.dumps(cursor), now, next_poll, fetched, stored),
    )


def record_source_status(
    conn: sqlite3.Connection,
    name: str,
    source_type: str,
    *,
    status: str,
    error: str | None,
    failures: int,
    now: float,
    next_poll: float | None,
) -> None:
    """Health without data: a failure (with its readable reason), a pause, a start.

    The reason is masked here, where every health text is stored: a server's echo of a
    token never reaches the database, the wall's sources tile or ``doctor``.
    """
    error = mask(error) if error else error
    conn.execute(
        "INSERT INTO source_state (name, type, status, last_error, last_error_ts, failures, next_poll)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (name) DO UPDATE SET type = excluded.type, status = excluded.status,"
        " last_error = coalesce(excluded.last_error, last_error),"
        " last_error_ts = coalesce(excluded.last_error_ts, last_error_ts),"
        " failures = excluded.failures, next_poll = excluded.next_poll",
        (name, source_type, status, error, now if error else None, failures, next_poll),
    )


def load_cursors(conn: sqlite3.Connection) -> dict[str, dict[str, Any]]:
    """Every source's committed cursor, by source name."""
    return {
        name: json.loads(cursor or "{}")
        for name, cursor in conn.execute("SELECT name, cursor FROM source_state")
    }
