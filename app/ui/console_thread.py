"""The thread above a post, read once per item through its source (the poller's, on the
qasync loop), so a source being slow or down never holds up the console."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from app.model import Mention
from app.sources.base import SourceError
from app.workflow import console_text
from app.workflow.attention import bounded

#: threads kept read: the items an operator opened lately (a console runs for weeks)
KEEP_THREADS = 500

Fetcher = Callable[[str], Awaitable[list[Mention]]]


class ThreadReader:
    def __init__(self, on_read: Callable[[str], None]) -> None:
        #: reads an item's thread through its source; None: threads are not read here
        self.fetcher: Fetcher | None = None
        self._on_read = on_read
        self._got: dict[str, list[Mention] | str] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def text(self, mention_id: str) -> str:
        """What to show for the thread now; starts reading it the first time it is asked."""
        got = self._got.get(mention_id)
        if got is not None:
            return console_text.thread(got)
        if self.fetcher is None:
            return ""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return ""
        self._got[mention_id] = "Reading the thread…"
        for old in bounded(self._got, KEEP_THREADS):
            del self._got[old]
        task = loop.create_task(self._read(self.fetcher, mention_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return console_text.thread(self._got[mention_id])

    async def _read(self, fetcher: Fetcher, mention_id: str) -> None:
        try:
            self._got[mention_id] = await fetcher(mention_id)
        except Exception as exc:  # a source being down must not break the console
            reason = exc.reason if isinstance(exc, SourceError) else type(exc).__name__
            self._got[mention_id] = f"The thread could not be read: {reason}"
        self._on_read(mention_id)
