"""Fixtures for the wall: a database filled by the demo source through the real poller."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import Config, load_config, parse_config
from app.poller import Poller
from app.resources import demo_config_path
from app.store.writer import StoreWriter


def demo_filled(db: Path, config: Config, seconds: float = 4.0) -> Path:
    """Poll the demo source into ``db`` through the real pipeline: its whole history backfill
    (round after round until the source's cursor reaches the present, however fast this
    machine is), then ``seconds`` of live polling."""

    async def go() -> None:
        writer = StoreWriter(db, config).start()
        try:
            for _ in range(1000):
                poller = Poller(config, writer)
                await poller.run(once=True)
                if all(time.time() - float(r.cursor.get("until", 0)) < 60 for r in poller.runners.values()):
                    break
            else:
                raise AssertionError("the demo's backfill never reached the present")
            await Poller(config, writer).run(duration=seconds)
            await asyncio.to_thread(writer.run_maintenance)
        finally:
            await asyncio.to_thread(writer.close)

    asyncio.run(go())
    return db


@pytest.fixture(scope="session")
def wall_config() -> Config:
    """The demo config with a shorter history, so the fixture database fills in seconds."""
    import tomllib

    data = tomllib.loads(demo_config_path().read_text(encoding="utf-8"))
    data["sources"][0]["backfill_min"] = 240
    data["sources"][0]["seed"] = 7
    return parse_config(data, "demo (test)")


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory, wall_config: Config) -> Iterator[Path]:
    yield demo_filled(tmp_path_factory.mktemp("wall") / "demo.db", wall_config)


@pytest.fixture
def config() -> Config:
    return load_config(demo_config_path())


@pytest.fixture(autouse=True)
def no_leaks(request: pytest.FixtureRequest) -> Iterator[None]:
    """A wall runs for weeks: a test that leaves a window open or a thread running fails."""
    import threading

    threads = set(threading.enumerate())
    yield
    if "qtbot" not in request.fixturenames and "qapp" not in request.fixturenames:
        leaked_windows: list[str] = []
    else:
        from PySide6.QtWidgets import QApplication

        app = QApplication.instance()
        assert isinstance(app, QApplication)
        app.processEvents()
        leaked_windows = [
            type(w).__name__ for w in QApplication.topLevelWidgets() if w.isVisible()
        ]
    leaked_threads = [
        t.name for t in threading.enumerate() if t not in threads and t.is_alive()
    ]
    assert not leaked_windows, f"windows left open: {leaked_windows}"
    assert not leaked_threads, f"threads left running: {leaked_threads}"
