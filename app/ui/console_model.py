"""The console's queue as a Qt model, and the worker that reads it off the GUI thread.

The model holds finished rows only; the view asks for the few it shows. A reload
(filters changed, a commit touched the queue) runs on one worker thread with its own
read connection and hands the rows back through a queued signal, so the GUI thread
never waits on SQLite however long the queue is.
"""

from __future__ import annotations

import html
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont

from app.config import Sla
from app.formatting import age, duration
from app.store.db import open_reader
from app.ui import theme
from app.workflow.queries import QueueRow

log = logging.getLogger(__name__)
T = TypeVar("T")

COLUMNS = ("", "P", "SLA", "State", "Network", "Topics", "Author", "Post", "Assignee", "Waiting")
SORT_KEYS = (None, "priority", "sla", "state", "network", None, "author", None, "assignee", "age")
STATE_LABEL = {
    "new": "new", "claimed": "claimed", "draft": "draft", "awaiting_approval": "awaiting approval",
    "approved": "approved", "sending": "sending", "sent": "sent", "failed": "FAILED",
    "dismissed": "dismissed", "escalated": "ESCALATED",
}  # fmt: skip
_Index = QModelIndex | QPersistentModelIndex
_ROLES = frozenset(int(r) for r in (
    Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.FontRole,
    Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.UserRole, Qt.ItemDataRole.AccessibleTextRole,
))  # fmt: skip


def sla_seconds(sla: Sla, priority: int) -> float:
    minutes = {1: sla.p1_min, 2: sla.p2_min, 3: sla.p3_min}.get(priority, sla.p4_min)
    return float(minutes * 60)


def plain_tooltip(text: str, limit: int = 2000) -> str:
    """A tooltip that shows ``text`` literally: Qt guesses whether a tooltip is rich text,
    and a post's ``<img src=file:…>`` or ``<b>`` must never be taken for markup. Escaped and
    wrapped in ``<qt>``, every character is drawn as itself (and long lines wrap)."""
    body = html.escape(text[:limit], quote=False).replace("\n", "<br>")
    return f"<qt>{body}</qt>"


def one_line(text: str, limit: int = 160) -> str:
    """A post on one table row: line breaks folded, elided at ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class QueueModel(QAbstractTableModel):
    def __init__(self, sla: Sla, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.sla = sla
        self.rows: list[QueueRow] = []
        #: items queued after the console opened are "new" until someone looks at them
        self.since = time.time()
        self.seen: set[str] = set()
        #: in a room, who else has each item open (their names; shown beside the assignee)
        self.viewers: dict[str, str] = {}
        self._bold = QFont()
        self._bold.setBold(True)
        self._colours = {p: QColor(c) for p, c in theme.PRIORITY.items()}
        self._red = QColor(theme.CRISIS)
        self._muted = QColor(theme.MUTED)

    # -- data -----------------------------------------------------------------------

    def set_rows(self, rows: list[QueueRow]) -> None:
        """Swap in a fresh result (one reset: cheaper than diffing 100,000 rows)."""
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def mark_seen(self, mention_id: str) -> None:
        self.seen.add(mention_id)

    def is_new(self, r: QueueRow) -> bool:
        return r.queued_ts > self.since and r.mention_id not in self.seen

    def row_of(self, mention_id: str) -> int:
        for i, r in enumerate(self.rows):
            if r.mention_id == mention_id:
                return i
        return -1

    def show_viewers(self, viewers: dict[str, str]) -> None:
        """Who else is on which item: repaint the assignee column only if that changed."""
        if viewers != self.viewers:
            self.viewers = viewers
            if self.rows:
                self.dataChanged.emit(self.index(0, 8), self.index(len(self.rows) - 1, 8))

    def tick(self) -> None:
        """The SLA and waiting columns count down: repaint just those."""
        if self.rows:
            self.dataChanged.emit(self.index(0, 2), self.index(len(self.rows) - 1, 2))
            self.dataChanged.emit(self.index(0, 9), self.index(len(self.rows) - 1, 9))

    # -- QAbstractTableModel -----------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # fmt: skip
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in _ROLES or not index.isValid() or index.row() >= len(self.rows):
            return None  # the view asks for a dozen roles a cell; most have no answer here
        r = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._post(index.row()) if col == 7 else self._text(r, col)
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == 1:
                return self._colours.get(r.priority)
            if col == 2 and r.state not in {"sent", "dismissed"}:
                left = sla_seconds(self.sla, r.priority) - (time.time() - r.queued_ts)
                return self._red if left < 0 else None
            if col == 3 and r.state in {"failed", "escalated"}:
                return self._red
            if col == 8 and not r.assignee:
                return self._muted
            return None
        if role == Qt.ItemDataRole.FontRole and self.is_new(r):
            return self._bold
        if role == Qt.ItemDataRole.ToolTipRole and col == 7:
            return plain_tooltip(r.text)
        if role == Qt.ItemDataRole.UserRole:
            return r.mention_id
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return self._post(index.row()) if col == 7 else self._text(r, col)
        return None

    def _post(self, row: int) -> str:
        """The post on one line; grouped by story, the group's first row says how many of the
        story are open (``×9 ▸``) and the rows of the same story below it are marked ``│``."""
        r = self.rows[row]
        if r.story is None or r.story_open < 2:
            return one_line(r.text)
        if row > 0 and self.rows[row - 1].story == r.story:
            return "    │ " + one_line(r.text)
        return f"×{r.story_open} ▸ " + one_line(r.text)

    def _text(self, r: QueueRow, col: int) -> str:
        if col == 0:
            return "●" if self.is_new(r) else ""
        if col == 1:
            return f"P{r.priority}"
        if col == 2:
            if r.state in {"sent", "dismissed"}:
                return "–"
            left = sla_seconds(self.sla, r.priority) - (time.time() - r.queued_ts)
            return f"{duration(left)} left" if left >= 0 else f"late {duration(-left)}"
        if col == 3:
            return STATE_LABEL.get(r.state, r.state)
        if col == 4:
            return r.network
        if col == 5:
            return ", ".join(r.topics)
        if col == 6:
            return r.author
        if col == 7:
            return one_line(r.text)
        if col == 8:
            others = self.viewers.get(r.mention_id)
            return f"{r.assignee or 'unclaimed'} · 👁 {others}" if others else r.assignee or "unclaimed"
        if col == 9:
            return age(time.time() - r.queued_ts)
        return ""


class Reader(QObject):
    """One worker thread with its own read connection; results come back on the GUI thread.

    :meth:`hand_over` brings any other thread's result (a writer call's) back the same way.
    """

    done = Signal(object, object)  # callback, result (or exception)

    def __init__(self, db_path: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.db_path = db_path
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="console-reader")
        self._local = threading.local()
        self._closed = False
        self.done.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = open_reader(self.db_path)
        return conn

    def read(self, fn: Callable[[sqlite3.Connection], T],
             callback: Callable[[T | BaseException], None]) -> Future[None] | None:  # fmt: skip
        if self._closed:
            return None

        def work() -> None:
            try:
                result: Any = fn(self._conn())
            except Exception as exc:
                log.exception("console read failed")
                result = exc
            self.done.emit(callback, result)

        return self._pool.submit(work)

    def hand_over(self, callback: Callable[[Any], None], result: Any) -> None:
        """Call ``callback(result)`` on the GUI thread, from any thread (the writer's too)."""
        self.done.emit(callback, result)

    def _deliver(self, callback: Callable[[Any], None], result: Any) -> None:
        if not self._closed:
            callback(result)

    def close(self) -> None:
        self._closed = True
        def shut() -> None:
            conn = getattr(self._local, "conn", None)
            if conn is not None:
                conn.close()

        self._pool.submit(shut)
        self._pool.shutdown(wait=True, cancel_futures=True)
