"""Small builders shared by the source tests."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, TypeVar

import httpx

from app.config import BlueskySourceConfig, Config, MastodonSourceConfig, RssSourceConfig
from app.poller import Poller
from app.sources.base import Source, SourceContext
from app.sources.bluesky import BlueskySource
from app.sources.mastodon import MastodonSource
from app.sources.rss import RssSource
from app.store.writer import StoreWriter

T = TypeVar("T")


def run(coro: Awaitable[T]) -> T:
    async def go() -> T:
        return await coro

    return asyncio.run(go())


def context(secrets: dict[str, str] | None = None, *, accounts: list[str] | None = None,
            max_body_bytes: int = 1024 * 1024) -> SourceContext:  # fmt: skip
    table = dict(secrets or {})
    return SourceContext(brand_accounts=accounts or [], max_body_bytes=max_body_bytes,
                         secret=table.get)  # fmt: skip


def mastodon(base_url: str, ctx: SourceContext | None = None, **kw: Any) -> MastodonSource:
    opts: dict[str, Any] = {"name": "masto", "type": "mastodon", "base_url": base_url,
                            "hashtags": ["lumio"], "notifications": False, "timeout_s": 2.0,
                            "backfill_pages": 1}  # fmt: skip
    opts.update(kw)
    return MastodonSource(MastodonSourceConfig(**opts), ctx or context())


def bluesky(base_url: str, ctx: SourceContext | None = None, **kw: Any) -> BlueskySource:
    opts: dict[str, Any] = {"name": "bsky", "type": "bluesky", "base_url": base_url,
                            "queries": ["lumio"], "timeout_s": 2.0}  # fmt: skip
    opts.update(kw)
    return BlueskySource(BlueskySourceConfig(**opts), ctx or context())


def rss(url: str, ctx: SourceContext | None = None, **kw: Any) -> RssSource:
    opts: dict[str, Any] = {"name": "feed", "type": "rss", "url": url, "timeout_s": 2.0}
    opts.update(kw)
    return RssSource(RssSourceConfig(**opts), ctx or context())


def client() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=httpx.Timeout(20.0, connect=5.0))


def poll_once(db_path: Path, config: Config, *sources: Source) -> dict[str, tuple[Any, ...]]:
    """One round of the real poller and store writer; each source's (status, last_error, stored)."""

    async def go() -> None:
        with StoreWriter(db_path, config, maintenance=False) as writer:
            await Poller(config, writer, sources=list(sources)).run(once=True)

    asyncio.run(go())
    conn = sqlite3.connect(db_path)
    try:
        return {r[0]: r[1:] for r in conn.execute(
            "SELECT name, status, last_error, stored_total FROM source_state")}  # fmt: skip
    finally:
        conn.close()
