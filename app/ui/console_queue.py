"""The queue: its filter bar and the table of items, most urgent first.

The pane turns the filter bar into a :class:`~app.workflow.queries.QueueFilter` and says
which item is selected; it reads nothing itself (the window's worker does).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.config import Config
from app.ui.console_model import SORT_KEYS, QueueModel
from app.ui.console_parts import plain_label
from app.workflow.queries import QueueFilter, QueueRow
from app.workflow.states import OPEN

STATE_FILTERS: list[tuple[str, frozenset[str]]] = [
    ("Open", OPEN),
    ("Waiting for a claim", frozenset({"new"})),
    ("In progress", frozenset({"claimed", "draft"})),
    ("Awaiting approval", frozenset({"awaiting_approval"})),
    ("Going out", frozenset({"approved", "sending"})),
    ("Failed", frozenset({"failed"})),
    ("Escalated", frozenset({"escalated"})),
    ("Sent", frozenset({"sent"})),
    ("Dismissed", frozenset({"dismissed"})),
    ("Everything", frozenset()),
]
AGE_FILTERS: list[tuple[str, float | None]] = [
    ("Any age", None), ("Last hour", 60), ("Last 4 hours", 240), ("Last 24 hours", 1440),
]  # fmt: skip


class QueuePane(QWidget):
    #: the filter or the order changed: re-read the queue
    changed = Signal()
    #: the selected item's id, or None
    selected = Signal(object)

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.filter = QueueFilter()
        #: the signed-in user's name ("Mine" in the assignee filter)
        self.me = ""
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(self._filter_bar(config))
        lay.addWidget(self._table(config), 1)

    def _filter_bar(self, config: Config) -> QVBoxLayout:
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search posts and authors  (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(200)
        self.search.textChanged.connect(lambda _: self._filters_changed())
        self.state_box = QComboBox()
        for label, _ in STATE_FILTERS:
            self.state_box.addItem(label)
        self.priority_box = QComboBox()
        self.priority_box.addItems(["Any priority", "P1 urgent", "P2 high", "P3 normal", "P4 low"])
        self.network_box = QComboBox()
        self.network_box.addItem("Any network", "")
        for n in sorted({s.type for s in config.sources} | {"demo"}):
            self.network_box.addItem(n, n)
        self.topic_box = QComboBox()
        self.topic_box.addItem("Any topic", "")
        for t in config.topics:
            self.topic_box.addItem(t.name, t.name)
        self.assignee_box = QComboBox()
        self.assignee_box.addItems(["Anyone", "Unclaimed", "Mine"])
        self.age_box = QComboBox()
        for label, _ in AGE_FILTERS:
            self.age_box.addItem(label)
        boxes = (self.state_box, self.priority_box, self.network_box, self.topic_box,
                 self.assignee_box, self.age_box)  # fmt: skip
        # the search on one row, the filters below it: side by side they made the console
        # wider than a 1920 workstation screen
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        filters = QHBoxLayout()
        for box in boxes:
            box.currentIndexChanged.connect(lambda _: self._filters_changed())
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(7)  # as wide as a short choice, not the longest
            filters.addWidget(box, 1)
        self.group_box = QCheckBox("By story (G)")
        self.group_box.setChecked(self.filter.by_story)
        self.group_box.setToolTip("Group the items of one story together, most open items first")
        self.group_box.toggled.connect(lambda _: self._filters_changed())
        top.addWidget(self.group_box)
        self.count_label = plain_label("", role="muted", wrap=False)
        top.addWidget(self.count_label)
        bar = QVBoxLayout()
        bar.addLayout(top)
        bar.addLayout(filters)
        return bar

    def _table(self, config: Config) -> QTableView:
        self.model = QueueModel(config.sla, self)
        view = self.table = QTableView()
        view.setModel(self.model)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        view.setAlternatingRowColors(True)
        view.setWordWrap(False)
        view.setSortingEnabled(False)  # sorting is the query's, so it costs the GUI nothing
        vh = view.verticalHeader()
        vh.hide()
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # no measuring 100,000 rows
        vh.setDefaultSectionSize(30)
        hh = view.horizontalHeader()
        hh.setSectionsClickable(True)
        hh.setSortIndicatorShown(True)
        hh.sectionClicked.connect(self._sort_by)
        model = view.model()
        for col, width in enumerate((22, 34, 100, 90, 64, 70, 130, 0, 80, 60)):
            if width:  # never narrower than its own header ("Network", "Waiting" were cut)
                label = str(model.headerData(col, Qt.Orientation.Horizontal) or "") if model else ""
                view.setColumnWidth(col, max(width, hh.fontMetrics().horizontalAdvance(label) + 28))
        hh.setSectionResizeMode(7, QHeaderView.ResizeMode.Stretch)
        view.selectionModel().currentRowChanged.connect(lambda cur, _: self._row_picked(cur.row()))
        return view

    # -- the filter --------------------------------------------------------------------

    def _filters_changed(self) -> None:
        p = self.priority_box.currentIndex()
        self.filter = dataclasses.replace(
            self.filter,
            text=self.search.text().strip(),
            states=STATE_FILTERS[self.state_box.currentIndex()][1],
            priorities=frozenset({p}) if p else frozenset(),
            network=str(self.network_box.currentData() or ""),
            topic=str(self.topic_box.currentData() or ""),
            assignee={0: "", 1: "-", 2: self.me}[self.assignee_box.currentIndex()],
            max_age_min=AGE_FILTERS[self.age_box.currentIndex()][1],
            by_story=self.group_box.isChecked(),
        )
        self.changed.emit()

    def _sort_by(self, column: int) -> None:
        key: Any = SORT_KEYS[column]
        if key is None:
            return
        descending = self.filter.sort == key and not self.filter.descending
        self.filter = dataclasses.replace(self.filter, sort=key, descending=descending)
        self.table.horizontalHeader().setSortIndicator(
            column, Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder)
        self.changed.emit()

    def focus_topic(self, topic: str | None) -> None:
        """Show ``topic`` first (a crisis began), or any topic again (None)."""
        i = self.topic_box.findData(topic) if topic else 0
        if i >= 0:
            self.topic_box.setCurrentIndex(i)

    # -- the rows ----------------------------------------------------------------------

    def show_rows(self, rows: list[QueueRow], keep: str | None, kept_row: int | None,
                  first: bool) -> None:  # fmt: skip
        """Swap in a fresh read, keeping the selected item selected (``kept_row``, found by
        the worker; None: not known), or selecting the most urgent item on the first read."""
        self.model.set_rows(rows)
        self.count_label.setText(f"{len(rows):,} items")
        if keep is not None:
            row = kept_row if kept_row is not None else self.model.row_of(keep)
            if row >= 0:
                self.table.selectRow(row)
        elif first and rows:
            self.table.selectRow(0)  # the most urgent item, ready to read

    def _row_picked(self, row: int) -> None:
        if 0 <= row < len(self.model.rows):
            mention_id = self.model.rows[row].mention_id
            self.model.mark_seen(mention_id)
            self.selected.emit(mention_id)
        else:
            self.selected.emit(None)

    def step(self, step: int) -> None:
        rows = self.model.rowCount()
        if rows:
            current = self.table.currentIndex().row()
            self.table.selectRow(min(rows - 1, max(0, (current if current >= 0 else -1) + step)))

    def select(self, mention_id: str) -> bool:
        row = self.model.row_of(mention_id)
        if row < 0:
            return False
        self.table.selectRow(row)
        self._row_picked(row)
        return True
