"""Kiosk behaviour: only the admin chord closes a wall; the pointer hides when idle."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QGuiApplication, QKeySequence, QMouseEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.config import Config
from app.layouts import load_layout
from app.store.db import open_writer
from app.ui.launch import KioskCursor
from app.ui.tilebase import load_registry
from app.ui.wall import WallWindow
from app.ui.walldata import WallHub


def test_a_kiosk_wall_ignores_close_and_obeys_the_admin_chord(db_path: Path, config: Config, qtbot: QtBot) -> None:
    open_writer(db_path).close()
    hub = WallHub(db_path, config)
    w = WallWindow(tuple(load_layout("workstation").layout.screens), hub, load_registry(),
                   size=(1280, 720), kiosk=True, admin_chord="Ctrl+Alt+Shift+Q")  # fmt: skip
    qtbot.addWidget(w, before_close_func=WallWindow.shutdown)  # stop it while its hub exists
    w.show()
    w.start()
    qtbot.waitExposed(w)
    assert w.contextMenuPolicy() == Qt.ContextMenuPolicy.PreventContextMenu
    w.close()
    assert w.isVisible(), "a kiosk wall must not close like an ordinary window"
    # the chord is an application-wide shortcut (it works whichever wall has focus)
    assert w.chord.key() == QKeySequence("Ctrl+Alt+Shift+Q")
    assert w.chord.context() == Qt.ShortcutContext.ApplicationShortcut
    try:
        with qtbot.waitSignal(w.quit_requested, timeout=2000):
            w.chord.activated.emit()
    finally:
        w.shutdown()
    assert not w.isVisible()
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
