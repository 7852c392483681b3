"""Alerts and the crisis: the active alerts (picked by id), the crisis timeline, and the
red bar across the console while a crisis stands."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QListWidget, QPushButton, QVBoxLayout, QWidget

from app.ui.console_parts import PickList, plain_label
from app.workflow import console_text
from app.workflow.queries import Alert, Crisis


class AlertsPane(QWidget):
    def __init__(self) -> None:
        super().__init__()
        lay = QVBoxLayout(self)
        lay.addWidget(plain_label("Active alerts", role="section"))
        self.list = PickList()
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

    @property
    def ids(self) -> list[int]:
        return self.list.ids

    def show_alerts(self, alerts: list[Alert], timeline: list[tuple[float, str, str, str]]) -> None:
        """A fresh read: the alert picked stays picked; acknowledged meanwhile, nothing is."""
        self.list.show_items([(a.id, console_text.alert(a)) for a in alerts])
        self.timeline.clear()
        for event in timeline:
            self.timeline.addItem(console_text.timeline(*event))

    def clear(self) -> None:
        self.show_alerts([], [])


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
