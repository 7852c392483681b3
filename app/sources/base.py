"""The interface every network connector implements, and the errors the poller understands.

A source fetches one page at a time and returns normalised mentions plus the cursor to
persist; the poller owns timing, backoff and health, the store owns persistence. The
cursor is committed in the same transaction as the mentions it led to, so a restart
resumes exactly where the last commit stopped and re-fetching never duplicates.
"""

from __future__ import annotations

import abc
import asyncio
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import httpx

from app.model import Mention
from app.secrets import mask, remember

log = logging.getLogger(__name__)

Cursor = dict[str, Any]


class SourceError(Exception):
    """A failure the poller turns into health and backoff; ``reason`` is shown on the wall.

    The reason is masked here, where every source failure is born: a server that echoes
    our token in its error body cannot get it into the database, the wall or ``doctor``.
    """

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        reason = mask(reason)
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class AuthError(SourceError):
    """Credentials missing or refused: the source pauses until its config changes."""


class NothingToRead(AuthError):
    """A source configured so that it can read nothing: paused, like a refused credential,
    until its config changes (polling it would only ever say "0 new")."""


class RateLimited(SourceError):
    """The server asked us to slow down; ``retry_after`` seconds are honoured."""


class TransientError(SourceError):
    """Timeouts, 5xx, refused connections: retry with exponential backoff."""


class BadResponse(SourceError):
    """Malformed, oversized or unexpected bodies: back off, keep the cursor."""


class ForeignOrigin(BadResponse):
    """A link or redirect led away from the configured server: credentials never follow it."""


@dataclass(slots=True)
class FetchResult:
    mentions: list[Mention]
    cursor: Cursor
    #: another page is ready now: poll again without waiting the interval
    more: bool = False
    #: a source may ask for its next poll sooner or later than its interval
    next_in_s: float | None = None
    #: what went wrong without stopping the poll (a refused link, a search that finds
    #: nothing on this server): the source's health says so while the data still flows
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Finding:
    """One line of what ``doctor`` found out about a source: ok, a note, or a problem."""

    level: Literal["ok", "note", "bad"]
    text: str


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


#: a secret not found is looked up again after this long (IT may unlock or fill the keyring)
SECRET_RETRY_S = 300.0


class Source(abc.ABC):
    """A network connector. Subclasses set ``type`` and implement :meth:`fetch`."""

    type: ClassVar[str]
    #: config keys that name this source's secrets
    secret_keys: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config: Any, context: SourceContext) -> None:
        self.config = config
        self.name: str = config.name
        self.context = context
        self._secrets: dict[str, str | None] = {}
        self._secrets_at = -SECRET_RETRY_S

    async def resolve_secrets(self) -> None:
        """Look the source's secrets up once, in a worker thread, and keep them in memory.

        A keyring lookup can block for as long as the keyring stays locked; on the GUI's
        event loop that would freeze every wall, so it never happens per request there.
        Secrets not found are looked up again after :data:`SECRET_RETRY_S`.
        """
        names = [n for k in self.secret_keys if (n := getattr(self.config, k, None))]
        if not names:
            return
        stale = time.monotonic() - self._secrets_at > SECRET_RETRY_S
        missing = [n for n in names if n not in self._secrets or (stale and not self._secrets[n])]
        if not missing:
            return
        lookup = self.context.secret
        found = await asyncio.to_thread(lambda: {n: lookup(n) for n in missing})
        for value in found.values():
            remember(value)
        self._secrets.update(found)
        self._secrets_at = time.monotonic()

    def secret(self, name: str | None) -> str | None:
        """A secret resolved by :meth:`resolve_secrets` (never a lookup on the calling thread)."""
        return self._secrets.get(name) if name else None

    @property
    def interval_s(self) -> float:
        return float(self.config.interval_s)

    @abc.abstractmethod
    async def fetch(self, client: httpx.AsyncClient, cursor: Cursor) -> FetchResult:
        """Fetch the next page after ``cursor``; raise a :class:`SourceError` on failure."""

    async def check(self, client: httpx.AsyncClient) -> list[str]:
        """Problems `doctor` should report (unreachable, credentials refused); none by default."""
        return []

    async def probe(self, client: httpx.AsyncClient) -> list[Finding]:
        """What ``doctor`` says of this source: :meth:`check`'s problems, or what works."""
        problems = await self.check(client)
        if problems:
            return [Finding("bad", p) for p in problems]
        return [Finding("ok", "reachable")]

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

    async def find_own_reply(
        self, client: httpx.AsyncClient, reply_ref: dict[str, Any], text: str
    ) -> ReplyResult | None:
        """Our reply already posted under ``reply_ref`` with this text, if the network shows one.

        The outbox asks before retrying a send whose answer was lost: some servers ignore
        idempotency keys, and adopting the reply found is how it avoids posting twice.
        """
        return None

    def reply_limit(self) -> int | None:
        """The network's length limit for a reply (characters or graphemes), if known."""
        return None

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release per-source resources (sessions); the shared client is closed by the poller."""
