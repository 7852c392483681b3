"""The change log: a row in the same commit as each write, read on from the last id seen."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.config import Config
from app.model import Mention
from app.store import tables as T
from app.store.changelog import SqliteChangeFeed
from app.store.db import open_reader
from app.store.writer import IngestBatch, StoreWriter

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def mention(i: int, text: str) -> Mention:
    return Mention(network="test", native_id=str(i), source="s", text=text,
                   created_at=T0 + timedelta(seconds=i), author=f"@user{i}")  # fmt: skip


@pytest.fixture
def writer(db_path: Path, demo_config: Config):  # type: ignore[no-untyped-def]
    w = StoreWriter(db_path, demo_config, maintenance=False).start()
    yield w
    w.close()


def test_each_commit_writes_its_row_with_tables_ids_and_topics(writer: StoreWriter, db_path: Path) -> None:
    feed = SqliteChangeFeed(open_reader(db_path))
    start = feed.last_id
    writer.submit(IngestBatch("s", "test", [mention(1, "orbitel prices drop"), mention(2, "nice day")], {})).result(30)
    writer.record_status("s", "test", status="backoff", error="HTTP 503").result(10)
    batch = feed.read()
    assert not batch.gap
    ingest, status = batch.changes
    assert ingest.id == start + 1 and status.id == start + 2 == batch.last_id
    assert {T.MENTIONS, T.ROLLUPS, T.SOURCE_STATE} <= ingest.tables
    assert ingest.ids == ("test:1", "test:2")
    assert ingest.topics == {"*", "orbitel"}
    assert status.tables == {T.SOURCE_STATE} and status.ids == ("s",)
    # nothing new: nothing read (and no query of the log at all)
    assert not feed.read()


def test_a_failed_write_leaves_no_row_and_an_idle_one_none(writer: StoreWriter, db_path: Path) -> None:
    conn = open_reader(db_path)
    before = conn.execute("SELECT count(*) FROM changes").fetchone()[0]

    def boom(c: sqlite3.Connection) -> None:
        c.execute("INSERT INTO meta (key, value) VALUES ('x', 'y')")
        raise ValueError("nope")

    with pytest.raises(ValueError):
        writer.call(boom, tables=(T.META,)).result(10)
    writer.call(lambda c: c.execute("SELECT 1"), tables=(T.META,)).result(10)
    assert conn.execute("SELECT count(*) FROM changes").fetchone()[0] == before


def test_a_misspelt_table_is_refused_not_silently_unheard(writer: StoreWriter) -> None:
    with pytest.raises(ValueError, match=r"unknown table name.*queu"):
        writer.call(lambda c: None, tables=("queu",))


def test_another_process_commits_are_read_on_from_the_last_id(writer: StoreWriter, db_path: Path,
                                                              demo_config: Config) -> None:  # fmt: skip
    feed = SqliteChangeFeed(open_reader(db_path))
    writer.record_status("here", "test", status="ok").result(10)
    script = (
        "import sys\n"
        "from app.config import load_config\n"
        "from app.resources import demo_config_path\n"
        "from app.store.writer import StoreWriter\n"
        "w = StoreWriter(sys.argv[1], load_config(demo_config_path()), maintenance=False).start()\n"
        "w.record_status('there', 'rss', status='backoff', error='HTTP 503').result(10)\n"
        "w.close()\n"
    )
    subprocess.run([sys.executable, "-c", script, str(db_path)], check=True, timeout=120)
    writer.record_status("here", "test", status="ok").result(10)
    ids = [c.ids for c in feed.read().changes]
    assert ids == [("here",), ("there",), ("here",)]  # one channel, in commit order, both processes


def test_the_log_stays_pruned_and_a_reader_left_behind_sees_a_gap(writer: StoreWriter, db_path: Path) -> None:
    feed = SqliteChangeFeed(open_reader(db_path))
    writer.prune_every_s = 0.0
    writer.keep_changes_s = 0.0
    for i in range(30):
        writer.record_status(f"s{i}", "test", status="ok").result(10)
    conn = open_reader(db_path)
    assert conn.execute("SELECT count(*) FROM changes").fetchone()[0] <= 2
    batch = feed.read()
    assert batch.gap and batch.last_id == conn.execute("SELECT max(id) FROM changes").fetchone()[0]


def test_a_commit_outside_the_log_still_wakes_readers(writer: StoreWriter, db_path: Path) -> None:
    feed = SqliteChangeFeed(open_reader(db_path))
    raw = sqlite3.connect(db_path, isolation_level=None)
    raw.execute("INSERT INTO meta (key, value) VALUES ('by', 'hand')")  # an older program, a hand edit
    raw.close()
    assert feed.read().gap


def test_the_ids_of_a_big_commit_are_summarised(writer: StoreWriter, db_path: Path) -> None:
    writer.submit(IngestBatch("s", "test", [mention(i, f"post {i}") for i in range(500)], {})).result(30)
    conn = open_reader(db_path)
    row = conn.execute("SELECT ids, tables FROM changes ORDER BY id DESC LIMIT 1").fetchone()
    assert row[0] is None and T.MENTIONS in json.loads(row[1])


def test_a_reader_opened_beside_the_writer_never_lets_another_process_drop_its_wal(
    writer: StoreWriter, db_path: Path
) -> None:
    """A plain open()/close() of the file in the writer's process dropped its SQLite locks:
    the next process to close its connection deleted the -wal file under the writer, and
    every later commit was lost to every reader (the wall said "no live data", rightly)."""
    writer.record_status("first", "test", status="ok").result(10)
    open_reader(db_path).close()  # what the poller (its cursors) and a wall beside a writer do
    elsewhere = "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); print(c.execute(" \
        "'SELECT group_concat(name) FROM source_state').fetchone()[0]); c.close()"
    subprocess.run([sys.executable, "-c", elsewhere, str(db_path)], check=True, timeout=60)
    assert Path(f"{db_path}-wal").exists()
    writer.record_status("second", "test", status="ok").result(10)
    seen = subprocess.run([sys.executable, "-c", elsewhere, str(db_path)], check=True, timeout=60,
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    assert sorted(seen.split(",")) == ["first", "second"]
