"""A server that ignores Idempotency-Key, and a reply whose answer was lost on the way back:
the outbox's retry finds the reply already posted under the status and adopts it, so the
customer gets one answer, not two."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sqlite3
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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

STATUS = "117440826670289215"  # the recorded status the recorded reply answers


@pytest.fixture
def forgetful(monkeypatch: pytest.MonkeyPatch) -> Iterator[Replay]:
    """The recorded Mastodon server, playing one that ignores Idempotency-Key and whose
    first answer to a reply is lost (the post is made; the connection drops)."""
    why = mastodon_replay.missing()
    if why:
        pytest.fail(f"Mastodon replay peer unavailable: {why}")
    original = ReplayHandler.reply
    lost: list[bool] = []

    def reply_answer_lost_once(self: ReplayHandler, body: str) -> None:
        if not lost:
            lost.append(True)

            def drop(recorded: Any) -> None:
                self.close_connection = True  # posted, but no answer goes back

            self.send_recorded = drop  # type: ignore[method-assign]
        original(self, body)

    monkeypatch.setattr(ReplayHandler, "reply", reply_answer_lost_once)
    with mastodon_replay.serve() as replay:
        replay.honour_idempotency = False
        yield replay


@pytest.mark.peer
def test_a_retry_adopts_the_reply_already_posted(forgetful: Replay, db_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("WF_OUTBOX_TOKEN", TOKEN)
    data = tomllib.loads(demo_config_path().read_text(encoding="utf-8"))
    data["sources"] = [{"name": "masto", "type": "mastodon", "base_url": forgetful.url,
                        "hashtags": ["hoot"], "token_env": "WF_OUTBOX_TOKEN", "timeout_s": 5}]  # fmt: skip
    config = parse_config(data, "forgetful server (test)")
    workflow = build_workflow(config)
    workflow.rules = dataclasses.replace(workflow.rules, retry_base_s=0.0)  # no waiting between rounds
    with StoreWriter(db_path, config, maintenance=False) as writer:
        writer.call(lambda c: add_user(c, "sam", "operator", PASSWORD, send_unapproved=True,
                                       password_hash=PASSWORD_HASH)).result(30)  # fmt: skip
        conn = sqlite3.connect(db_path)
        (mid,) = queue_items(conn, 1, network="mastodon", source="masto")
        ref = {"status_id": STATUS, "acct": "mastodonpy_test_2", "visibility": "public"}
        conn.execute("UPDATE mentions SET reply_ref = ? WHERE id = ?", (json.dumps(ref), mid))
        conn.commit()
        conn.close()
        writer.call(lambda c: workflow.claim(c, "sam", mid)).result(30)
        writer.call(lambda c: workflow.reply_direct(c, "sam", mid, "same!")).result(30)
        for _ in range(2):  # two rounds of the outbox, as `watchfloor poll` runs them
            asyncio.run(Poller(config, writer, workflow=workflow, fetch=False).run(once=True))
    assert len(forgetful.created) == 1, "the reply was posted twice"
    posts = [r for r in forgetful.requests if r["method"] == "POST"]
    assert len(posts) == 1
    looked = [r for r in forgetful.requests if r["path"] == f"/api/v1/statuses/{STATUS}/context"]
    assert looked, "the retry did not look for the reply first"
    reader = open_reader(db_path)
    state, native = reader.execute("SELECT state, sent_native_id FROM replies WHERE mention_id = ?",
                                   (mid,)).fetchone()  # fmt: skip
    assert (state, native) == ("sent", forgetful.created[0])
    trail = [(r["action"], r["after"]) for r in audit.rows(reader, mid)]
    reader.close()
    assert [a for a, _ in trail] == ["item.claim", "item.reply", "item.send", "item.requeue", "item.send",
                                     "item.sent"]
    assert trail[-1][1].get("adopted") is True
