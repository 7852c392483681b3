"""Alerts and the crisis: the active alerts (picked by id), the crisis timeline, and the
red bar across the console while a crisis stands."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QListWidget, QPushButton, QVBoxLayout, QWidget

from app.ui.console_parts import plain_label
from app.workflow import console_text
from app.workflow.queries import Alert, Crisis


class AlertsPane(QWidget):
    #: the alert picked (its id), or None
    picked = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[int] = []
        self.chosen: int | None = None
        self._filling = False
        lay = QVBoxLayout(self)
        lay.addWidget(plain_label("Active alerts", role="section"))
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.list.currentRowChanged.connect(self._row_picked)
        lay.addWidget(self.list, 1)
        row = QHBoxLayout()
        self.ack_button = QPushButton("Acknowledge")
        self.accept_button = QPushButton("Declare a crisis from this alert")
        self.declare_button = QPushButton("Declare a crisis…")
        row.addWidget(self.ack_button)
        row.addWidget(self.accept_button)
        row.addStretch(1)
        row.addWidget(self.declare_button)
        lay.addLayout(row)
        lay.addWidget(plain_label("Crisis timeline", role="section"))
        self.timeline = QListWidget()
        self.timeline.setWordWrap(True)
        lay.addWidget(self.timeline, 1)

    def show_alerts(self, alerts: list[Alert], timeline: list[tuple[float, str, str, str]]) -> None:
        """A fresh read: the alert picked stays picked; acknowledged meanwhile, nothing is."""
        self.ids = [a.id for a in alerts]
        self._filling = True
        self.list.clear()
        for a in alerts:
            self.list.addItem(console_text.alert(a))
        if self.chosen in self.ids:
            self.list.setCurrentRow(self.ids.index(self.chosen))
        elif self.chosen is not None:
            self.chosen = None
            self.picked.emit(None)
        self._filling = False
        self.timeline.clear()
        for event in timeline:
            self.timeline.addItem(console_text.timeline(*event))

    def clear(self) -> None:
        self.show_alerts([], [])

    def _row_picked(self, row: int) -> None:
        if not self._filling:
            self.chosen = self.ids[row] if 0 <= row < len(self.ids) else None
            self.picked.emit(self.chosen)


class CrisisBar(QWidget):
    """The red bar across the top while a crisis stands, with the way to end it."""

    def __init__(self) -> None:
        super().__init__()
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.banner = plain_label("", role="crisis")
        self.banner.setObjectName("crisisBanner")
        self.end_button = QPushButton("End crisis…")
        row.addWidget(self.banner, 1)
        row.addWidget(self.end_button)
        self.show_crisis(None)

    def show_crisis(self, crisis: Crisis | None) -> None:
        if crisis is not None:
            self.banner.setText(console_text.crisis_banner(crisis.reason, crisis.topic))
        self.banner.setVisible(crisis is not None)
        self.end_button.setVisible(crisis is not None)
