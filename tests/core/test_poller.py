"""The poller: a failing source backs off and shows why; the others go on; auth pauses."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import httpx

from app.config import Config
from app.model import Mention
from app.poller import Poller, backoff_delay
from app.sources.base import (
    AuthError,
    Cursor,
    FetchResult,
    RateLimited,
    Source,
    SourceContext,
    TransientError,
)
from app.store.writer import StoreWriter


class Counting(Source):
    """Yields one new post per fetch, numbered from its cursor."""

    type = "test"

    async def fetch(self, client: httpx.AsyncClient, cursor: Cursor) -> FetchResult:
        n = cursor.get("n", 0)
        post = Mention(network="test", native_id=f"{self.name}-{n}", source=self.name,
                       text=f"post {n} about lumio", created_at=datetime.now(UTC))  # fmt: skip
        return FetchResult([post], {"n": n + 1})


class Failing(Source):
    type = "test"

    def __init__(self, config: object, context: SourceContext, exc: Exception) -> None:
        super().__init__(config, context)
        self.exc = exc
        self.calls = 0

    async def fetch(self, client: httpx.AsyncClient, cursor: Cursor) -> FetchResult:
        self.calls += 1
        raise self.exc


def cfg(name: str, interval: float = 0.05) -> SimpleNamespace:
    return SimpleNamespace(name=name, interval_s=interval, timeout_s=5.0)


def test_backoff_grows_and_honours_retry_after() -> None:
    delays = [backoff_delay(f, 10) for f in (1, 2, 3, 4)]
    assert 8 <= delays[0] <= 12 and 64 <= delays[3] <= 96
    assert backoff_delay(1, 10, retry_after=120) >= 120
    assert backoff_delay(50, 10) <= 15 * 60 * 1.2


def test_failing_source_does_not_stop_the_others(db_path: Path, demo_config: Config) -> None:
    ctx = SourceContext()
    good = Counting(cfg("good"), ctx)
    flaky = Failing(cfg("flaky"), ctx, TransientError("server said 503"))
    limited = Failing(cfg("limited"), ctx, RateLimited("429 Too Many Requests", retry_after=600))
    denied = Failing(cfg("denied"), ctx, AuthError("401: the token was refused"))

    async def go() -> None:
        with StoreWriter(db_path, demo_config, maintenance=False) as writer:
            poller = Poller(demo_config, writer, sources=[good, flaky, limited, denied])
            await poller.run(duration=1.5)

    asyncio.run(go())
    conn = sqlite3.connect(db_path)
    state = {r[0]: r[1:] for r in conn.execute(
        "SELECT name, status, last_error, failures, next_poll, stored_total FROM source_state")}  # fmt: skip
    assert state["good"][0] == "ok" and state["good"][4] >= 5
    assert state["flaky"][0] == "backoff" and state["flaky"][1] == "server said 503"
    assert flaky.calls == 1  # backed off (≥ 5 s), no hammering within 1.5 s
    assert state["limited"][0] == "backoff" and "rate limited" in state["limited"][1]
    assert limited.calls == 1
    assert state["denied"][0] == "paused" and "token was refused" in state["denied"][1]
    assert denied.calls == 1
    (count,) = conn.execute("SELECT count(*) FROM mentions").fetchone()
    assert count == state["good"][4]


def test_restart_resumes_from_the_committed_cursor(db_path: Path, demo_config: Config) -> None:
    async def go() -> dict[str, int]:
        with StoreWriter(db_path, demo_config, maintenance=False) as writer:
            source = Counting(cfg("good"), SourceContext())
            poller = Poller(demo_config, writer, sources=[source])
            await poller.run(once=True)
            return {"pages": poller.runners["good"].pages}

    asyncio.run(go())
    asyncio.run(go())
    conn = sqlite3.connect(db_path)
    ids = sorted(r[0] for r in conn.execute("SELECT id FROM mentions"))
    assert ids == ["test:good-0", "test:good-1"]
