"""The outbox: approved replies go out through the source that fetched the post.

A reply is marked ``sending`` in the store before the network call and carries an
idempotency key, so a retry after a timeout, a crash or a second sender never posts
twice; and because some servers ignore that key, a retry first looks for our reply under
the post (:meth:`~app.sources.base.Source.find_own_reply`) and adopts the one it finds. Transient failures back off and try again by themselves; a
refusal (too long, no thread to answer in) fails at once and waits for a person.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from app.secrets import mask
from app.sources.base import (
    AuthError,
    BadResponse,
    RateLimited,
    ReplyResult,
    Source,
    SourceError,
    TransientError,
)
from app.store.writer import StoreWriter
from app.workflow import audit
from app.workflow.anchor import Checkpointer
from app.workflow.service import OutboxItem, QueueWorkflow
from app.workflow.story_work import StoryWork

log = logging.getLogger(__name__)

TABLES = ("queue", "replies", "audit", "crisis_events")
#: what a round's chores touch besides: claims gone idle, items handed to a story's operator
CHORE_TABLES = (*TABLES, "story_claims")


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, AuthError):
        return False
    return isinstance(exc, TransientError | RateLimited | BadResponse | httpx.HTTPError | TimeoutError)


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try at posting a reply: the post (or the one found already there), or why not."""

    result: ReplyResult | None
    #: the reply was found posted by an earlier attempt, not posted now
    adopted: bool = False
    #: why it failed (masked: a server's echo may quote a token), and whether to try again
    reason: str = ""
    retryable: bool = False
    retry_after: float | None = None


async def post(source: Source, client: httpx.AsyncClient, reply_ref: dict[str, Any], text: str,
               key: str, attempt: int) -> Attempt:  # fmt: skip
    """Post ``text`` under ``reply_ref`` once; from the second attempt on, look for our own
    reply first (an earlier attempt may have posted without our hearing back, and some
    servers ignore the idempotency key) and adopt the one found. Never raises for the
    network's sake: every failure is an :class:`Attempt` saying why."""
    timeout = max(source.config.timeout_s * 2, 30.0)
    try:
        adopted = None
        if attempt > 1:
            adopted = await asyncio.wait_for(source.find_own_reply(client, reply_ref, text),
                                             timeout=timeout)  # fmt: skip
        if adopted is not None:
            return Attempt(adopted, adopted=True)
        return Attempt(await asyncio.wait_for(source.reply(client, reply_ref, text, key),
                                              timeout=timeout))  # fmt: skip
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        reason = exc.reason if isinstance(exc, SourceError) else (
            "timed out" if isinstance(exc, TimeoutError | httpx.TimeoutException)
            else f"{type(exc).__name__}: {exc}"
        )  # fmt: skip
        if not isinstance(exc, SourceError | httpx.HTTPError | TimeoutError):
            log.exception("a reply under %s: unexpected failure", reply_ref)
        return Attempt(None, reason=mask(reason), retryable=_retryable(exc),
                       retry_after=exc.retry_after if isinstance(exc, SourceError) else None)  # fmt: skip


class Outbox:
    def __init__(self, writer: StoreWriter, workflow: QueueWorkflow, sources: Mapping[str, Source],
                 client: httpx.AsyncClient) -> None:  # fmt: skip
        self.writer = writer
        self.workflow = workflow
        self.sources = dict(sources)
        self.client = client
        #: signed checkpoints of the audit trail's head, written from here (the service)
        self.checkpoints = Checkpointer()

    async def send_due(self) -> int:
        """Send every reply that is due now; return how many went out."""
        items = await asyncio.wrap_future(
            self.writer.call(lambda conn: self.workflow.take_due(conn), tables=TABLES)
        )
        sent = 0
        for item in items:
            sent += await self._send(item)
        if audit.signing_key() is not None and self.checkpoints.due(time.time()):
            await asyncio.wrap_future(self.writer.call(self.checkpoints.write, tables=()))
        return sent

    async def _send(self, item: OutboxItem) -> int:
        source = self.sources.get(item.source)
        if source is None:
            await self._failed(item, f"the source {item.source!r} is not configured here", False)
            return 0
        done = await post(source, self.client, item.reply_ref, item.text, item.idempotency_key,
                          item.attempts)  # fmt: skip
        if done.result is None:
            await self._failed(item, done.reason, done.retryable, done.retry_after)
            return 0
        found, native_id, url = done.adopted, done.result.native_id, done.result.url
        await asyncio.wrap_future(self.writer.call(
            lambda conn: self.workflow.mark_sent(conn, item.reply_id, native_id, url, adopted=found),
            tables=TABLES,
        ))  # fmt: skip
        log.info("reply %d to %s %s %s", item.reply_id, item.mention_id,
                 "found already posted as" if found else "sent as", native_id)  # fmt: skip
        return 1

    async def _failed(self, item: OutboxItem, reason: str, retryable: bool,
                      retry_after: float | None = None) -> None:  # fmt: skip
        reason = mask(reason)  # an exception's text may quote what a server echoed (a token)
        again = await asyncio.wrap_future(self.writer.call(
            lambda conn: self.workflow.mark_failed(conn, item.reply_id, reason, retryable=retryable,
                                                   retry_after=retry_after),
            tables=TABLES,
        ))  # fmt: skip
        log.warning("reply %d to %s failed (%s)%s", item.reply_id, item.mention_id, reason,
                    "; will retry" if again else "")  # fmt: skip

    def _chores(self, conn: sqlite3.Connection) -> None:
        self.workflow.expire_claims(conn)
        StoryWork(self.workflow).route_joiners(conn)

    async def round(self) -> int:
        """One round: send what is due, free idle claims, hand new items of a claimed story
        to its operator; returns how many replies went out."""
        sent = await self.send_due()
        await asyncio.wrap_future(self.writer.call(self._chores, tables=CHORE_TABLES))
        return sent

    async def run(self, stop: asyncio.Event, every_s: float = 2.0) -> None:
        await every(self.round, stop, every_s, "outbox round")


async def every(round_: Callable[[], Awaitable[object]], stop: asyncio.Event, every_s: float,
                what: str) -> None:  # fmt: skip
    """``round_`` every ``every_s`` seconds until ``stop`` is set; one failure never ends it
    (an outbox, here or the room's, must go on sending after any one bad round)."""
    while not stop.is_set():
        try:
            await round_()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s failed", what)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every_s)
