"""Small pieces every part of the console uses."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QListWidget


def plain_label(text: str = "", *, role: str = "", wrap: bool = True) -> QLabel:
    """A label that never interprets markup: post text and names are hostile."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(wrap)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if role:
        label.setProperty("role", role)
    return label


class PickList(QListWidget):
    """A list whose pick is kept by id: a background re-read keeps it picked while it is
    there, and says ``picked(None)`` once it is gone (never "the first one" instead)."""

    picked = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.setWordWrap(True)
        self.ids: list[int] = []
        self.chosen: int | None = None
        self._filling = False
        self.currentRowChanged.connect(self._row_picked)

    def show_items(self, items: list[tuple[int, str]]) -> None:
        self.ids = [i for i, _ in items]
        self._filling = True
        self.clear()
        for _, text in items:
            self.addItem(text)
        if self.chosen in self.ids:
            self.setCurrentRow(self.ids.index(self.chosen))
        elif self.chosen is not None:
            self.chosen = None
            self.picked.emit(None)
        self._filling = False

    def _row_picked(self, row: int) -> None:
        if not self._filling:
            self.chosen = self.ids[row] if 0 <= row < len(self.ids) else None
            self.picked.emit(self.chosen)
