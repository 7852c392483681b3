"""A server that says "slow down" while the outbox answers a story: the reply waits as long
as the server asked (its Retry-After), not the outbox's own shorter backoff, and nothing is
posted meanwhile."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import parse_config
from app.poller import Poller
from app.resources import demo_config_path
from app.store.db import open_reader
from app.store.writer import StoreWriter
from app.workflow import audit
from app.workflow.setup import build_workflow
from app.workflow.users import add_user
from tests.peers import mastodon_replay
from tests.peers.mastodon_replay import TOKEN, Replay, ReplayHandler
from tests.workflow.conftest import PASSWORD, PASSWORD_HASH, queue_items

STATUS = "117440826670289215"  # a recorded status the recorded reply answers


@pytest.fixture
def busy(monkeypatch: pytest.MonkeyPatch) -> Iterator[Replay]:
    """The recorded Mastodon server, answering every new post with 429 and Retry-After: 600."""
    why = mastodon_replay.missing()
    if why:
        pytest.fail(f"Mastodon replay peer unavailable: {why}")

    def too_many(self: ReplayHandler, body: str) -> None:
        self.send(429, b'{"error":"Too many requests"}', "application/json; charset=utf-8",
                  {"Retry-After": "600"})  # fmt: skip

    monkeypatch.setattr(ReplayHandler, "reply", too_many)
    with mastodon_replay.serve() as replay:
        yield replay


@pytest.mark.peer
def test_a_rate_limited_send_waits_as_long_as_the_server_asked(busy: Replay, db_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("WF_PACE_TOKEN", TOKEN)
    data = tomllib.loads(demo_config_path().read_text(encoding="utf-8"))
    data["sources"] = [{"name": "masto", "type": "mastodon", "base_url": busy.url,
                        "hashtags": ["hoot"], "token_env": "WF_PACE_TOKEN", "timeout_s": 5}]  # fmt: skip
    config = parse_config(data, "busy server (test)")
    workflow = build_workflow(config)
    with StoreWriter(db_path, config, maintenance=False) as writer:
        writer.call(lambda c: add_user(c, "sam", "operator", PASSWORD, send_unapproved=True,
                                       password_hash=PASSWORD_HASH)).result(30)  # fmt: skip
        conn = sqlite3.connect(db_path)
        (mid,) = queue_items(conn, 1, network="mastodon", source="masto")
        conn.execute("UPDATE mentions SET reply_ref = ? WHERE id = ?",
                     (json.dumps({"status_id": STATUS, "acct": "mastodonpy_test_2"}), mid))  # fmt: skip
        conn.commit()
        conn.close()
        writer.call(lambda c: workflow.claim(c, "sam", mid)).result(30)
        writer.call(lambda c: workflow.reply_direct(c, "sam", mid, "on it")).result(30)
        before = time.time()
        for _ in range(2):  # two rounds as `watchfloor poll` runs them: the second sends nothing
            asyncio.run(Poller(config, writer, workflow=workflow, fetch=False).run(once=True))
    posts = [r for r in busy.requests if r["method"] == "POST"]
    assert len(posts) == 1
    reader = open_reader(db_path)
    state, due, error = reader.execute(
        "SELECT state, next_attempt_ts, last_error FROM replies WHERE mention_id = ?", (mid,)).fetchone()  # fmt: skip
    assert state == "approved" and "429" in error
    assert due >= before + 600 - 1  # the server's wait, not the 30 s backoff
    trail = [(r["action"], r["after"].get("retry_in_s")) for r in audit.rows(reader, mid)]
    reader.close()
    assert trail[-1] == ("item.requeue", 600)
