"""The async poller: one task per source on one event loop, one shared HTTP client.

It runs under plain asyncio (``watchfloor poll``) or under qasync inside the GUI. Each
source polls at its interval with jitter; a failure backs off exponentially (honouring
``Retry-After``), is recorded as the source's health with a readable reason, and never
stops the other sources. A refused credential pauses the source for this run instead of
hammering the server. A page is handed to the store writer and the next fetch waits
for its commit, so the persisted cursor always matches what is stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from app import __version__
from app.config import Config
from app.model import Mention
from app.sources.base import (
    AuthError,
    Cursor,
    NothingToRead,
    RateLimited,
    Source,
    SourceContext,
    SourceError,
)
from app.sources.registry import build_source
from app.store.db import StoreError, describe_error, is_damage, open_reader
from app.store.ingest import load_cursors
from app.store.writer import IngestBatch, StoreWriter
from app.workflow.outbox import Outbox
from app.workflow.service import QueueWorkflow

log = logging.getLogger(__name__)


class Sender(Protocol):
    """What posts approved replies: this cache's :class:`Outbox`, or the room's sender."""

    async def send_due(self) -> int: ...

    async def run(self, stop: asyncio.Event, every_s: float = ...) -> None: ...


#: makes the sender from the sources by name and the shared HTTP client
MakeSender = Callable[[Mapping[str, Source], httpx.AsyncClient], Sender]

MAX_BACKOFF_S = 15 * 60
#: pages fetched back to back when a source says more are ready, before yielding a turn
MAX_PAGES_IN_A_ROW = 20


def source_context(config: Config) -> SourceContext:
    from app.secrets import get_secret

    return SourceContext(
        brand_accounts=list(config.brand.accounts),
        user_agent=f"watchfloor/{__version__}",
        secret=get_secret,
    )


def backoff_delay(failures: int, interval: float, retry_after: float | None = None) -> float:
    """Exponential backoff from the source's interval, capped, with ±20 % jitter."""
    base = min(MAX_BACKOFF_S, max(interval, 5.0) * 2.0 ** max(failures - 1, 0))
    delay = base * random.uniform(0.8, 1.2)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay


def describe(exc: BaseException) -> str:
    """A reason a person can read on the wall, with no secrets and no traceback."""
    if isinstance(exc, SourceError):
        return exc.reason
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return "connection refused or host unreachable"
    if isinstance(exc, httpx.HTTPError):
        return f"HTTP error: {type(exc).__name__}"
    return f"internal error: {type(exc).__name__}: {exc}"


@dataclass
class _Runner:
    source: Source
    cursor: Cursor
    failures: int = 0
    pages: int = 0
    fetched: int = 0
    stored: int = 0
    #: pages fetched whose storing failed (``poll --once`` exits non-zero on any)
    store_failures: int = 0
    last_error: str | None = None
    #: what the last stored page's source warned of (the health says "degraded" with it)
    warnings: list[str] = field(default_factory=list)
    paused: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)


class Poller:
    def __init__(
        self,
        config: Config,
        writer: StoreWriter,
        *,
        sources: Sequence[Source] | None = None,
        client: httpx.AsyncClient | None = None,
        workflow: QueueWorkflow | None = None,
        fetch: bool = True,
        sender: MakeSender | None = None,
    ) -> None:
        """``workflow`` also runs the outbox (approved replies go out through these sources);
        ``fetch=False`` runs only the outbox (a console-only process); ``sender`` makes the
        outbox instead (the room's hub: the replies are the room's, not this cache's)."""
        self.config = config
        self.writer = writer
        if sources is None:
            ctx = source_context(config)
            sources = [build_source(s, ctx) for s in config.sources if s.enabled]
        self.sources = list(sources)
        self._client = client
        self._own_client = client is None
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.runners: dict[str, _Runner] = {}
        self.workflow = workflow
        self.fetch = fetch
        self.sender = sender
        #: why polling stopped by itself (a damaged database: no retry can store anything)
        self.fatal: str | None = None

    async def run(self, *, once: bool = False, duration: float | None = None) -> None:
        """Poll until :meth:`stop`, for ``duration`` seconds, or one round (``once``)."""
        cursors = await asyncio.to_thread(self._load_cursors)
        if self._client is None:
            self._client = httpx.AsyncClient(
                headers={"User-Agent": f"watchfloor/{__version__}"},
                timeout=httpx.Timeout(20.0, connect=10.0),
                follow_redirects=True,
                limits=httpx.Limits(max_connections=20),
            )
        for source in self.sources if self.fetch else ():
            runner = _Runner(source=source, cursor=cursors.get(source.name, {}))
            self.runners[source.name] = runner
            self._tasks.append(asyncio.create_task(self._loop(runner, once), name=source.name))
        by_name = {s.name: s for s in self.sources}
        outbox: Sender | None = None
        if self.sender is not None:
            outbox = self.sender(by_name, self._client)
        elif self.workflow is not None:
            outbox = Outbox(self.writer, self.workflow, by_name, self._client)
        if outbox is not None:
            if once:
                await outbox.send_due()
            else:
                self._tasks.append(asyncio.create_task(outbox.run(self._stop), name="outbox"))
        try:
            if once:
                await asyncio.gather(*self._tasks, return_exceptions=True)
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), timeout=duration)
        finally:
            await self._shutdown()

    async def thread_context(self, mention_id: str) -> list[Mention]:
        """The posts above a stored mention in its thread, read through its source now."""

        def look() -> tuple[str, dict[str, Any]] | None:
            conn = open_reader(self.writer.db_path)
            try:
                row = conn.execute("SELECT source, reply_ref FROM mentions WHERE id = ?",
                                   (mention_id,)).fetchone()  # fmt: skip
            finally:
                conn.close()
            return (str(row[0]), json.loads(row[1] or "{}")) if row else None

        found = await asyncio.to_thread(look)
        source = next((s for s in self.sources if found and s.name == found[0]), None)
        if found is None or source is None or self._client is None:
            return []
        return await asyncio.wait_for(source.thread(self._client, found[1]),
                                      timeout=max(source.config.timeout_s, 10.0))  # fmt: skip

    async def stop(self) -> None:
        self._stop.set()

    def _load_cursors(self) -> dict[str, Cursor]:
        conn = open_reader(self.writer.db_path)
        try:
            return load_cursors(conn)
        finally:
            conn.close()

    async def _shutdown(self) -> None:
        self._stop.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        for source in self.sources:
            with contextlib.suppress(Exception):
                await source.aclose()
        if self._own_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), timeout=max(0.0, seconds))

    async def _status(self, source: Source, status: str, error: str | None, failures: int,
                      next_poll: float | None) -> None:  # fmt: skip
        fut = self.writer.record_status(
            source.name, source.type, status=status, error=error, failures=failures,
            next_poll=next_poll,
        )  # fmt: skip
        with contextlib.suppress(Exception):
            await asyncio.wrap_future(fut)

    async def _loop(self, runner: _Runner, once: bool) -> None:
        source = runner.source
        await self._status(source, "starting", None, 0, time.time())
        pages_in_a_row = 0
        round_pages = 0  # pages of this `--once` round: a source always "more" cannot hold it
        while not self._stop.is_set():
            delay = await self._poll_once(runner)
            round_pages += 1
            if once and (delay > 0 or round_pages >= MAX_PAGES_IN_A_ROW or runner.paused):
                break
            if delay <= 0:
                pages_in_a_row += 1
                if pages_in_a_row >= MAX_PAGES_IN_A_ROW:
                    pages_in_a_row = 0
                    await asyncio.sleep(0)  # let the others have a turn
                continue
            pages_in_a_row = 0
            await self._sleep(delay)
        runner.done.set()

    async def _poll_once(self, runner: _Runner) -> float:
        """Fetch and store one page; return the seconds until the next poll."""
        source = runner.source
        interval = source.interval_s
        if runner.paused:
            return 3600.0
        try:
            result = await asyncio.wait_for(
                source.fetch(self._client_or_fail(), dict(runner.cursor)),
                timeout=max(source.config.timeout_s * 3, 30.0),
            )
        except asyncio.CancelledError:
            raise
        except AuthError as exc:
            runner.failures += 1
            runner.paused = True
            fix = "the config" if isinstance(exc, NothingToRead) else "the credentials"
            reason = f"paused: {exc.reason} — fix {fix} and restart"
            runner.last_error = reason
            log.error("%s: %s", source.name, reason)
            await self._status(source, "paused", reason, runner.failures, None)
            return 3600.0
        except Exception as exc:
            runner.failures += 1
            retry_after = exc.retry_after if isinstance(exc, SourceError) else None
            delay = backoff_delay(runner.failures, interval, retry_after)
            reason = describe(exc)
            if isinstance(exc, RateLimited):
                reason = f"rate limited: {reason}"
            runner.last_error = reason
            if not isinstance(exc, SourceError | httpx.HTTPError | TimeoutError):
                log.exception("%s: unexpected failure", source.name)
            else:
                log.warning("%s: %s (retry in %.0f s)", source.name, reason, delay)
            await self._status(source, "backoff", reason, runner.failures, time.time() + delay)
            return delay
        if result.more and result.cursor == runner.cursor:
            # "more" with a cursor that did not move would read the same page again at once
            log.warning("%s: a page said more is ready but the cursor did not move; "
                        "waiting the interval", source.name)  # fmt: skip
            result.more = False
        delay = 0.0 if result.more else (
            result.next_in_s if result.next_in_s is not None else interval * random.uniform(0.9, 1.1)
        )  # fmt: skip
        runner.fetched += len(result.mentions)
        batch = IngestBatch(
            source=source.name, source_type=source.type, mentions=result.mentions,
            cursor=result.cursor, next_poll=time.time() + delay,
        )  # fmt: skip
        try:
            report = await asyncio.wrap_future(self.writer.submit(batch))
        except Exception as exc:
            runner.failures += 1
            runner.store_failures += 1
            delay = backoff_delay(runner.failures, interval)
            known = isinstance(exc, sqlite3.Error | StoreError)
            why = describe_error(exc, self.writer.db_path) if known else str(exc)
            runner.last_error = f"storing failed: {why}"
            log.error("%s: storing failed: %s", source.name, why)
            if is_damage(exc):  # every later page would fail the same way: stop, say why
                self.fatal = why
                self._stop.set()
            await self._status(source, "backoff", f"storing failed: {why}", runner.failures,
                               time.time() + delay)  # fmt: skip
            return delay
        runner.cursor = result.cursor
        runner.failures = 0
        runner.last_error = None
        runner.warnings = list(result.warnings)
        runner.pages += 1
        runner.stored += report.stored
        log.debug(
            "%s: committed page %d, %d stored so far", source.name, runner.pages, runner.stored
        )
        if result.warnings:  # the data flowed, but the health says what was refused or missing
            await self._status(source, "degraded", "; ".join(result.warnings), 0,
                               time.time() + delay)  # fmt: skip
        return delay

    def _client_or_fail(self) -> httpx.AsyncClient:
        assert self._client is not None, "run() creates the client"
        return self._client
