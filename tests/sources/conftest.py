"""Fixtures for the network sources: loopback servers and, when installed, the real peers."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.peers import bluesky, feeds, mastodon_replay
from tests.peers.faults import fault_server
from tests.peers.server import LoopbackServer


@pytest.fixture(scope="session")
def faults() -> Iterator[LoopbackServer]:
    with fault_server() as server:
        yield server


@pytest.fixture(scope="session")
def mastodon_peer() -> Iterator[mastodon_replay.Replay]:
    why = mastodon_replay.missing()
    if why:
        pytest.skip(f"Mastodon replay peer unavailable: {why}")
    with mastodon_replay.serve() as replay:
        yield replay


@pytest.fixture(scope="session")
def feed_peer() -> Iterator[feeds.FeedServer]:
    why = feeds.missing()
    if why:
        pytest.skip(f"feedparser test feeds unavailable: {why}")
    with feeds.serve() as server:
        yield server


@pytest.fixture(scope="session")
def bluesky_peer() -> Iterator[bluesky.Network]:
    """One live PDS + AppView for the whole session (it takes seconds, not minutes)."""
    why = bluesky.missing()
    if why:
        pytest.skip(f"Bluesky peer unavailable: {why}")
    workdir = Path(tempfile.mkdtemp(prefix="watchfloor-bsky-"))
    t0 = time.monotonic()
    try:
        with bluesky.network(workdir) as net:
            print(f"\nbluesky peer: up in {time.monotonic() - t0:.1f} s "
                  f"(postgres+redis {net.services_s:.1f} s)")  # fmt: skip
            yield net
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
