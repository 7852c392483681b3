"""Hostile servers against the real poller and CLI: no credential leaves base_url, no echoed
secret is stored or printed, no compressed body inflates past the cap."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from app.config import Config
from app.sources.base import Source
from tests.peers.hostile import BOMB_SIZE, Hostile, bomb
from tests.sources.helpers import bluesky, context, mastodon, poll_once, rss

SECRET = "s3cret-brand-token-4f9a"
REPO = Path(__file__).resolve().parents[2]




def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "cfg"), "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_STATE_HOME": str(tmp_path / "state"), "WF_SECURITY_TOKEN": SECRET}  # fmt: skip
    env.pop("WATCHFLOOR_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True,
                          env=env, timeout=120, cwd=REPO)  # fmt: skip


def mastodon_config(tmp_path: Path, base_url: str, **extra: str) -> Path:
    lines = [f'{k} = {v}' for k, v in extra.items()]
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[brand]\nname = "Lumio"\naccounts = ["@lumio@127.0.0.1"]\n'
        '[[topics]]\nname = "lumio"\nquery = "lumio"\n'
        f'[[sources]]\nname = "masto"\ntype = "mastodon"\nbase_url = "{base_url}"\n'
        'token_env = "WF_SECURITY_TOKEN"\nhashtags = ["lumio"]\n' + "\n".join(lines) + "\n"
    )
    return cfg


# ── credentials stay with base_url ──────────────────────────────────────────────────


def test_a_next_page_link_to_another_origin_is_refused_and_said_in_the_health(
    hostile: Hostile, tmp_path: Path
) -> None:
    cfg = mastodon_config(tmp_path, f"{hostile.url}/foreign-link", page_size="2",
                          backfill_pages="3", notifications="false")  # fmt: skip
    db = tmp_path / "w.db"
    before = len(hostile.collector.requests)
    proc = cli(tmp_path, "poll", "--once", "--config", str(cfg), "--db", str(db))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert hostile.collector.requests[before:] == []  # not even asked, let alone with the token
    conn = sqlite3.connect(db)
    status, error, stored = conn.execute(
        "SELECT status, last_error, stored_total FROM source_state WHERE name = 'masto'").fetchone()
    conn.close()
    assert status == "degraded"
    assert f"refused the next-page link of tag:lumio to http://127.0.0.1:{hostile.collector.url.rsplit(':', 1)[1]}" in error
    assert stored == 2  # the page from base_url is kept


@pytest.mark.parametrize("kind", ["mastodon", "bluesky", "rss-with-userinfo"])
def test_a_redirect_to_another_origin_never_carries_credentials(
    hostile: Hostile, db_path: Path, demo_config: Config, kind: str
) -> None:
    ctx = context({"TOKEN": SECRET})
    base = f"{hostile.url}/redirect"
    if kind == "mastodon":
        source: Source = mastodon(base, ctx, token_env="TOKEN")
    elif kind == "bluesky":
        source = bluesky(base, ctx, handle="lumio.test", password_env="TOKEN")
    else:
        source = rss(base.replace("http://", f"http://feed:{SECRET}@") + "/feed.xml", ctx)
    before = len(hostile.collector.requests)
    state = poll_once(db_path, demo_config, source)
    sent = hostile.collector.requests[before:]
    assert all(SECRET not in str(r) for r in sent)  # no header, no body, no userinfo
    assert sent == []
    status, error, _ = state[source.name]
    assert status == "backoff"
    assert "refused to send credentials to http://127.0.0.1:" in error
    assert f"the configured server {base.split('/redirect')[0]}" in error


def test_a_public_feed_may_move_to_another_origin(hostile: Hostile, db_path: Path,
                                                   demo_config: Config) -> None:  # fmt: skip
    before = len(hostile.collector.requests)
    poll_once(db_path, demo_config, rss(f"{hostile.url}/redirect/feed.xml"))
    assert len(hostile.collector.requests) == before + 1  # followed: no credentials to protect


def test_one_servers_cookies_never_follow_a_redirect_to_another(hostile: Hostile, db_path: Path,
                                                                 demo_config: Config) -> None:  # fmt: skip
    before = len(hostile.collector.requests)
    state = poll_once(db_path, demo_config, rss(f"{hostile.url}/cookie-redirect/feed.xml"))
    sent = hostile.collector.requests[before:]
    assert state["feed"][0] == "ok" and len(sent) == 1  # the public feed was followed
    assert "hostile-cookie-51d2" not in str(sent[0]["headers"])


# ── secrets in error text ───────────────────────────────────────────────────────────


@pytest.mark.parametrize("fault", ["echo", "echo500"])
def test_an_echoed_token_is_masked_in_the_database_and_in_doctor(hostile: Hostile, tmp_path: Path,
                                                                 fault: str) -> None:  # fmt: skip
    cfg = mastodon_config(tmp_path, f"{hostile.url}/{fault}", notifications="false")
    db = tmp_path / "w.db"
    poll = cli(tmp_path, "poll", "--once", "--config", str(cfg), "--db", str(db))
    doctor = cli(tmp_path, "doctor", "--headless", "--config", str(cfg), "--db", str(db))
    conn = sqlite3.connect(db)
    (error,) = conn.execute("SELECT last_error FROM source_state WHERE name = 'masto'").fetchone()
    dumped = "\n".join(conn.iterdump())
    conn.close()
    assert ("401 Unauthorized" if fault == "echo" else "500 Internal Server Error") in error
    assert "[secret]" in error  # the echo was there, and was blanked
    for text in (dumped, poll.stdout, poll.stderr, doctor.stdout, doctor.stderr):
        assert SECRET not in text
    assert doctor.returncode == 1 and "source masto:" in doctor.stdout


# ── decompression bombs ─────────────────────────────────────────────────────────────


@pytest.mark.parametrize("codings", ["gzip+gzip", "gzip", "deflate", "deflate+gzip"])
def test_a_compressed_bomb_stops_at_the_cap_while_inflating(
    hostile: Hostile, db_path: Path, demo_config: Config, codings: str
) -> None:
    bomb(codings.split("+"))  # built before the poll: the server answers at once
    feed = rss(f"{hostile.url}/bomb-{codings}/feed.xml", name="bomb")  # 1 MiB cap (helpers)
    neighbour = rss(f"{hostile.url}/redirect/feed.xml", name="neighbour")
    tracemalloc.start()
    try:
        state = poll_once(db_path, demo_config, feed, neighbour)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    status, error, _ = state["bomb"]
    assert status == "backoff"
    assert "inflates past the 1,048,576-byte cap" in error and "stopped inflating" in error
    assert peak < 24 * 1024 * 1024 < BOMB_SIZE  # bounded by the cap, not by the bomb
    assert state["neighbour"][0] == "ok"  # every other source goes on


def test_an_encoding_we_did_not_ask_for_is_refused(hostile: Hostile, db_path: Path,
                                                   demo_config: Config) -> None:  # fmt: skip
    state = poll_once(db_path, demo_config, rss(f"{hostile.url}/brotli/feed.xml", name="br"))
    assert state["br"][0] == "backoff"
    assert "sent a body in an encoding we did not ask for ('br')" in state["br"][1]
    assert hostile.server.accept_encoding == "gzip, deflate"  # type: ignore[attr-defined]


def test_hostile_markup_in_a_post_is_stored_as_plain_words(hostile: Hostile, db_path: Path,
                                                           demo_config: Config) -> None:  # fmt: skip
    poll_once(db_path, demo_config, mastodon(f"{hostile.url}/richtext"))
    conn = sqlite3.connect(db_path)
    text, warning = conn.execute("SELECT text, content_warning FROM mentions").fetchone()
    conn.close()
    assert text == "look bold click red"  # no tag, no address to fetch, no script
    assert warning == "<i>cw</i>"  # Mastodon's spoiler text is plain already: kept literally
