"""A newer program opening an older database migrates it, even when it only reads (a wall PC)."""

from __future__ import annotations

from pathlib import Path

from app.store.db import open_reader, open_writer
from app.store.schema import MIGRATIONS


def test_a_reader_on_an_older_schema_migrates_it_first(db_path: Path) -> None:
    conn = open_writer(db_path)
    conn.execute("INSERT INTO queue (mention_id, priority, queued_ts, updated_ts) VALUES ('a', 1, 0, 0)")
    for trigger in ("queue_counts_insert", "queue_counts_delete", "queue_counts_update"):
        conn.execute(f"DROP TRIGGER {trigger}")
    conn.execute("DROP TABLE queue_counts")
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) - 1}")
    conn.close()
    reader = open_reader(db_path)
    assert reader.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    # the counts start from the queue as it was
    assert reader.execute("SELECT state, priority, n FROM queue_counts").fetchall() == [("new", 1, 1)]
    reader.close()
