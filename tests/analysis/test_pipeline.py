"""The pipeline bounds a post's cost, keeps its full length, marks what it cannot read
unscored (counted apart in the rollups the wall reads), and exports the class it showed."""

from __future__ import annotations

import json
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
from app.wallquery import totals


def _mention(native_id: str, text: str, lang: str | None = None) -> Mention:
    return Mention(network="mastodon", native_id=native_id, source="mastodon", text=text,
                   created_at=datetime.now(UTC), author="@dana@example.social", lang=lang)  # fmt: skip


def _store(db_path: Path, config: Config, mentions: list[Mention]) -> None:
    with StoreWriter(db_path, config, maintenance=False) as writer:
        writer.submit(IngestBatch("mastodon", "mastodon", mentions, {})).result(60)


def test_other_languages_are_unscored_and_counted_apart(db_path: Path, demo_config: Config) -> None:
    posts = [
        _mention("1", "@lumio my Lumio battery got so hot it burned my hand #LumioRecall"),
        _mention("2", "@lumio la batterie de mon Lumio chauffe beaucoup trop, c'est honteux"),
        _mention("3", "@lumio el Lumio es el peor teléfono que he tenido, no funciona nada"),
        _mention("4", "@lumio love my new Lumio X, the camera is stunning"),
    ]
    _store(db_path, demo_config, posts)
    conn = open_reader(db_path)
    try:
        rows = dict(conn.execute("SELECT id, sentiment_label FROM mentions").fetchall())
        langs = dict(conn.execute("SELECT id, language FROM mentions").fetchall())
        now = time.time()
        t = totals(conn, ALL, now - 3600, now + 60)
    finally:
        conn.close()
    assert rows == {posts[0].id: "negative", posts[1].id: "unscored",
                    posts[2].id: "unscored", posts[3].id: "positive"}  # fmt: skip
    assert langs[posts[1].id] == "fr" and langs[posts[2].id] == "es" and langs[posts[0].id] == "en"
    assert (t.n, t.unscored, t.scored, t.pos, t.neu, t.neg) == (4, 2, 2, 1, 0, 1)
    assert t.net_sentiment == 0.0  # one up, one down: the two unscored posts weigh nothing


def test_a_huge_post_is_cut_before_analysis_and_keeps_its_length(
    db_path: Path, demo_config: Config, tmp_path: Path
) -> None:
    limit = demo_config.sentiment.max_text_chars
    body = "@lumio my phone overheats and nobody answers. " * 25_000  # 1.15 MB
    _store(db_path, demo_config, [_mention("big", body, lang="en")])
    out = subprocess.run(
        [sys.executable, "-m", "app", "export", "--db", str(db_path), "--what", "mentions"],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    row = json.loads(out.stdout.splitlines()[0])
    assert row["text_length"] == len(body)
    assert limit - 200 <= len(row["text"]) <= limit and body.startswith(row["text"])
    assert body[len(row["text"])] == " "  # cut at a space, no half word
    assert row["sentiment_label"] == "negative" and row["scored"] is True
    assert row["language"] == "en"


def test_a_text_without_spaces_is_cut_at_the_limit(demo_config: Config) -> None:
    from app.analysis.pipeline import Analyzer

    m = _mention("w", "a" * 50_000)
    Analyzer(demo_config).analyse([m])
    assert len(m.text) == demo_config.sentiment.max_text_chars and m.text_length == 50_000
    short = _mention("s", "@lumio short and sweet")
    Analyzer(demo_config).analyse([short])
    assert short.text_length is None  # nothing was cut
