"""The room's sender: the active hub posts the replies the room's consoles approved.

The hub is the machine with the networks' credentials, so it is the one that posts; the
consoles only put replies into the room's outbox. Each round takes the replies due under
a lease (:class:`~app.room.queue.RoomOutbox`: of several senders, one posts a reply),
posts each through the source that fetched its post, with the same attempt as on one
machine (:func:`app.workflow.outbox.post`: the idempotency key, then a look for our own
reply before a retry), and records the outcome; it also frees claims gone idle and, given
the hub's cache (where it finds the stories), claims the new items that join a story
claimed in the room for its holder (:func:`app.room.stories.route_joiners`), so that goes
on when the console that claimed the story closes. When the room cannot be reached
mid-round, a reply already posted stays leased: the lease runs out and the next attempt
finds the reply posted and adopts it, so nothing goes out twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import psycopg

from app.config import Room
from app.room.connect import RoomError, connect, describe
from app.room.queue import RoomOutbox, RoomQueue, RoomSend
from app.room.stories import RoomStories
from app.sources.base import Source
from app.workflow.outbox import every, post
from app.workflow.service import QueueWorkflow
from app.workflow.story_work import StoryWork

log = logging.getLogger(__name__)

#: seconds between rounds
EVERY_S = 2.0


class RoomSender:
    def __init__(self, room: Room, station: str, sources: Mapping[str, Source],
                 client: httpx.AsyncClient, *, outbox: RoomOutbox | None = None,
                 cache: Path | None = None) -> None:  # fmt: skip
        self.room = room
        self.sources = dict(sources)
        self.client = client
        self.outbox = outbox if outbox is not None else RoomOutbox(station)
        self.queue = RoomQueue()
        #: the stories as the hub's cache has them (None: no story claims routed from here)
        self.stories = None if cache is None else RoomStories(
            self.queue, StoryWork(QueueWorkflow()), cache, station)  # fmt: skip
        self._conn: psycopg.Connection[Any] | None = None
        #: the last reason the room could not be used ("" while it can)
        self.error = ""

    def _db(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = connect(self.room, purpose="outbox")
        return self._conn

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
            self._conn = None

    async def _send(self, send: RoomSend) -> int:
        source = self.sources.get(send.source)
        if source is None:
            await asyncio.to_thread(self.outbox.mark_failed, self._db(), send.reply_id,
                                    f"the source {send.source!r} is not configured on the hub",
                                    retryable=False)  # fmt: skip
            return 0
        done = await post(source, self.client, send.reply_ref, send.text, send.idempotency_key,
                          send.attempt)  # fmt: skip
        if done.result is None:
            again = await asyncio.to_thread(self.outbox.mark_failed, self._db(), send.reply_id,
                                            done.reason, retryable=done.retryable,
                                            retry_after=done.retry_after)  # fmt: skip
            log.warning("reply %d to %s failed (%s)%s", send.reply_id, send.mention_id,
                        done.reason, "; will retry" if again else "")  # fmt: skip
            return 0
        result = done.result
        recorded = await asyncio.to_thread(self.outbox.mark_sent, self._db(), send.reply_id,
                                           result.native_id, result.url)  # fmt: skip
        log.info("reply %d to %s %s %s%s", send.reply_id, send.mention_id,
                 "found already posted as" if done.adopted else "sent as", result.native_id,
                 "" if recorded else " (its lease had passed to another sender)")  # fmt: skip
        return 1

    async def send_due(self) -> int:
        """Post what is due, free idle claims and hand the new items of a story claimed in the
        room to its holder; how many replies went out. A room that
        cannot be reached ends the round quietly (said once) and is tried again next round."""
        sent = 0
        try:
            due = await asyncio.to_thread(lambda: self.outbox.take_due(self._db()))
            for send in due:
                sent += await self._send(send)
            await asyncio.to_thread(lambda: self.queue.expire_claims(self._db()))
            if self.stories is not None:
                await asyncio.to_thread(self.stories.route_joiners, self._db())
        except (psycopg.Error, RoomError) as exc:
            if self.error != describe(exc):
                log.error("outbox: the room cannot be used (%s); replies wait", describe(exc))
            self.error = describe(exc)
            await asyncio.to_thread(self._drop)
            return sent
        self.error = ""
        return sent

    async def run(self, stop: asyncio.Event, every_s: float = EVERY_S) -> None:
        """A round every few seconds until ``stop`` is set; one failure never ends it."""
        try:
            await every(self.send_due, stop, every_s, "room outbox round")
        finally:
            await asyncio.to_thread(self._drop)
