"""The set of wall windows: re-placed when monitors change, rebuilt on a reload command."""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app import wallcontrol
from app.config import Config
from app.layouts import layout_file, load_layout
from app.store.db import open_writer, transaction
from app.ui.launch import WallSet
from app.ui.tilebase import load_registry
from app.ui.walldata import WallHub


def _wallset(db_path: Path, config: Config, layout: str) -> tuple[WallSet, WallHub]:
    open_writer(db_path).close()
    hub = WallHub(db_path, config, throttle_ms=50)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    walls = WallSet(app, hub, load_layout(layout), load_registry(), kiosk=False,
                    admin_chord="Ctrl+Alt+Shift+Q", on_quit=lambda: None)  # fmt: skip
    walls.place()
    hub.start()
    return walls, hub


def test_a_monitor_change_places_the_windows_again(db_path: Path, config: Config, qtbot: QtBot) -> None:
    walls, hub = _wallset(db_path, config, "wall-3")
    try:
        first = list(walls.windows)
        assert len(first) == 1  # one virtual screen: every layout screen rotates on it
        assert len(first[0].rotation) == 5
        QGuiApplication.instance().screenAdded.emit(QGuiApplication.primaryScreen())  # type: ignore[union-attr]
        qtbot.waitUntil(lambda: walls.windows and walls.windows[0] is not first[0], timeout=3000)
        assert len(walls.windows) == 1 and len(walls.windows[0].rotation) == 5
    finally:
        walls.close()
        hub.close()


def test_a_reload_command_rereads_the_layout(db_path: Path, config: Config, qtbot: QtBot, tmp_path: Path) -> None:
    mine = tmp_path / "mine.toml"
    shutil.copy(layout_file("workstation"), mine)
    walls, hub = _wallset(db_path, config, str(mine))
    try:
        assert [r.scene.name for r in walls.windows[0].rotation] == ["desk"]
        mine.write_text(mine.read_text().replace('name = "desk"', 'name = "desk-2"'))
        conn = open_writer(db_path)
        with transaction(conn):
            wallcontrol.issue(conn, "reload", by="it")
        conn.close()
        qtbot.waitUntil(lambda: [r.scene.name for r in walls.windows[0].rotation] == ["desk-2"], timeout=3000)
    finally:
        walls.close()
        hub.close()
