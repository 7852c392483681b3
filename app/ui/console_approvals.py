"""Free-text replies waiting for a second person's sign-off, picked by id."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QListWidget, QPushButton, QVBoxLayout, QWidget

from app.ui.console_parts import plain_label
from app.workflow import console_text
from app.workflow.queries import Pending


class ApprovalsPane(QWidget):
    #: the reply picked (its id), or None
    picked = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.pending: list[Pending] = []
        self.chosen: int | None = None
        self._filling = False
        lay = QVBoxLayout(self)
        lay.addWidget(plain_label("Free-text replies waiting for a second person's sign-off", role="muted"))
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.list.currentRowChanged.connect(self._row_picked)
        lay.addWidget(self.list, 1)
        row = QHBoxLayout()
        self.approve_button = QPushButton("Approve (A)")
        self.reject_button = QPushButton("Send back…")
        row.addStretch(1)
        row.addWidget(self.reject_button)
        row.addWidget(self.approve_button)
        lay.addLayout(row)

    def show_pending(self, pending: list[Pending]) -> None:
        """A fresh read: the reply picked stays picked while it is still waiting."""
        self.pending = pending
        self._filling = True
        self.list.clear()
        for p in pending:
            self.list.addItem(console_text.pending(p))
        ids = [p.reply_id for p in pending]
        if self.chosen in ids:
            self.list.setCurrentRow(ids.index(self.chosen))
        elif self.chosen is not None:
            self.chosen = None
            self.picked.emit(None)
        self._filling = False

    def _row_picked(self, row: int) -> None:
        if not self._filling:
            self.chosen = self.pending[row].reply_id if 0 <= row < len(self.pending) else None
            self.picked.emit(self.chosen)
