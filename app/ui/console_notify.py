"""Calling for attention: the attention policy's messages (app.workflow.attention) as a
desktop notice, the taskbar's alert and a sound."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QWidget

from app.config import Console
from app.workflow.attention import tray_text


class Notifier:
    def __init__(self, window: QWidget, settings: Console) -> None:
        self.window = window
        self.settings = settings
        self.tray: QSystemTrayIcon | None = None
        self._effect: object | None = None

    def start(self) -> None:
        """Signed in: a tray icon, where the desktop has a tray and notices are wanted."""
        if QSystemTrayIcon.isSystemTrayAvailable() and self.settings.notify:
            self.tray = QSystemTrayIcon(self.window)
            self.tray.setIcon(self.window.windowIcon())
            self.tray.show()

    def stop(self) -> None:
        if self.tray is not None:
            self.tray.hide()
            self.tray.deleteLater()
            self.tray = None

    def deliver(self, message: str) -> None:
        if not self.settings.notify:
            return
        if self.tray is not None:
            self.tray.showMessage("watchfloor", tray_text(message),
                                  QSystemTrayIcon.MessageIcon.Warning, 8000)  # fmt: skip
        QApplication.alert(self.window, 0)
        self._sound()

    def _sound(self) -> None:
        if not self.settings.sound:
            return
        try:
            from PySide6.QtCore import QUrl
            from PySide6.QtMultimedia import QSoundEffect
        except ImportError:
            QApplication.beep()
            return
        if self._effect is None:
            effect = QSoundEffect(self.window)
            effect.setSource(QUrl.fromLocalFile(self.settings.sound))
            self._effect = effect
        assert isinstance(self._effect, QSoundEffect)
        self._effect.play()
