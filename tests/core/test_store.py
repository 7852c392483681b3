"""The store: idempotent ingest, rollups consistent with mentions, cursors with their data."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.config import Config, Rules
from app.model import Mention
from app.store.db import open_reader
from app.store.writer import Change, IngestBatch, StoreWriter

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def mention(i: int, text: str = "I love my lumio x", **kw: object) -> Mention:
    return Mention(
        network="test", native_id=str(i), source="s", text=text,
        created_at=T0 + timedelta(seconds=7 * i), author=f"@user{i % 13}", **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def rollup_totals(
    conn: sqlite3.Connection, res: int, topic: str = "*"
) -> tuple[int, int, int, int]:
    row = conn.execute(
        "SELECT sum(n), sum(pos), sum(neu), sum(neg) FROM rollups WHERE res = ? AND topic = ?",
        (res, topic),
    ).fetchone()
    return tuple(v or 0 for v in row)  # type: ignore[return-value]


@pytest.fixture
def writer(db_path: Path, demo_config: Config):  # type: ignore[no-untyped-def]
    w = StoreWriter(db_path, demo_config, maintenance=False).start()
    yield w
    w.close()


def test_reingest_is_idempotent(writer: StoreWriter, db_path: Path) -> None:
    texts = [
        "I love my lumio x",
        "Orbitel is terrible",
        "@lumio why is my order late?",
        "nexa news",
    ]
    batch = [mention(i, texts[i % 4]) for i in range(400)]
    first = writer.submit(IngestBatch("s", "test", batch, {"page": 1})).result(30)
    again = writer.submit(IngestBatch("s", "test", batch[:250] + batch[:10], {"page": 2})).result(
        30
    )
    assert (first.stored, again.stored, again.fetched) == (400, 0, 260)
    conn = open_reader(db_path)
    assert conn.execute("SELECT count(*) FROM mentions").fetchone()[0] == 400
    for res in (60, 600, 3600):
        assert rollup_totals(conn, res)[0] == 400
    state = conn.execute(
        "SELECT cursor, stored_total, fetched_total, status FROM source_state"
    ).fetchone()
    assert json.loads(state[0]) == {"page": 2} and state[1:] == (400, 660, "ok")


def test_rollups_agree_with_mentions(writer: StoreWriter, db_path: Path) -> None:
    texts = ["I love my lumio x!", "lumio battery is awful, worst ever", "orbitel store opens at 9",
             "nexa announces a foldable", "@lumio can you help with my order?"]  # fmt: skip
    for page in range(5):
        batch = [mention(page * 300 + i, texts[i % 5]) for i in range(300)]
        writer.submit(IngestBatch("s", "test", batch, {"page": page}))
    writer.flush()
    conn = open_reader(db_path)
    for topic in ("*", "lumio", "orbitel", "nexa"):
        where = (
            "" if topic == "*" else "WHERE EXISTS (SELECT 1 FROM json_each(topics) WHERE value = ?)"
        )
        params = () if topic == "*" else (topic,)
        expected = conn.execute(
            "SELECT count(*), sum(sentiment_label = 'positive'), sum(sentiment_label = 'neutral'),"
            f" sum(sentiment_label = 'negative') FROM mentions {where}",
            params,
        ).fetchone()
        for res in (60, 600, 3600):
            assert rollup_totals(conn, res, topic) == tuple(expected), (topic, res)
    # per-minute buckets line up with the timestamps
    by_minute = dict(
        conn.execute("SELECT CAST(ts / 60 AS INT) * 60, count(*) FROM mentions GROUP BY 1")
    )
    stored = dict(conn.execute("SELECT bucket, n FROM rollups WHERE res = 60 AND topic = '*'"))
    assert by_minute == stored
    # the topic index points at the right rows
    (lumio,) = conn.execute("SELECT count(*) FROM mention_topics WHERE topic = 'lumio'").fetchone()
    assert lumio == rollup_totals(conn, 60, "lumio")[0] > 0


@pytest.mark.parametrize(("queue_kinds", "expected"), [
    (None, {"test:1", "test:2"}),  # the default: complaints about the brand's topic too
    ([], {"test:1"}),  # the demo's: only what is addressed to us
])  # fmt: skip
def test_needs_response_goes_to_the_queue(db_path: Path, demo_config: Config, queue_kinds: list[str] | None,
                                          expected: set[str]) -> None:  # fmt: skip
    rules = Rules() if queue_kinds is None else Rules(queue_kinds=queue_kinds)  # type: ignore[arg-type]
    config = demo_config.model_copy(update={"rules": rules})
    batch = [
        mention(1, "@lumio why does my phone keep crashing?"),
        mention(2, "Lumio is the worst company, my phone exploded, I hate it"),
        mention(3, "Lovely weather today"),
        mention(4, "Orbitel is the worst, I hate them"),  # a competitor's problem, not ours
    ]
    with StoreWriter(db_path, config, maintenance=False) as writer:
        writer.submit(IngestBatch("s", "test", batch, {})).result(30)
    conn = open_reader(db_path)
    queued = dict(conn.execute("SELECT mention_id, priority FROM queue"))
    assert set(queued) == expected
    reasons = json.loads(
        conn.execute("SELECT reasons FROM mentions WHERE id = 'test:1'").fetchone()[0]
    )
    assert "asks us a question" in reasons and "addressed to our account" in reasons


def test_listeners_hear_topics(writer: StoreWriter) -> None:
    heard: list[Change] = []
    writer.add_listener(heard.append)
    writer.submit(IngestBatch("s", "test", [mention(1, "orbitel prices drop")], {})).result(30)
    writer.flush()
    change = next(c for c in heard if "mentions" in c.tables)
    assert change.topics == {"*", "orbitel"}


def test_failed_call_rolls_back_and_reports(writer: StoreWriter, db_path: Path) -> None:
    def boom(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO meta (key, value) VALUES ('x', 'y')")
        raise ValueError("nope")

    with pytest.raises(ValueError, match="nope"):
        writer.call(boom).result(10)
    assert (
        writer.call(
            lambda c: c.execute("SELECT count(*) FROM meta WHERE key='x'").fetchone()[0]
        ).result(10)
        == 0
    )


def test_a_caller_that_stops_waiting_does_not_kill_the_writer(writer: StoreWriter, db_path: Path) -> None:
    """A poll cancelled mid-commit (shutdown) cancels its future; the writer must go on."""
    fut = writer.submit(IngestBatch("s", "test", [mention(i) for i in range(2000)], {"page": 1}))
    fut.cancel()
    writer.flush()
    assert writer.running
    after = writer.submit(IngestBatch("s", "test", [mention(5000)], {"page": 2})).result(30)
    assert after.stored == 1
