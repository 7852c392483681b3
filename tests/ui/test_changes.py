"""One change channel for the wall: this process's commits and other processes' alike."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot

from app.config import Config
from app.layouts import parse_layout
from app.store import tables as T
from app.store.db import open_writer
from app.store.writer import StoreWriter
from app.ui.tilebase import TileFrame, load_registry
from app.ui.wall import WallWindow
from app.ui.walldata import WallHub

ELSEWHERE = (
    "import sys\n"
    "from app.config import load_config\n"
    "from app.resources import demo_config_path\n"
    "from app.store.writer import StoreWriter\n"
    "w = StoreWriter(sys.argv[1], load_config(demo_config_path()), maintenance=False).start()\n"
    "w.record_status(sys.argv[2], 'demo', status='backoff', error='HTTP 503 from the server').result(10)\n"
    "w.close()\n"
)


@pytest.fixture
def wall(db_path: Path, config: Config, qtbot: QtBot) -> Iterator[tuple[WallWindow, WallHub, StoreWriter]]:
    open_writer(db_path).close()
    writer = StoreWriter(db_path, config, maintenance=False).start()
    hub = WallHub(db_path, config, throttle_ms=100)
    screen = parse_layout({"screens": [{"name": "main", "scenes": [{"name": "s", "grid": [2, 1], "tiles": [
        {"tile": "sources", "at": [0, 0]}, {"tile": "queue", "at": [1, 0]}]}]}]}).screens[0]  # fmt: skip
    w = WallWindow((screen,), hub, load_registry(), size=(1280, 720))
    qtbot.addWidget(w, before_close_func=WallWindow.shutdown)
    w.show()
    w.start()
    hub.start()
    yield w, hub, writer  # pytest-qt shuts the window down before this teardown
    hub.close()
    writer.close()


def test_another_process_commit_shows_while_this_process_keeps_writing(
    wall: tuple[WallWindow, WallHub, StoreWriter], db_path: Path, config: Config, qtbot: QtBot
) -> None:
    window, hub, writer = wall
    sources = next(t for t in window.all_tiles if type(t).__name__ == "SourcesTile")
    assert isinstance(sources, TileFrame)
    hub.refresh_all_visible()
    assert sources.empty_text  # nothing has reported yet

    def local_write() -> None:  # a console in this process, busy all the time
        writer.call(lambda c: c.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('busy', random())"),
                    tables=(T.META,))  # fmt: skip

    busy = QTimer()
    busy.timeout.connect(local_write)
    busy.start(10)
    try:
        name = config.sources[0].name
        other = subprocess.Popen([sys.executable, "-c", ELSEWHERE, str(db_path), name])
        qtbot.waitUntil(lambda: other.poll() is not None, timeout=60_000)  # the wall runs on meanwhile
        assert other.returncode == 0
        # well inside the sources tile's own period: only the change can bring it
        qtbot.waitUntil(lambda: [(r.name, r.status) for r in sources.rows] == [(name, "backoff")],  # type: ignore[attr-defined]
                        timeout=3000)  # fmt: skip
    finally:
        busy.stop()


def test_a_tile_listening_for_a_table_that_does_not_exist_is_refused(
    wall: tuple[WallWindow, WallHub, StoreWriter],
) -> None:
    _, hub, _ = wall
    tile = next(t for t in hub.tiles)

    class Deaf:
        tables = frozenset({"mentionz"})
        period_s = 0.0

        def widget(self):  # type: ignore[no-untyped-def]
            return tile.widget()

        def concerns(self, change: object) -> bool:
            return False

        def refresh(self) -> None:
            pass

        def set_stale(self, stale: bool, since: float | None) -> None:
            pass

    with pytest.raises(ValueError, match="mentionz"):
        hub.add_tile(Deaf())
