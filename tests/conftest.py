"""Shared fixtures. Qt runs offscreen; every test gets its own database file."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_QUICK_BACKEND", "software")
# never read the developer's own config or database by accident
os.environ.pop("WATCHFLOOR_CONFIG", None)
os.environ.pop("WATCHFLOOR_DB", None)

from tests.peers import bluesky as bluesky_net

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "watchfloor.db"


@pytest.fixture
def demo_config():  # type: ignore[no-untyped-def]
    from app.config import load_config
    from app.resources import demo_config_path

    return load_config(demo_config_path())


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def peer_missing(reason: str) -> None:
    """A real peer that cannot start: a failure in CI (a test must not vanish there),
    a skip on a developer's machine that has not set the peers up."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: a missing peer is a failure)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def bluesky_peer() -> Iterator[bluesky_net.Network]:
    """One live PDS + AppView for the whole session (it takes seconds, not minutes)."""
    why = bluesky_net.missing()
    if why:
        peer_missing(f"Bluesky peer unavailable: {why}")
    workdir = Path(tempfile.mkdtemp(prefix="watchfloor-bsky-"))
    t0 = time.monotonic()
    try:
        with bluesky_net.network(workdir) as net:
            print(f"\nbluesky peer: up in {time.monotonic() - t0:.1f} s "
                  f"(postgres+redis {net.services_s:.1f} s)")  # fmt: skip
            yield net
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.hookimpl(hookwrapper=True, trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    """Delete the widgets a test closed now, while what they show still exists.

    pytest-qt closes a test's widgets with ``deleteLater``; a plain ``processEvents`` never
    runs deferred deletes, so they would happen inside a later test's event loop, where a
    half-destroyed plot can still be asked to paint (a segfault). Flushed here, after
    pytest-qt has closed them and before the test's fixtures (hub, writer) are torn down.
    """
    flush_deferred_deletes()
    yield
    flush_deferred_deletes()


def flush_deferred_deletes() -> None:
    import gc
    import sys

    if "PySide6.QtWidgets" not in sys.modules:
        return  # a test that never touched Qt
    from PySide6.QtCore import QCoreApplication, QEvent

    app = QCoreApplication.instance()
    if app is None:
        return
    for _ in range(3):  # a deletion can post more (children, signals)
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
        app.processEvents()
    gc.collect()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
