"""The poller with faulty network sources beside healthy ones, all against a loopback fault server."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

import pytest

from app.config import Config
from app.poller import Poller
from app.store.writer import StoreWriter
from tests.peers.server import LoopbackServer
from tests.sources.helpers import context, mastodon, rss

SECRET = "s3cret-token-value"


def test_poller_keeps_the_healthy_source_storing_while_faulty_ones_back_off(
    faults: LoopbackServer, db_path: Path, demo_config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    ctx = context({"TOKEN": SECRET})
    healthy = mastodon(f"{faults.url}/ok", name="healthy", interval_s=0.1)
    feed = rss(f"{faults.url}/ok/feed.xml", name="feed", interval_s=0.1)
    faulty = {
        "down": mastodon(f"{faults.url}/503", name="down"),
        "maint": mastodon(f"{faults.url}/maintenance", name="maint"),
        "drip": mastodon(f"{faults.url}/drip", name="drip", timeout_s=1.0),
        "limited": mastodon(f"{faults.url}/429", name="limited"),
        "denied": mastodon(f"{faults.url}/401", ctx, name="denied", token_env="TOKEN"),
        "huge": mastodon(f"{faults.url}/huge", name="huge"),
    }
    before = dict(faults.httpd.RequestHandlerClass.hits)  # type: ignore[attr-defined]

    async def go() -> None:
        with StoreWriter(db_path, demo_config, maintenance=False) as writer:
            poller = Poller(demo_config, writer, sources=[healthy, feed, *faulty.values()])
            await poller.run(duration=3.0)

    with caplog.at_level(logging.DEBUG):
        asyncio.run(go())
    conn = sqlite3.connect(db_path)
    state = {r[0]: r[1:] for r in conn.execute(
        "SELECT name, status, last_error, stored_total FROM source_state")}  # fmt: skip
    assert state["healthy"][0] == "ok" and state["healthy"][2] >= 5
    assert state["feed"][0] == "ok" and state["feed"][2] == 1
    assert state["down"][:2] == ("backoff", state["down"][1]) and "503" in state["down"][1]
    assert "HTML page" in state["maint"][1]
    assert "timed out" in state["drip"][1]
    assert state["limited"][0] == "backoff" and "429" in state["limited"][1]
    assert state["denied"][0] == "paused" and "access token is invalid" in state["denied"][1]
    assert "more than" in state["huge"][1]
    hits = faults.httpd.RequestHandlerClass.hits  # type: ignore[attr-defined]
    for fault in ("503", "maintenance", "429", "401", "huge"):
        assert hits.get(fault, 0) - before.get(fault, 0) == 1, fault  # backed off: no hammering
    (stored,) = conn.execute("SELECT count(*) FROM mentions").fetchone()
    (distinct,) = conn.execute("SELECT count(DISTINCT id) FROM mentions").fetchone()
    assert stored == distinct == state["healthy"][2] + state["feed"][2]
    everything = "\n".join(r.getMessage() for r in caplog.records)
    dumped = "\n".join(str(row) for row in conn.iterdump())
    assert SECRET not in everything and SECRET not in dumped
