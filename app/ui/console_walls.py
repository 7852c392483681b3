"""Steering the walls from the console: switch a screen's scene, clear the spotlight,
reload the layout."""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QComboBox, QFormLayout, QPushButton, QWidget

from app.layouts import LayoutError, load_layout

log = logging.getLogger(__name__)


class WallsPane(QWidget):
    def __init__(self, layout_name: str) -> None:
        super().__init__()
        lay = QFormLayout(self)
        self.screen_box = QComboBox()
        self.scene_box = QComboBox()
        self.scenes: dict[str, list[str]] = {}
        try:
            layout = load_layout(layout_name).layout
            self.scenes = {s.name: [c.name for c in s.scenes] for s in layout.screens}
        except LayoutError as exc:
            log.warning("walls tab: %s", exc)
        self.screen_box.addItems(list(self.scenes))
        self.screen_box.currentTextChanged.connect(self._fill_scenes)
        self._fill_scenes(self.screen_box.currentText())
        lay.addRow("Screen", self.screen_box)
        lay.addRow("Scene", self.scene_box)
        self.switch_button = QPushButton("Show this scene now")
        self.clear_button = QPushButton("Clear the spotlight")
        self.reload_button = QPushButton("Reload the walls' layout")
        for b in (self.switch_button, self.clear_button, self.reload_button):
            lay.addRow(b)

    def _fill_scenes(self, screen: str) -> None:
        self.scene_box.clear()
        self.scene_box.addItems(self.scenes.get(screen, []))
