"""The interface every network connector implements, and the errors the poller understands.

A source fetches one page at a time and returns normalised mentions plus the cursor to
persist; the poller owns timing, backoff and health, the store owns persistence. The
cursor is committed in the same transaction as the mentions it led to, so a restart
resumes exactly where the last commit stopped and re-fetching never duplicates.
"""

from __future__ import annotations

import abc
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx

from app.model import Mention

log = logging.getLogger(__name__)

Cursor = dict[str, Any]


class SourceError(Exception):
    """A failure the poller turns into health and backoff; ``reason`` is shown on the wall."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class AuthError(SourceError):
    """Credentials missing or refused: the source pauses until its config changes."""


class RateLimited(SourceError):
    """The server asked us to slow down; ``retry_after`` seconds are honoured."""


class TransientError(SourceError):
    """Timeouts, 5xx, refused connections: retry with exponential backoff."""


class BadResponse(SourceError):
    """Malformed, oversized or unexpected bodies: back off, keep the cursor."""


@dataclass(slots=True)
class FetchResult:
    mentions: list[Mention]
    cursor: Cursor
    #: another page is ready now: poll again without waiting the interval
    more: bool = False
    #: a source may ask for its next poll sooner or later than its interval
    next_in_s: float | None = None


@dataclass(slots=True)
class ReplyResult:
    native_id: str
    url: str = ""


@dataclass(slots=True)
class SourceContext:
    """What a source may know about the room: our brand accounts and how to read secrets."""

    brand_accounts: list[str] = field(default_factory=list)
    user_agent: str = "watchfloor"
    max_body_bytes: int = 8 * 1024 * 1024
    secret: Callable[[str], str | None] = field(default=lambda name: os.environ.get(name))


class Source(abc.ABC):
    """A network connector. Subclasses set ``type`` and implement :meth:`fetch`."""

    type: ClassVar[str]

    def __init__(self, config: Any, context: SourceContext) -> None:
        self.config = config
        self.name: str = config.name
        self.context = context

    @property
    def interval_s(self) -> float:
        return float(self.config.interval_s)

    @abc.abstractmethod
    async def fetch(self, client: httpx.AsyncClient, cursor: Cursor) -> FetchResult:
        """Fetch the next page after ``cursor``; raise a :class:`SourceError` on failure."""

    async def check(self, client: httpx.AsyncClient) -> list[str]:
        """Problems `doctor` should report (unreachable, credentials refused); none by default."""
        return []

    async def reply(
        self,
        client: httpx.AsyncClient,
        reply_ref: dict[str, Any],
        text: str,
        idempotency_key: str,
    ) -> ReplyResult:
        """Post ``text`` as a reply in the thread ``reply_ref`` names."""
        raise SourceError(f"{self.type} sources cannot reply")

    async def thread(self, client: httpx.AsyncClient, reply_ref: dict[str, Any]) -> list[Mention]:
        """The posts above this one in its thread, oldest first (the console's context)."""
        return []

    def reply_limit(self) -> int | None:
        """The network's length limit for a reply (characters or graphemes), if known."""
        return None

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release per-source resources (sessions); the shared client is closed by the poller."""
