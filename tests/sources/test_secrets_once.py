"""Secrets are resolved once per source, in a worker thread: a locked keyring never holds
up the event loop (the GUI's, under qasync) request after request."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import pytest

from app.config import parse_config
from app.poller import Poller
from app.store.writer import StoreWriter
from tests.peers.mastodon_replay import TOKEN, Replay
from tests.sources.helpers import client

NAME = "WF_TEST_KEYRING_ONLY_TOKEN"
TAG = "fgiztsshwiaqqiztpmmjbtvmescsculuvmgjgopwoeidbcrixp"


class CountingKeyring(keyring.backend.KeyringBackend):
    """A keyring that holds one token and notes which thread asked, as a locked one would block."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[tuple[str, int]] = []

    def get_password(self, service: str, username: str) -> str | None:
        self.asked.append((username, threading.get_ident()))
        return TOKEN if (service, username) == ("watchfloor", NAME) else None

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.PasswordSetError("read-only")

    def delete_password(self, service: str, username: str) -> None:
        raise keyring.errors.PasswordDeleteError("read-only")


@pytest.fixture
def counting_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[CountingKeyring]:
    monkeypatch.delenv(NAME, raising=False)
    before = keyring.get_keyring()
    backend = CountingKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(before)


@pytest.mark.peer
def test_the_keyring_is_asked_once_and_never_on_the_event_loop(
    mastodon_peer: Replay, counting_keyring: CountingKeyring, db_path: Path
) -> None:
    config = parse_config({
        "brand": {"name": "Lumio", "accounts": ["@admin@127.0.0.1"]},
        "sources": [{"name": "masto", "type": "mastodon", "base_url": mastodon_peer.url,
                     "hashtags": [TAG], "token_env": NAME, "page_size": 10, "backfill_pages": 1,
                     "notifications": False}],
    })  # fmt: skip

    async def go() -> int:
        loop_thread = threading.get_ident()
        with StoreWriter(db_path, config, maintenance=False) as writer:
            poller = Poller(config, writer)  # the real context: environment, then keyring
            source = poller.sources[0]
            async with client() as c:
                result = await source.fetch(c, {})
                for _ in range(3):
                    result = await source.fetch(c, result.cursor)
                problems = await source.check(c)
        assert problems == []  # verify_credentials accepted the token read from the keyring
        return loop_thread

    before = len(mastodon_peer.requests)
    loop_thread = asyncio.run(go())
    asked = [name for name, _ in counting_keyring.asked if name == NAME]
    assert asked == [NAME]  # once, for five polls and a check
    assert all(thread != loop_thread for _, thread in counting_keyring.asked)
    sent = mastodon_peer.requests[before:]
    assert len(sent) >= 6 and all(r["headers"].get("Authorization") == f"Bearer {TOKEN}" for r in sent)
