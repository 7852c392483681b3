"""A feed with one bad entry keeps the others; an entry dated 9999 is dated when it was seen."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from app.config import Config
from tests.peers.hostile import Hostile
from tests.sources.helpers import poll_once, rss


def test_bad_entries_are_repaired_or_dropped_and_future_dates_clamped(
    hostile: Hostile, db_path: Path, demo_config: Config
) -> None:
    feed = rss(f"{hostile.url}/bad-entries/feed.xml", name="globex-news")
    started = time.time()
    poll_once(db_path, demo_config, feed)
    conn = sqlite3.connect(db_path)
    rows = {r[0].rsplit("/", 1)[-1]: r[1:] for r in conn.execute("SELECT id, title, text, ts FROM mentions")}
    status, error = conn.execute(
        "SELECT status, last_error FROM source_state WHERE name = 'globex-news'").fetchone()
    conn.close()
    assert sorted(rows) == ["1", "2", "3"]  # the unreadable one dropped, the others kept
    assert rows["1"][:2] == ("Globex cuts prices", "fine")
    assert rows["2"][0] == "Half \ufffd an emoji" and "\ufffd" in rows["2"][1]  # repaired
    title, _, ts = rows["3"]
    assert title == "Far ahead [dated 9999-12-31 23:59 UTC, shown as first seen]"
    assert started <= ts <= time.time()  # prunable like anything seen now, never "now" for ever
    assert status == "degraded" and "dropped 1 feed entry that could not be read" in error
