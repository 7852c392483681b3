"""A newer program opening an older database migrates it, even when it only reads (a wall PC)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from app.store.db import open_reader
from app.store.schema import MIGRATIONS, _statements


def _database_at(path: Path, version: int) -> None:
    """A database as a program that knew only the first ``version`` migrations left it."""
    conn = sqlite3.connect(path, isolation_level=None)
    for script in MIGRATIONS[:version]:
        for statement in _statements(script):
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {version}")
    conn.execute("INSERT INTO queue (mention_id, priority, queued_ts, updated_ts) VALUES ('a', 1, 0, 0)")
    conn.close()


def test_a_reader_on_an_older_schema_migrates_it_first(db_path: Path) -> None:
    _database_at(db_path, 2)  # before the queue counts
    reader = open_reader(db_path)
    assert reader.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    # the counts start from the queue as it was
    assert reader.execute("SELECT state, priority, n FROM queue_counts").fetchall() == [("new", 1, 1)]
    reader.close()
