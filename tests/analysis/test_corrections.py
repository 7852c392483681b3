"""An operator's correction: stored, audited, moved in the rollups in the same commit (the
wall's figures follow), exported; and the explanation of a score for the console."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.analysis.corrections import RELABEL_TABLES, describe, explain, relabel
from app.config import Config
from app.model import Mention
from app.store import tables as T
from app.store.changelog import SqliteChangeFeed
from app.store.db import open_reader
from app.store.schema import ALL
from app.store.writer import IngestBatch, StoreWriter
from app.wallquery import totals
from app.workflow.states import WorkflowError
from app.workflow.users import add_user, hash_password

PASSWORD = "correct horse battery"
HASH = hash_password(PASSWORD)


def _mention(native_id: str, text: str) -> Mention:
    return Mention(network="mastodon", native_id=native_id, source="mastodon", text=text,
                   created_at=datetime.now(UTC), author="@finn@example.social", lang="en")  # fmt: skip


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "WATCHFLOOR_CONFIG"}
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True,
                          env=env, timeout=120)  # fmt: skip


def test_a_correction_moves_the_post_in_the_rollups_and_is_audited_and_exported(
    db_path: Path, demo_config: Config
) -> None:
    # the scorer takes this sarcasm-free complaint for praise: a person knows better
    post = _mention("1", "@lumio wow, the Lumio X really is something else. Love it. Returning it.")
    with StoreWriter(db_path, demo_config, maintenance=False) as writer:
        writer.submit(IngestBatch("mastodon", "mastodon", [post], {})).result(60)
        writer.call(lambda c: add_user(c, "olga", "operator", PASSWORD, password_hash=HASH),
                    tables=(T.USERS, T.AUDIT)).result(30)  # fmt: skip
        add_user_viewer = writer.call(lambda c: add_user(c, "vic", "viewer", PASSWORD, password_hash=HASH),
                                      tables=(T.USERS, T.AUDIT))  # fmt: skip
        add_user_viewer.result(30)
        conn = open_reader(db_path)
        now = time.time()
        before = totals(conn, ALL, now - 3600, now + 60)
        feed = SqliteChangeFeed(conn)  # what a wall listens to
        assert (before.pos, before.neg) == (1, 0)
        with pytest.raises(WorkflowError, match="may not correct"):
            writer.call(
                lambda c: relabel(c, "vic", post.id, "negative"), tables=RELABEL_TABLES
            ).result(30)
        done = writer.call(lambda c: relabel(c, "olga", post.id, "negative", reason="sarcasm"),
                           tables=RELABEL_TABLES, ids=[post.id]).result(30)  # fmt: skip
        assert (done.before, done.after) == ("positive", "negative") and done.audit_id > 0
    try:
        # the commit told every view that the rollups changed, and for which post
        batch = feed.read()
        assert any(T.ROLLUPS in c.tables and c.ids == (post.id,) for c in batch.changes), batch
        after = totals(conn, ALL, now - 3600, now + 60)
        for topic in post.topics or ["lumio"]:
            by_topic = totals(conn, topic, now - 3600, now + 60)
            assert (by_topic.pos, by_topic.neg) == (0, 1)
        for res in (60, 600, 3600):  # every resolution the wall reads moved
            row = conn.execute(
                "SELECT pos, neg FROM rollups WHERE res = ? AND topic = '*'", (res,)
            ).fetchone()
            assert tuple(row) == (0, 1), res
    finally:
        conn.close()
    assert (after.n, after.pos, after.neg) == (1, 0, 1)
    exported = _run("export", "--db", str(db_path), "--what", "mentions")
    assert json.loads(exported.stdout.splitlines()[0])["sentiment_label"] == "negative"
    trail = _run("export", "--db", str(db_path), "--what", "audit")
    rows = [json.loads(line) for line in trail.stdout.splitlines()]
    assert any(r["action"] == "mention.relabel" and r["actor"] == "olga" for r in rows), rows
    verify = _run("audit", "verify", "--db", str(db_path))
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_the_explanation_of_a_stored_post(db_path: Path, demo_config: Config) -> None:
    post = _mention("2", "@lumio thanks for nothing, 4 hours on hold 😡")
    with StoreWriter(db_path, demo_config, maintenance=False) as writer:
        writer.submit(IngestBatch("mastodon", "mastodon", [post], {})).result(60)
        scorer = writer.analyzer.scorer
    conn = open_reader(db_path)
    try:
        why = explain(scorer, conn, post.id)
        assert explain(scorer, conn, "mastodon:none") is None
    finally:
        conn.close()
    assert why is not None and why.label == "negative"
    assert {d.text for d in why.drivers} >= {"thanks for nothing", "on hold", "😡"}
    line = describe(why)
    assert line.startswith(f"negative {why.score:+.2f} · driven by ")
    assert "“thanks for nothing” -2.8" in line


def test_an_unscored_post_explains_itself(db_path: Path, demo_config: Config) -> None:
    post = _mention("3", "@lumio la batterie de mon Lumio chauffe beaucoup trop, c'est honteux")
    post.lang = None
    with StoreWriter(db_path, demo_config, maintenance=False) as writer:
        writer.submit(IngestBatch("mastodon", "mastodon", [post], {})).result(60)
        scorer = writer.analyzer.scorer
    conn = open_reader(db_path)
    try:
        why = explain(scorer, conn, post.id)
    finally:
        conn.close()
    assert why is not None and why.label == "unscored" and not why.drivers
    assert describe(why) == "unscored · not scored: written in fr"
