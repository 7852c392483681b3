"""Mastodon-API servers that differ from Mastodon, through the real poller, store and doctor:
400 for a bad token, a search that never finds anything, timelines that answer nothing
for min_id, Idempotency-Key ignored, and private posts marked private."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import Config
from app.sources.base import FetchResult, ReplyResult
from tests.peers import mastodon_replay
from tests.peers.hostile import Hostile
from tests.peers.mastodon_replay import TOKEN, Replay
from tests.sources.helpers import client, context, mastodon, poll_once, run

REPO = Path(__file__).resolve().parents[2]
SECRET = "brand-token-9c1e77"




def test_400_invalid_bearer_token_pauses_with_the_token_hint(
    hostile: Hostile, db_path: Path, demo_config: Config
) -> None:
    source = mastodon(f"{hostile.url}/badtoken", context({"WF_TOK": SECRET}), token_env="WF_TOK")
    status, error, _ = poll_once(db_path, demo_config, source)["masto"]
    assert status == "paused"
    assert "400 Bad Request" in error and "Invalid Bearer token" in error
    assert "check the access token in WF_TOK" in error


def test_a_search_that_never_finds_anything_is_said_in_the_health(
    hostile: Hostile, db_path: Path, demo_config: Config
) -> None:
    source = mastodon(f"{hostile.url}/nosearch", hashtags=["lumio"], queries=["lumio battery"])
    status, error, _ = poll_once(db_path, demo_config, source)["masto"]
    assert status == "degraded"  # the hashtag's posts were stored; the health says the rest
    assert "search returns nothing on this server (query 'lumio battery'" in error


def test_a_server_that_answers_nothing_for_min_id_is_read_by_since_id(hostile: Hostile) -> None:
    source = mastodon(f"{hostile.url}/nosearch", hashtags=["lumio"])

    async def go() -> list[FetchResult]:
        async with client() as c:
            first = await source.fetch(c, {})
            second = await source.fetch(c, first.cursor)
            return [first, second, await source.fetch(c, second.cursor)]

    first, second, third = run(go())
    assert len(first.mentions) == 2
    newest_first = max(int(m.native_id) for m in first.mentions)
    # min_id gave nothing, the newest page had more: the new posts come, and it says so
    assert [int(m.native_id) for m in second.mentions] and all(
        int(m.native_id) > newest_first for m in second.mentions)  # fmt: skip
    assert any("answers nothing for min_id" in w for w in second.warnings)
    assert second.cursor["streams"]["tag:lumio"]["paging"] == "since_id"
    assert [int(m.native_id) for m in third.mentions]  # later polls go on delivering


def test_doctor_probes_hashtags_min_id_notifications_and_search(hostile: Hostile, tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[brand]\nname = "Lumio"\n[[sources]]\nname = "odd"\ntype = "mastodon"\n'
        f'base_url = "{hostile.url}/nosearch"\nhashtags = ["lumio"]\nqueries = ["lumio battery"]\n'
        'token_env = "WF_ODD_TOKEN"\n'
    )
    env = {**os.environ, "WF_ODD_TOKEN": SECRET, "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
           "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_STATE_HOME": str(tmp_path / "state")}  # fmt: skip
    proc = subprocess.run([sys.executable, "-m", "app", "doctor", "--headless", "--config", str(cfg),
                           "--db", str(tmp_path / "d.db")], capture_output=True, text=True,
                          env=env, timeout=120, cwd=REPO)  # fmt: skip
    out = proc.stdout
    assert "ok   source odd: " in out and "token accepted" in out
    assert "ok   source odd: hashtag #lumio: 2 recent posts" in out
    assert "note source odd: hashtag #lumio: this server answers nothing for min_id" in out
    assert "ok   source odd: notifications: readable" in out
    assert "FAIL source odd: search returns nothing on this server ('lumio battery'" in out
    assert proc.returncode == 1 and SECRET not in out


@pytest.fixture
def forgetful_replay() -> Iterator[Replay]:
    """A fresh replay of the recorded server, playing one that ignores Idempotency-Key."""
    why = mastodon_replay.missing()
    if why:
        pytest.fail(f"Mastodon replay peer unavailable: {why}")
    with mastodon_replay.serve() as replay:
        replay.honour_idempotency = False
        yield replay


@pytest.mark.peer
def test_our_reply_is_found_in_the_context_before_a_retry(forgetful_replay: Replay) -> None:
    """The outbox's guard against servers that ignore Idempotency-Key: look, then adopt."""
    src = mastodon(forgetful_replay.url, context({"MASTO": TOKEN}), token_env="MASTO")
    ref = {"status_id": "117440826670289215", "acct": "mastodonpy_test_2", "visibility": "public"}

    async def go() -> tuple[ReplyResult | None, ReplyResult, ReplyResult | None, ReplyResult | None]:
        async with client() as c:
            before = await src.find_own_reply(c, ref, "same!")
            sent = await src.reply(c, ref, "same!", "key-1")  # its answer "timed out"
            found = await src.find_own_reply(c, ref, "same!")
            other = await src.find_own_reply(c, ref, "something else")
            return before, sent, found, other

    before, sent, found, other = run(go())
    assert before is None and other is None
    assert found is not None and found.native_id == sent.native_id  # adopted, not posted again
    assert len(forgetful_replay.created) == 1
    asked = [r for r in forgetful_replay.requests if r["path"].endswith("/context")]
    assert asked and all(r["headers"].get("Authorization") == f"Bearer {TOKEN}" for r in asked)


@pytest.mark.peer
def test_direct_and_followers_only_posts_are_stored_private(
    hostile: Hostile, db_path: Path, demo_config: Config
) -> None:
    source = mastodon(f"{hostile.url}/dm", context({"T": SECRET}), token_env="T",
                      hashtags=["lumio"], notifications=True)  # fmt: skip
    assert poll_once(db_path, demo_config, source)["masto"][0] == "ok"
    conn = sqlite3.connect(db_path)
    rows = dict(conn.execute("SELECT json_extract(reply_ref, '$.visibility'), private FROM mentions"))
    conn.close()
    assert rows == {"direct": 1, "private": 1, "public": 0}
