"""Kiosk behaviour: only the admin chord closes a wall; the pointer hides when idle."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QGuiApplication, QMouseEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.config import Config
from app.layouts import load_layout
from app.store.db import open_writer
from app.ui.launch import KioskCursor, WallSet
from app.ui.tilebase import load_registry
from app.ui.wall import WallWindow
from app.ui.walldata import WallHub


def test_a_kiosk_wall_ignores_close_and_obeys_the_admin_chord(db_path: Path, config: Config, qtbot: QtBot) -> None:
    open_writer(db_path).close()
    hub = WallHub(db_path, config)
    w = WallWindow(tuple(load_layout("workstation").layout.screens), hub, load_registry(),
                   size=(1280, 720), kiosk=True)  # fmt: skip
    qtbot.addWidget(w, before_close_func=WallWindow.shutdown)  # stop it while its hub exists
    w.show()
    w.start()
    qtbot.waitExposed(w)
    assert w.contextMenuPolicy() == Qt.ContextMenuPolicy.PreventContextMenu
    w.close()
    assert w.isVisible(), "a kiosk wall must not close like an ordinary window"
    w.shutdown()
    assert not w.isVisible()
    hub.close()


CHORD_PROBE = """
import json, sys
from pathlib import Path
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
app = QApplication([])
from app.config import load_config
from app.layouts import load_layout
from app.resources import demo_config_path
from app.ui.launch import WallSet
from app.ui.tilebase import load_registry
from app.ui.walldata import WallHub
hub = WallHub(Path(sys.argv[1]), load_config(demo_config_path()))
quits = []
walls = WallSet(app, hub, load_layout("wall-3"), load_registry(), kiosk=True,
                admin_chord="Ctrl+Alt+Shift+Q", on_quit=lambda: quits.append(1))
walls.place()
app.processEvents()
pressed = []
for w in walls.windows:
    before = len(quits)
    w.activateWindow()
    QTest.keyClick(w, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    QTest.keyClick(w, Qt.Key.Key_Escape)  # a lone key never closes a kiosk wall
    pressed.append(len(quits) - before)
print(json.dumps({"windows": len(walls.windows), "quits": pressed}))
walls.close()
hub.close()
"""


def test_one_admin_chord_closes_a_kiosk_wall_of_three_windows(tmp_path: Path) -> None:
    spec = {"screens": [
        {"name": f"wall-{i}", "x": 1920 * i, "y": 0, "width": 1920, "height": 1080,
         "logicalDpiX": 96, "logicalDpiY": 96, "dpr": 1}
        for i in range(3)
    ]}  # fmt: skip
    screens = tmp_path / "screens.json"
    screens.write_text(json.dumps(spec))
    open_writer(tmp_path / "w.db").close()
    env = {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={screens}"}
    proc = subprocess.run([sys.executable, "-c", CHORD_PROBE, str(tmp_path / "w.db")],
                          capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    # the chord pressed on any of the three walls asks to quit, exactly once
    assert result == {"windows": 3, "quits": [1, 1, 1]}


def test_a_minimised_or_hidden_kiosk_wall_comes_back(db_path: Path, config: Config, qtbot: QtBot) -> None:
    open_writer(db_path).close()
    hub = WallHub(db_path, config)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    walls = WallSet(app, hub, load_layout("workstation"), load_registry(), kiosk=True,
                    admin_chord="Ctrl+Alt+Shift+Q", on_quit=lambda: None, keep_ms=100)  # fmt: skip
    try:
        walls.place()
        (w,) = walls.windows
        qtbot.waitExposed(w)
        w.showMinimized()  # a window manager's "show desktop"
        assert w.windowState() & Qt.WindowState.WindowMinimized
        qtbot.waitUntil(lambda: w.isFullScreen() and not w.windowState() & Qt.WindowState.WindowMinimized,
                        timeout=3000)  # fmt: skip
        w.hide()  # iconified or unmapped
        qtbot.waitUntil(lambda: w.isVisible() and w.isFullScreen(), timeout=3000)
        w.showNormal()  # a window manager took it out of full screen
        qtbot.waitUntil(lambda: w.isFullScreen(), timeout=3000)
    finally:
        walls.close()
        hub.close()


def test_the_pointer_hides_when_idle_and_returns_on_movement(qtbot: QtBot) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    cursor = KioskCursor(app, idle_s=0.1)
    try:
        qtbot.waitUntil(lambda: cursor.hidden, timeout=2000)
        shape = QGuiApplication.overrideCursor()
        assert shape is not None and shape.shape() == Qt.CursorShape.BlankCursor
        move = QMouseEvent(QEvent.Type.MouseMove, QPointF(5, 5), QPointF(5, 5), Qt.MouseButton.NoButton,
                           Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)  # fmt: skip
        cursor.eventFilter(app, move)
        assert not cursor.hidden and QGuiApplication.overrideCursor() is None
        qtbot.waitUntil(lambda: cursor.hidden, timeout=2000)
    finally:
        app.removeEventFilter(cursor)
        cursor.timer.stop()
        if cursor.hidden:
            app.restoreOverrideCursor()
        cursor.deleteLater()
