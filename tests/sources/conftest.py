"""Fixtures for the network sources: loopback servers and the real peers.

A peer that is not installed fails the tests that need it (never a skip): a test run that
quietly left out the real servers would say nothing about them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.peers import feeds, mastodon_replay
from tests.peers.faults import fault_server
from tests.peers.hostile import Hostile
from tests.peers.server import LoopbackServer


@pytest.fixture(scope="session")
def faults() -> Iterator[LoopbackServer]:
    with fault_server() as server:
        yield server


@pytest.fixture(scope="session")
def hostile() -> Iterator[Hostile]:
    with Hostile() as server:
        yield server


@pytest.fixture(scope="session")
def mastodon_peer() -> Iterator[mastodon_replay.Replay]:
    why = mastodon_replay.missing()
    if why:
        pytest.fail(f"Mastodon replay peer unavailable: {why}")
    with mastodon_replay.serve() as replay:
        yield replay


@pytest.fixture(scope="session")
def feed_peer() -> Iterator[feeds.FeedServer]:
    why = feeds.missing()
    if why:
        pytest.fail(f"feedparser test feeds unavailable: {why}")
    with feeds.serve() as server:
        yield server
