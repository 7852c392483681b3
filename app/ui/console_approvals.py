"""Free-text replies waiting for a second person's sign-off, picked by id."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from app.ui.console_parts import PickList, plain_label
from app.workflow import console_text
from app.workflow.queries import Pending


class ApprovalsPane(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.pending: list[Pending] = []
        lay = QVBoxLayout(self)
        lay.addWidget(plain_label("Free-text replies waiting for a second person's sign-off", role="muted"))
        self.list = PickList()
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
        self.list.show_items([(p.reply_id, console_text.pending(p)) for p in pending])
