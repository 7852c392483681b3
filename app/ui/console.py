"""The operator console: sign in, work the queue, answer, approve, escalate, steer the walls.

A thin shell over :mod:`app.workflow`: every action goes to the store writer (the rules
are enforced there, never here), every read runs on a worker thread, and the window
only shows results. Post text is shown as plain text everywhere.
"""

from __future__ import annotations

import asyncio
import dataclasses
import html
import logging
import sqlite3
import sys
import time
import weakref
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QMainWindow,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QSystemTrayIcon,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.config import Config
from app.formatting import age
from app.layouts import LayoutError, load_layout
from app.model import Mention, sentiment_label
from app.resources import asset_path
from app.sources.base import SourceError
from app.store.db import data_version, open_reader
from app.store.writer import Change, StoreWriter
from app.ui.console_model import SORT_KEYS, QueueModel, Reader
from app.workflow import queries
from app.workflow.limits import build_reply_sources, reply_room
from app.workflow.queries import Detail, QueueFilter
from app.workflow.roles import Permission, grants
from app.workflow.service import QueueWorkflow
from app.workflow.setup import build_workflow, rules_from_config
from app.workflow.states import OPEN, WorkflowError
from app.workflow.templates import Template, TemplateError, placeholder_values
from app.workflow.users import (
    Attempt,
    AuthFailed,
    FirstAdminExists,
    SignInThrottled,
    User,
    check_sign_in,
    create_first_admin,
    get_user,
    hash_password,
    password_problem,
    record_sign_in,
    station_id,
)

log = logging.getLogger(__name__)

WORKFLOW_TABLES = ("queue", "replies", "notes", "audit", "crises", "crisis_events", "alerts",
                   "wall_commands", "users")  # fmt: skip
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


def _label(text: str = "", *, role: str = "", wrap: bool = True) -> QLabel:
    """A label that never interprets markup: post text and names are hostile."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(wrap)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if role:
        label.setProperty("role", role)
    return label


def tray_text(text: str) -> str:
    """A desktop notification's body, shown literally: on Linux the notification server
    reads the body as markup (``<b>``, ``<a>``, ``<img>``), so a post's markup is escaped there;
    elsewhere the body is plain text already."""
    return html.escape(text, quote=False) if sys.platform.startswith("linux") else text


def _clock(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%H:%M")


class _Relay(QObject):
    """Carries the writer thread's change notices to the GUI thread."""

    changed = Signal(object)


class LoginPage(QWidget):
    """Sign in; on an empty database, create the first administrator instead.

    Reading the users, checking a password (scrypt: tens of milliseconds) and adding the
    first administrator all happen off the GUI thread; the walls beside it never wait.
    """

    signed_in = Signal(object)  # User

    def __init__(self, reader: Reader, writer: StoreWriter, station: str | None = None) -> None:
        super().__init__()
        self.reader = reader
        self.writer = writer
        self.station = station or station_id()
        self.setObjectName("login")
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        box = QWidget()
        box.setMinimumWidth(460)
        box.setMaximumWidth(560)
        form = QFormLayout(box)
        self.title = _label("Sign in to the watchfloor console", role="heading")
        form.addRow(self.title)
        self.name = QLineEdit()
        self.name.setPlaceholderText("user name")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.again = QLineEdit()
        self.again.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("User", self.name)
        form.addRow("Password", self.password)
        self.again_label = QLabel("Again")
        form.addRow(self.again_label, self.again)
        self.button = QPushButton("Sign in")
        self.button.setDefault(True)
        form.addRow(self.button)
        self.message = _label("", role="error")
        form.addRow(self.message)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(box)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)
        self.button.clicked.connect(self.submit)
        self.password.returnPressed.connect(self.submit)
        self.again.returnPressed.connect(self.submit)
        #: None until the database has said whether any user exists
        self.first_admin: bool | None = None
        self.again.hide()
        self.again_label.hide()
        self.button.setEnabled(False)
        self.refresh()

    def refresh(self) -> None:
        """Ask the database again whether any user exists (after a sign-out too)."""
        self.button.setEnabled(False)
        self.reader.read(lambda c: c.execute("SELECT 1 FROM users LIMIT 1").fetchone() is None,
                         self._mode)  # fmt: skip

    def _mode(self, empty: object) -> None:
        self.first_admin = empty is True
        self.again.setVisible(self.first_admin)
        self.again_label.setVisible(self.first_admin)
        self.button.setEnabled(True)
        if self.first_admin:
            self.title.setText("No users yet: create the first administrator")
            self.button.setText("Create and sign in")
        else:
            self.title.setText("Sign in to the watchfloor console")
            self.button.setText("Sign in")

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.name.setFocus()  # type straight away, as at any sign-in screen

    def submit(self) -> None:
        if self.first_admin is None or not self.button.isEnabled():
            return
        name, password = self.name.text().strip(), self.password.text()
        if self.first_admin and password != self.again.text():
            self.message.setText("The two passwords differ.")
            return
        problem = password_problem(name, password) if self.first_admin else None
        if problem:
            self.message.setText(problem[0].upper() + problem[1:] + ".")
            return
        self.button.setEnabled(False)
        self.message.setText("")
        station = self.station
        if self.first_admin:
            # scrypt on the reader's thread, then the writer checks "still no user?" and inserts
            self.reader.read(lambda _: hash_password(password),
                             lambda h: self._create_admin(name, password, h))  # fmt: skip
        else:
            self.reader.read(lambda c: check_sign_in(c, name, password, station), self._checked)

    def _create_admin(self, name: str, password: str, hashed: object) -> None:
        if not isinstance(hashed, str):
            self._answered(hashed)
            return
        fut = self.writer.call(lambda c: create_first_admin(c, name, password, hashed),
                               tables=("users", "audit"))  # fmt: skip
        fut.add_done_callback(
            lambda f: self.reader.hand_over(self._answered, f.exception() or f.result()))

    def _checked(self, attempt: object) -> None:
        if not isinstance(attempt, Attempt | SignInThrottled):
            self._answered(attempt)
            return
        station = self.station
        fut = self.writer.call(lambda c: record_sign_in(c, attempt, station),
                               tables=("signin_failures", "users", "audit"))  # fmt: skip
        fut.add_done_callback(
            lambda f: self.reader.hand_over(self._answered, f.exception() or f.result()))

    def _answered(self, result: object) -> None:
        self.button.setEnabled(True)
        if isinstance(result, FirstAdminExists):
            self.message.setText(f"Not created: {result}.")
            self.password.clear()
            self.again.clear()
            self.refresh()  # back to the sign-in page
            return
        if isinstance(result, AuthFailed):
            self.message.setText(f"Could not sign in: {result}.")
            self.password.clear()
            return
        if isinstance(result, BaseException):
            self.message.setText(str(result))
            return
        self.password.clear()
        self.again.clear()
        self.message.setText("")
        self.signed_in.emit(result)


class ConsoleWindow(QMainWindow):
    """One operator's station. ``sign_in`` (or the login page) opens the work area."""

    def __init__(self, config: Config, db_path: Path, writer: StoreWriter,
                 workflow: QueueWorkflow | None = None, *, config_dir: Path | None = None,
                 poll_ms: int = 1000) -> None:  # fmt: skip
        super().__init__()
        self.config = config
        self.db_path = db_path
        self.writer = writer
        self.setWindowTitle(f"watchfloor console — {config.brand.name}")
        self.setObjectName("console")
        self.resize(1500, 900)
        self.template_error = ""
        self._closed = False
        self._templates: dict[str, Template] = {}
        if workflow is None:
            try:
                workflow = build_workflow(config, config_dir)
            except TemplateError as exc:
                self.template_error = f"template error in {exc}"
                log.error("%s", self.template_error)
                workflow = QueueWorkflow(rules_from_config(config, {}))
        self.workflow = workflow
        #: the configured sources, to count a reply as its network does (never fetched from)
        self.sources = workflow.sources if workflow.sources is not None else build_reply_sources(config.sources)
        self._can_handle = False
        #: the alert and the pending reply selected, by id (re-reads keep them, or drop them)
        self.alert_selected: int | None = None
        self.pending_selected: int | None = None
        self._filling = False
        self.user: User | None = None
        self.filter = QueueFilter()
        self.current: str | None = None
        self.detail: Detail | None = None
        self.crisis: tuple[int, str | None, str] | None = None
        self.notifications: list[str] = []
        #: the actions whose outcome the window has shown (tests and tools wait on these)
        self.shown: weakref.WeakSet[Future[Any]] = weakref.WeakSet()
        self._notified: set[str] = set()
        self._alerts_seen: set[int] | None = None
        self._loading = False
        self._again = False
        self._read_s = 0.0
        self._read_t0 = 0.0
        self.loads = 0
        self.reader = Reader(db_path, self)
        self._relay = _Relay(self)
        self._relay.changed.connect(self._on_change)
        writer.add_listener(self._writer_listener)
        self._watch = open_reader(db_path)
        self._version = data_version(self._watch)
        self._soon = QTimer(self)
        self._soon.setSingleShot(True)
        self._soon.setInterval(250)
        self._soon.timeout.connect(self.reload)
        self._tick = QTimer(self)
        self._tick.setInterval(poll_ms)
        self._tick.timeout.connect(self._every_second)
        self.tray: QSystemTrayIcon | None = None
        #: reads an item's thread through its source (the poller's, on the qasync loop)
        self.thread_fetcher: Callable[[str], Awaitable[list[Mention]]] | None = None
        self._threads: dict[str, list[Mention] | str] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.stack = QStackedWidget()
        self.setCentralWidget(self.stack)
        self.login = LoginPage(self.reader, writer)
        self.login.signed_in.connect(self.sign_in)
        self.stack.addWidget(self.login)
        self.work = self._build_work()
        self.stack.addWidget(self.work)
        self._apply_style()

    # -- building ------------------------------------------------------------------------

    def _apply_style(self) -> None:
        try:
            self.setStyleSheet(asset_path("themes", "console.qss").read_text(encoding="utf-8"))
        except OSError:
            log.warning("console theme missing; using Qt's default look")

    def _build_work(self) -> QWidget:
        work = QWidget()
        outer = QVBoxLayout(work)
        outer.setContentsMargins(10, 8, 10, 8)
        self.banner = _label("", role="crisis")
        self.banner.setObjectName("crisisBanner")
        self.banner.hide()
        self.end_crisis_button = QPushButton("End crisis…")
        self.end_crisis_button.clicked.connect(lambda: self.end_crisis())
        self.end_crisis_button.hide()
        top = QHBoxLayout()
        top.addWidget(self.banner, 1)
        top.addWidget(self.end_crisis_button)
        outer.addLayout(top)
        self.error_bar = _label("", role="error")
        self.error_bar.setVisible(bool(self.template_error))
        self.error_bar.setText(self.template_error)
        outer.addWidget(self.error_bar)
        outer.addLayout(self._build_filters())
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self._build_table())
        self.tabs = QTabWidget()
        self.tabs.addTab(self._build_item_tab(), "Item")
        self.tabs.addTab(self._build_approvals_tab(), "Approvals")
        self.tabs.addTab(self._build_alerts_tab(), "Alerts && crisis")
        self.tabs.addTab(self._build_walls_tab(), "Walls")
        split.addWidget(self.tabs)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([1000, 560])
        outer.addWidget(split, 1)
        self.status = _label("", role="muted", wrap=False)
        self.statusBar().addPermanentWidget(self.status)
        self._shortcuts(work)
        return work

    def _build_filters(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search posts and authors  (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda _: self._filters_changed())
        self.state_box = QComboBox()
        for label, _ in STATE_FILTERS:
            self.state_box.addItem(label)
        self.priority_box = QComboBox()
        self.priority_box.addItems(["Any priority", "P1 urgent", "P2 high", "P3 normal", "P4 low"])
        self.network_box = QComboBox()
        self.network_box.addItem("Any network", "")
        for n in sorted({s.type for s in self.config.sources} | {"demo"}):
            self.network_box.addItem(n, n)
        self.topic_box = QComboBox()
        self.topic_box.addItem("Any topic", "")
        for t in self.config.topics:
            self.topic_box.addItem(t.name, t.name)
        self.assignee_box = QComboBox()
        self.assignee_box.addItems(["Anyone", "Unclaimed", "Mine"])
        self.age_box = QComboBox()
        for label, _ in AGE_FILTERS:
            self.age_box.addItem(label)
        for box in (self.state_box, self.priority_box, self.network_box, self.topic_box,
                    self.assignee_box, self.age_box):  # fmt: skip
            box.currentIndexChanged.connect(lambda _: self._filters_changed())
        row.addWidget(self.search, 2)
        for w in (self.state_box, self.priority_box, self.network_box, self.topic_box,
                  self.assignee_box, self.age_box):  # fmt: skip
            row.addWidget(w)
        self.count_label = _label("", role="muted", wrap=False)
        row.addWidget(self.count_label)
        return row

    def _build_table(self) -> QTableView:
        self.model = QueueModel(self.config.sla, self)
        view = self.table = QTableView()
        view.setModel(self.model)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        view.setAlternatingRowColors(True)
        view.setWordWrap(False)
        view.setSortingEnabled(False)  # sorting is the query's, so it costs the GUI nothing
        view.verticalHeader().hide()
        vh = view.verticalHeader()
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # no measuring 100,000 rows
        vh.setDefaultSectionSize(30)
        hh = view.horizontalHeader()
        hh.setSectionsClickable(True)
        hh.setSortIndicatorShown(True)
        hh.sectionClicked.connect(self._sort_by)
        for col, width in enumerate((22, 34, 100, 90, 64, 70, 130, 0, 80, 60)):
            if width:
                view.setColumnWidth(col, width)
        hh.setSectionResizeMode(7, QHeaderView.ResizeMode.Stretch)
        view.selectionModel().currentRowChanged.connect(lambda cur, _: self._select_row(cur.row()))
        return view

    def _build_item_tab(self) -> QWidget:
        page = QWidget()
        lay = QVBoxLayout(page)
        self.item_head = _label("Select an item in the queue (or press N to claim the next one).",
                                role="heading")  # fmt: skip
        self.item_meta = _label("", role="muted")
        self.post = QPlainTextEdit()
        self.post.setReadOnly(True)
        self.post.setObjectName("post")
        self.post.setMaximumHeight(180)
        self.why = _label("", role="muted")
        self.context = _label("", role="muted")
        self.thread_label = _label("", role="muted")
        lay.addWidget(self.item_head)
        lay.addWidget(self.item_meta)
        lay.addWidget(self.thread_label)
        lay.addWidget(self.post)
        lay.addWidget(self.why)
        lay.addWidget(self.context)
        buttons = QHBoxLayout()
        self.claim_button = QPushButton("Claim (C)")
        self.release_button = QPushButton("Release")
        self.dismiss_button = QPushButton("Dismiss… (D)")
        self.escalate_button = QPushButton("Escalate… (E)")
        self.spotlight_button = QPushButton("Spotlight on wall (S)")
        self.retry_button = QPushButton("Retry sending")
        self.claim_button.clicked.connect(lambda: self.claim())
        self.release_button.clicked.connect(lambda: self.release())
        self.dismiss_button.clicked.connect(lambda: self.dismiss())
        self.escalate_button.clicked.connect(lambda: self.escalate())
        self.spotlight_button.clicked.connect(lambda: self.spotlight())
        self.retry_button.clicked.connect(lambda: self.retry())
        for b in (self.claim_button, self.release_button, self.dismiss_button, self.escalate_button,
                  self.spotlight_button, self.retry_button):  # fmt: skip
            buttons.addWidget(b)
        buttons.addStretch(1)
        lay.addLayout(buttons)
        lay.addWidget(_label("Reply", role="section"))
        trow = QHBoxLayout()
        self.template_box = QComboBox()
        self.template_box.currentIndexChanged.connect(lambda _: self._preview_template())
        self.template_button = QPushButton("Send template (T)")
        self.template_button.clicked.connect(lambda: self.send_template())
        trow.addWidget(self.template_box, 1)
        trow.addWidget(self.template_button)
        lay.addLayout(trow)
        self.template_preview = _label("", role="muted")
        lay.addWidget(self.template_preview)
        self.reply_why = _label("", role="error")
        self.reply_why.hide()
        lay.addWidget(self.reply_why)
        self.reply = QPlainTextEdit()
        self.reply.setPlaceholderText("Free text: an approver signs it off before it goes out  (R)")
        self.reply.setMaximumHeight(120)
        self.reply.textChanged.connect(self._count)
        lay.addWidget(self.reply)
        rrow = QHBoxLayout()
        self.counter = _label("", role="muted", wrap=False)
        self.review_note = _label("", role="error")
        self.save_button = QPushButton("Save draft")
        self.submit_button = QPushButton("Submit for approval")
        self.send_button = QPushButton("Send without approval")
        self.save_button.clicked.connect(lambda: self.save_draft())
        self.submit_button.clicked.connect(lambda: self.submit())
        self.send_button.clicked.connect(lambda: self.send_direct())
        rrow.addWidget(self.counter)
        rrow.addWidget(self.review_note, 1)
        for b in (self.save_button, self.submit_button, self.send_button):
            rrow.addWidget(b)
        lay.addLayout(rrow)
        lay.addWidget(_label("Notes and history", role="section"))
        self.history = QListWidget()
        lay.addWidget(self.history, 1)
        nrow = QHBoxLayout()
        self.note_edit = QLineEdit()
        self.note_edit.setPlaceholderText("Internal note (not sent)")
        self.note_edit.returnPressed.connect(lambda: self.add_note())
        nrow.addWidget(self.note_edit, 1)
        add = QPushButton("Add note")
        add.clicked.connect(lambda: self.add_note())
        nrow.addWidget(add)
        lay.addLayout(nrow)
        return page

    def _build_approvals_tab(self) -> QWidget:
        page = QWidget()
        lay = QVBoxLayout(page)
        lay.addWidget(_label("Free-text replies waiting for a second person's sign-off", role="muted"))
        self.approvals = QListWidget()
        self.approvals.setWordWrap(True)
        self.approvals.currentRowChanged.connect(self._pending_picked)
        lay.addWidget(self.approvals, 1)
        row = QHBoxLayout()
        self.approve_button = QPushButton("Approve (A)")
        self.reject_button = QPushButton("Send back…")
        self.approve_button.clicked.connect(lambda: self.approve())
        self.reject_button.clicked.connect(lambda: self.reject())
        row.addStretch(1)
        row.addWidget(self.reject_button)
        row.addWidget(self.approve_button)
        lay.addLayout(row)
        self.pending: list[queries.Pending] = []
        return page

    def _build_alerts_tab(self) -> QWidget:
        page = QWidget()
        lay = QVBoxLayout(page)
        lay.addWidget(_label("Active alerts", role="section"))
        self.alert_list = QListWidget()
        self.alert_list.setWordWrap(True)
        self.alert_list.currentRowChanged.connect(self._alert_picked)
        lay.addWidget(self.alert_list, 1)
        row = QHBoxLayout()
        self.ack_button = QPushButton("Acknowledge")
        self.accept_button = QPushButton("Declare a crisis from this alert")
        self.declare_button = QPushButton("Declare a crisis…")
        self.ack_button.clicked.connect(lambda: self.acknowledge())
        self.accept_button.clicked.connect(lambda: self.accept_alert())
        self.declare_button.clicked.connect(lambda: self.declare_crisis())
        row.addWidget(self.ack_button)
        row.addWidget(self.accept_button)
        row.addStretch(1)
        row.addWidget(self.declare_button)
        lay.addLayout(row)
        lay.addWidget(_label("Crisis timeline", role="section"))
        self.timeline = QListWidget()
        self.timeline.setWordWrap(True)
        lay.addWidget(self.timeline, 1)
        self.alert_ids: list[int] = []
        return page

    def _build_walls_tab(self) -> QWidget:
        page = QWidget()
        lay = QFormLayout(page)
        self.screen_box = QComboBox()
        self.scene_box = QComboBox()
        self._scenes: dict[str, list[str]] = {}
        try:
            layout = load_layout(self.config.wall.layout).layout
            self._scenes = {s.name: [c.name for c in s.scenes] for s in layout.screens}
        except LayoutError as exc:
            log.warning("walls tab: %s", exc)
        self.screen_box.addItems(list(self._scenes))
        self.screen_box.currentTextChanged.connect(self._fill_scenes)
        self._fill_scenes(self.screen_box.currentText())
        lay.addRow("Screen", self.screen_box)
        lay.addRow("Scene", self.scene_box)
        switch = QPushButton("Show this scene now")
        switch.clicked.connect(lambda: self.switch_scene())
        clear = QPushButton("Clear the spotlight")
        clear.clicked.connect(lambda: self._wall("clear_spotlight", {}))
        reload_ = QPushButton("Reload the walls' layout")
        reload_.clicked.connect(lambda: self._wall("reload", {}))
        for b in (switch, clear, reload_):
            lay.addRow(b)
        return page

    def _fill_scenes(self, screen: str) -> None:
        self.scene_box.clear()
        self.scene_box.addItems(self._scenes.get(screen, []))

    def _shortcuts(self, work: QWidget) -> None:
        """Single letters act on the queue while it has the focus (never while typing)."""
        self.letters: dict[int, Callable[[], object]] = {
            Qt.Key.Key_J: lambda: self.step(1), Qt.Key.Key_K: lambda: self.step(-1),
            Qt.Key.Key_C: lambda: self.claim(), Qt.Key.Key_N: lambda: self.claim_next(),
            Qt.Key.Key_T: lambda: self.send_template(), Qt.Key.Key_R: lambda: self.reply.setFocus(),
            Qt.Key.Key_D: lambda: self.dismiss(), Qt.Key.Key_E: lambda: self.escalate(),
            Qt.Key.Key_S: lambda: self.spotlight(), Qt.Key.Key_A: lambda: self.approve(),
        }  # fmt: skip
        self.table.installEventFilter(self)
        self.approvals.installEventFilter(self)
        self._keys = []
        for key, fn in (("Ctrl+F", self.search.setFocus), ("F5", self.reload),
                        ("Escape", self.table.setFocus)):  # fmt: skip
            sc = QShortcut(QKeySequence(key), work)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(fn)
            self._keys.append(sc)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
            fn = self.letters.get(event.key())
            if fn is not None and mods == Qt.KeyboardModifier.NoModifier:
                fn()
                return True
        return super().eventFilter(watched, event)

    # -- signing in ----------------------------------------------------------------------

    def sign_in(self, user: User) -> None:
        self.user = user
        self.stack.setCurrentWidget(self.work)
        can_handle = self._can_handle = grants(user.role, Permission.HANDLE)
        can_approve = grants(user.role, Permission.APPROVE)
        for b in (self.claim_button, self.release_button, self.dismiss_button, self.escalate_button,
                  self.template_button, self.save_button, self.submit_button, self.retry_button,
                  self.spotlight_button):  # fmt: skip
            b.setEnabled(can_handle)
        self.send_button.setVisible(user.send_unapproved)
        self.approve_button.setEnabled(can_approve)
        self.reject_button.setEnabled(can_approve)
        self.declare_button.setEnabled(grants(user.role, Permission.COMMAND))
        self.accept_button.setEnabled(grants(user.role, Permission.COMMAND))
        self.end_crisis_button.setEnabled(grants(user.role, Permission.COMMAND))
        self.ack_button.setEnabled(can_handle)
        if QSystemTrayIcon.isSystemTrayAvailable() and self.config.console.notify:
            self.tray = QSystemTrayIcon(self)
            self.tray.setIcon(self.windowIcon())
            self.tray.show()
        self._tick.start()
        self.reload()
        self._select_row(-1)
        self.table.setFocus()  # the keys act on the queue at once, not on the search field

    def sign_out(self, reason: str = "") -> None:
        """Back to the sign-in page, with nothing of the queue left on screen."""
        self.user = None
        self._tick.stop()
        self._soon.stop()
        self._again = False
        self.current = None
        self.model.set_rows([])
        self._show_detail(None, [])
        self.reply.clear()
        self.note_edit.clear()
        self.pending = []
        self.approvals.clear()
        self.alert_ids = []
        self.alert_list.clear()
        self.timeline.clear()
        self.banner.hide()
        self.end_crisis_button.hide()
        if self.tray is not None:
            self.tray.hide()
            self.tray.deleteLater()
            self.tray = None
        self.stack.setCurrentWidget(self.login)
        self.login.refresh()
        self.login.message.setText(reason)

    # -- reading -------------------------------------------------------------------------

    def _writer_listener(self, change: Change) -> None:  # on the writer thread
        if change.tables & {"queue", "replies", "notes", "alerts", "crises", "users", "*"}:
            self._relay.changed.emit(change)

    def _on_change(self, _: object) -> None:
        """Someone else's change: re-read soon, but leave the worker idle at least as long
        again as the last read took (a 100,000-item queue under a busy poller)."""
        if self.user is not None and not self._soon.isActive():
            self._soon.start(max(250, int(2000 * self._read_s)))

    def _every_second(self) -> None:
        self.model.tick()
        version = data_version(self._watch)  # another process committed (a second console)
        if version != self._version:
            self._version = version
            self._on_change(None)

    def _filters_changed(self) -> None:
        mine = self.user.name if self.user else ""
        self.filter = dataclasses.replace(
            self.filter,
            text=self.search.text().strip(),
            states=STATE_FILTERS[self.state_box.currentIndex()][1],
            priorities=frozenset({self.priority_box.currentIndex()}) if self.priority_box.currentIndex() else frozenset(),
            network=str(self.network_box.currentData() or ""),
            topic=str(self.topic_box.currentData() or ""),
            assignee={0: "", 1: "-", 2: mine}[self.assignee_box.currentIndex()],
            max_age_min=AGE_FILTERS[self.age_box.currentIndex()][1],
        )  # fmt: skip
        self.reload()

    def _sort_by(self, column: int) -> None:
        key: Any = SORT_KEYS[column]
        if key is None:
            return
        descending = self.filter.sort == key and not self.filter.descending
        self.filter = dataclasses.replace(self.filter, sort=key, descending=descending)
        self.table.horizontalHeader().setSortIndicator(
            column, Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder)
        self.reload()

    def reload(self) -> None:
        """Re-read the queue (and approvals, alerts, crisis) on the worker thread."""
        if self.user is None or self._closed:
            return
        if self._loading:
            self._again = True
            return
        self._loading = True
        self._read_t0 = time.perf_counter()
        f, priorities, keep = self.filter, list(self.config.console.notify_priorities), self.current
        name = self.user.name
        self.reader.read(lambda conn: _snapshot(conn, name, f, priorities, keep), self._loaded)

    def _loaded(self, result: object) -> None:
        self._loading = False
        self._read_s = time.perf_counter() - self._read_t0
        if self.user is None:  # signed out while the read ran: show nothing of it
            self._again = False
            return
        if isinstance(result, _Snapshot) and result.user != self.user:
            self.sign_out("You were signed out: " + (
                "your account was disabled." if result.user is None
                else "your role or rights changed; sign in again."))  # fmt: skip
            return
        if isinstance(result, BaseException):
            self.error_bar.setText(f"Could not read the queue: {result}")
            self.error_bar.show()
        else:
            assert isinstance(result, _Snapshot)
            self._show(result)
        if self._again:
            self._again = False
            self.reload()

    def _show(self, snap: _Snapshot) -> None:
        self.loads += 1
        keep = self.current
        self.model.set_rows(snap.rows)
        self.count_label.setText(f"{len(snap.rows):,} items")
        if keep is not None:
            # found by the worker when it read the rows for this very item (no scan here)
            row = snap.kept_row if snap.kept == keep else self.model.row_of(keep)
            if row >= 0:
                self.table.selectRow(row)
        elif self.loads == 1 and snap.rows:
            self.table.selectRow(0)  # the most urgent item, ready to read
        self.pending = snap.pending
        self._filling = True
        self.approvals.clear()
        for p in snap.pending:
            self.approvals.addItem(
                f"{p.author} → {p.post_author} ({p.network}), {age(time.time() - p.ts)} ago\n"
                f"  reply: {' '.join(p.text.split())}\n  to: {' '.join(p.post_text.split())[:200]}")
        ids = [p.reply_id for p in snap.pending]
        if self.pending_selected in ids:
            self.approvals.setCurrentRow(ids.index(self.pending_selected))
        else:
            self.pending_selected = None
        self._filling = False
        self.tabs.setTabText(1, f"Approvals ({len(snap.pending)})" if snap.pending else "Approvals")
        self.alert_ids = [a[0] for a in snap.alerts]
        self._filling = True
        self.alert_list.clear()
        for _, ts, text in snap.alerts:
            self.alert_list.addItem(f"{_clock(ts)}  {text}")
        if self.alert_selected in self.alert_ids:
            self.alert_list.setCurrentRow(self.alert_ids.index(self.alert_selected))
        else:
            self.alert_selected = None  # acknowledged meanwhile: nothing is selected now
        self._filling = False
        self.tabs.setTabText(2, f"Alerts ({len(snap.alerts)}) && crisis" if snap.alerts else "Alerts && crisis")
        self._show_crisis(snap)
        self._notify(snap)
        self._status()
        if self.current is not None:
            self._load_detail(self.current)

    def _show_crisis(self, snap: _Snapshot) -> None:
        was = self.crisis
        self.crisis = snap.crisis
        self.timeline.clear()
        for ts, actor, kind, text in snap.timeline:
            self.timeline.addItem(f"{_clock(ts)}  {actor}: {kind}" + (f" — {text}" if text else ""))
        if snap.crisis is None:
            self.banner.hide()
            self.end_crisis_button.hide()
            if was is not None and self.filter.topic == (was[1] or ""):
                self.topic_box.setCurrentIndex(0)
            return
        _, topic, reason = snap.crisis
        self.banner.setText(f"CRISIS — {reason}" + (f" — the queue shows {topic} first" if topic else ""))
        self.banner.show()
        self.end_crisis_button.show()
        if was is None and topic:  # focus the queue on the crisis topic, once
            i = self.topic_box.findData(topic)
            if i >= 0:
                self.topic_box.setCurrentIndex(i)

    def _notify(self, snap: _Snapshot) -> None:
        """A desktop notice (and a sound) for new top-priority items and new spike alerts."""
        first = self._alerts_seen is None
        fresh = [u for u in snap.urgent if u[0] not in self._notified]
        self._notified.update(u[0] for u in snap.urgent)
        alerts = {a[0] for a in snap.alerts}
        new_alerts = [] if first else [a for a in snap.alerts if a[0] not in (self._alerts_seen or set())]
        self._alerts_seen = alerts | (self._alerts_seen or set())
        if first:  # what waits at sign-in is on screen already
            return
        messages = [f"Spike: {text}" for _, _, text in new_alerts]
        if fresh:
            _, priority, author, text = fresh[0]
            more = f" (+{len(fresh) - 1} more)" if len(fresh) > 1 else ""
            messages.append(f"P{priority} from {author}: {' '.join(text.split())[:120]}{more}")
        for message in messages:
            self.notifications.append(message)
            if not self.config.console.notify:
                continue
            if self.tray is not None:
                self.tray.showMessage("watchfloor", tray_text(message),
                                      QSystemTrayIcon.MessageIcon.Warning, 8000)  # fmt: skip
            QApplication.alert(self, 0)
            self._sound()

    def _sound(self) -> None:
        if not self.config.console.sound:
            return
        try:
            from PySide6.QtCore import QUrl
            from PySide6.QtMultimedia import QSoundEffect
        except ImportError:
            QApplication.beep()
            return
        effect = getattr(self, "_effect", None)
        if effect is None:
            effect = self._effect = QSoundEffect(self)
            effect.setSource(QUrl.fromLocalFile(self.config.console.sound))
        effect.play()

    def _status(self) -> None:
        assert self.user is not None
        rights = [self.user.role]
        if self.user.send_unapproved:
            rights.append("sends without approval")
        if self.user.spokesperson:
            rights.append("spokesperson")
        self.status.setText(f"Signed in as {self.user.name} ({', '.join(rights)})   ·   "
                            f"updated {datetime.now().strftime('%H:%M:%S')}")  # fmt: skip

    # -- the selected item ------------------------------------------------------------------

    def step(self, step: int) -> None:
        rows = self.model.rowCount()
        if not rows:
            return
        current = self.table.currentIndex().row()
        row = min(rows - 1, max(0, (current if current >= 0 else -1) + step))
        self.table.selectRow(row)

    def select(self, mention_id: str) -> bool:
        row = self.model.row_of(mention_id)
        if row < 0:
            return False
        self.table.selectRow(row)
        self._select_row(row)
        return True

    def _select_row(self, row: int) -> None:
        if 0 <= row < len(self.model.rows):
            mention_id = self.model.rows[row].mention_id
            self.model.mark_seen(mention_id)
            if mention_id != self.current:
                self.reply.clear()
            self.current = mention_id
            self._load_detail(mention_id)
        else:
            self.current = None
            self.detail = None
            self._show_detail(None, [])

    def _load_detail(self, mention_id: str) -> None:
        wf = self.workflow

        def read(conn: sqlite3.Connection) -> tuple[Detail | None, list[Any]]:
            detail = queries.item_detail(conn, mention_id)
            templates = wf.templates_for(conn, mention_id) if detail else []
            return detail, templates

        def shown(result: object) -> None:
            if isinstance(result, BaseException) or self.current != mention_id:
                return
            assert isinstance(result, tuple)
            self._show_detail(*result)

        self.reader.read(read, shown)

    def _show_detail(self, d: Detail | None, templates: list[Any]) -> None:
        self.detail = d
        has = d is not None
        for widget in (self.post, self.reply, self.template_box, self.note_edit):
            widget.setEnabled(has)
        if d is None:
            self.item_head.setText("Select an item in the queue (or press N to claim the next one).")
            for w in (self.item_meta, self.why, self.context, self.template_preview, self.review_note):
                w.setText("")
            self.post.setPlainText("")
            self.history.clear()
            self.template_box.clear()
            self.retry_button.hide()
            return
        m = d.mention
        name = f"{m['author_name']} ({m['author']})" if m["author_name"] else m["author"]
        self.item_head.setText(f"P{m['priority']} · {name}")
        followers = f"{m['author_followers']:,} followers · " if m["author_followers"] is not None else ""
        self.item_meta.setText(
            f"{m['network']} via {m['source']} · {followers}{_clock(m['ts'])} ({age(time.time() - m['ts'])} ago)"
            f" · sentiment {m['sentiment']:+.2f} ({sentiment_label(m['sentiment'])})"
            f" · {', '.join(m['topics']) or 'no topic'} · {d.state.replace('_', ' ')}"
            + (f", claimed by {d.assignee}" if d.assignee else "")
            + (f"\n{m['url']}" if m["url"] else "")
        )  # fmt: skip
        text = m["text"]
        if m["content_warning"]:
            text = f"[content warning: {m['content_warning']}]\n\n{text}"
        self.post.setPlainText(text)
        self.why.setText("Queued because: " + ("; ".join(d.reasons) or "it needs a response")
                         + (f"\nNote: {d.note}" if d.note else ""))  # fmt: skip
        context = []
        if d.parent:
            context.append(f"In reply to {d.parent['author']}: {' '.join(d.parent['text'].split())[:240]}")
        if d.earlier:
            context.append(f"{len(d.earlier)} earlier post(s) by this author in the cache; "
                           f"we answered them {d.replies_to_author} time(s). Latest: "
                           + " | ".join(' '.join(e['text'].split())[:80] for e in d.earlier[:3]))  # fmt: skip
        else:
            context.append("First post by this author in the cache.")
        self.context.setText("\n".join(context))
        self._show_thread(m["id"])
        current = self.template_box.currentData()
        self.template_box.blockSignals(True)
        self.template_box.clear()
        self._templates = {t.name: t for t in templates}
        for t in templates:
            self.template_box.addItem(t.title or t.name, t.name)
        i = self.template_box.findData(current)
        self.template_box.setCurrentIndex(max(i, 0))
        self.template_box.blockSignals(False)
        self._preview_template()
        draft = next((r for r in reversed(d.replies) if r.state in {"draft", "awaiting_approval"}), None)
        if draft is not None and not self.reply.toPlainText().strip():
            self.reply.setPlainText(draft.text)
        self.review_note.setText(f"Sent back: {draft.review_note}" if draft and draft.review_note else "")
        self.history.clear()
        events = [(ts, f"{_clock(ts)}  {actor}: {action.removeprefix('item.')}")
                  for ts, actor, action in d.history]  # fmt: skip
        events += [(ts, f"{_clock(ts)}  note by {a}: {t}") for a, ts, t in d.notes]
        events += [(r.ts, f"{_clock(r.ts)}  reply {r.state.replace('_', ' ')} ({r.author}"
                    + (f", approved by {r.approved_by}" if r.approved_by and r.approved_by != r.author else "")
                    + f"): {' '.join(r.text.split())[:160]}"
                    + (f" — {r.last_error}" if r.last_error else ""))
                   for r in d.replies if r.state != "withdrawn"]  # fmt: skip
        for _, line in sorted(events):
            self.history.addItem(line)
        self.retry_button.setVisible(d.state == "failed")
        room = reply_room(self.sources, m["source"], m["network"], m["reply_ref"], "")
        for button in (self.template_button, self.save_button, self.submit_button, self.send_button):
            button.setEnabled(self._can_handle and room.possible)
        self.template_box.setEnabled(room.possible)
        self.reply.setEnabled(room.possible)
        self.reply_why.setText("" if room.possible else room.why[0].upper() + room.why[1:] + ".")
        self.reply_why.setVisible(not room.possible)
        self._count()

    def _show_thread(self, mention_id: str) -> None:
        """The thread above the post, fetched once per item through its source."""
        got = self._threads.get(mention_id)
        if isinstance(got, list):
            lines = [f"{m.author}: {' '.join(m.text.split())[:200]}" for m in got[-4:]]
            self.thread_label.setText(("Thread above:\n" + "\n".join(f"  ↳ {line}" for line in lines))
                                      if lines else "Not a reply: no thread above it.")  # fmt: skip
            return
        if isinstance(got, str):
            self.thread_label.setText(got)
            return
        self.thread_label.setText("")
        if self.thread_fetcher is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self.thread_label.setText("Reading the thread…")
        self._threads[mention_id] = "Reading the thread…"
        task = loop.create_task(self._fetch_thread(mention_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _fetch_thread(self, mention_id: str) -> None:
        assert self.thread_fetcher is not None
        try:
            self._threads[mention_id] = await self.thread_fetcher(mention_id)
        except Exception as exc:  # a source being down must not break the console
            reason = exc.reason if isinstance(exc, SourceError) else type(exc).__name__
            self._threads[mention_id] = f"The thread could not be read: {reason}"
        if self.current == mention_id and not self._closed:
            self._show_thread(mention_id)

    def _preview_template(self) -> None:
        name = self.template_box.currentData()
        t = self._templates.get(name)
        if t is None or self.detail is None:
            self.template_preview.setText("No template fits this item." if self.detail else "")
            return
        m = self.detail.mention
        text = t.render(placeholder_values(
            author=m["author"], author_name=m["author_name"], brand=self.config.brand.name,
            network=m["network"], topics=m["topics"], operator=self.user.name if self.user else "",
        ))  # fmt: skip
        self.template_preview.setText(f"“{text}”")

    def _count(self) -> None:
        """The reply's length as its source counts it (links as 23 on Mastodon), and its limit."""
        if self.detail is None:
            self.counter.setText("")
            return
        m = self.detail.mention
        room = reply_room(self.sources, m["source"], m["network"], m["reply_ref"], self.reply.toPlainText())
        if not room.possible:
            self.counter.setText("no replies here")
            return
        self.counter.setText(f"{room.length} / {room.limit}" if room.limit else f"{room.length}")
        self.counter.setProperty("role", "error" if room.too_long else "muted")
        self.counter.style().polish(self.counter)

    # -- actions ----------------------------------------------------------------------------

    def _act(self, label: str, fn: Callable[[sqlite3.Connection], Any],
             then: Callable[[Any], None] | None = None) -> Future[Any] | None:  # fmt: skip
        """Run a workflow call on the writer; show its refusal, or ``then`` its result."""
        if self.user is None:
            return None
        fut = self.writer.call(fn, tables=WORKFLOW_TABLES)

        def done(f: Future[Any]) -> None:
            exc = f.exception()
            self.reader.hand_over(lambda r: self._acted(label, r, then, f), exc if exc else f.result())

        fut.add_done_callback(done)
        return fut

    def _acted(self, label: str, result: Any, then: Callable[[Any], None] | None,
               fut: Future[Any] | None = None) -> None:  # fmt: skip
        if fut is not None:
            self.shown.add(fut)
        if isinstance(result, BaseException):
            text = str(result) if isinstance(result, WorkflowError | ValueError) else f"{type(result).__name__}: {result}"
            self.statusBar().showMessage(f"{label}: {text}", 10000)
            self.error_bar.setText(f"{label} refused: {text}")
            self.error_bar.show()
            self.reload()  # what changed meanwhile (and a user disabled meanwhile signs out)
            return
        self.error_bar.setVisible(bool(self.template_error))
        self.error_bar.setText(self.template_error)
        self.statusBar().showMessage(f"{label}: done", 4000)
        if then is not None:
            then(result)
        self.reload()

    def _ask(self, title: str, prompt: str) -> str | None:
        text, ok = QInputDialog.getText(self, title, prompt)
        return text if ok and text.strip() else None

    def _item(self) -> str | None:
        if self.current is None:
            self.statusBar().showMessage("Select an item first", 4000)
        return self.current

    def claim(self) -> Future[Any] | None:
        mid = self._item()
        if mid is None or self.user is None:
            return None
        name = self.user.name
        return self._act("Claim", lambda c: self.workflow.claim(c, name, mid))

    def claim_next(self) -> Future[Any] | None:
        if self.user is None:
            return None
        name, topic = self.user.name, self.filter.topic or None

        def selected(item: Any) -> None:
            if item is None:
                self.statusBar().showMessage("Nothing is waiting for a claim", 5000)
                return
            self.current = item.mention_id
            self.reply.clear()

        return self._act("Claim next", lambda c: self.workflow.claim_next(c, name, topic=topic), selected)

    def release(self) -> Future[Any] | None:
        mid = self._item()
        if mid is None or self.user is None:
            return None
        name = self.user.name
        return self._act("Release", lambda c: self.workflow.release(c, name, mid))

    def send_template(self, name: str | None = None) -> Future[Any] | None:
        mid = self._item()
        template = name or self.template_box.currentData()
        if mid is None or self.user is None or not template:
            return None
        user = self.user.name
        return self._act("Template reply", lambda c: self.workflow.reply_template(c, user, mid, template),
                         lambda _: self.reply.clear())  # fmt: skip

    def save_draft(self) -> Future[Any] | None:
        mid, text = self._item(), self.reply.toPlainText()
        if mid is None or self.user is None:
            return None
        user = self.user.name
        return self._act("Save draft", lambda c: self.workflow.save_draft(c, user, mid, text))

    def submit(self) -> Future[Any] | None:
        mid, text = self._item(), self.reply.toPlainText()
        if mid is None or self.user is None:
            return None
        user = self.user.name
        return self._act("Submit for approval", lambda c: self.workflow.submit(c, user, mid, text),
                         lambda _: self.reply.clear())  # fmt: skip

    def send_direct(self) -> Future[Any] | None:
        mid, text = self._item(), self.reply.toPlainText()
        if mid is None or self.user is None:
            return None
        user = self.user.name
        return self._act("Send", lambda c: self.workflow.reply_direct(c, user, mid, text),
                         lambda _: self.reply.clear())  # fmt: skip

    def dismiss(self, reason: str | None = None) -> Future[Any] | None:
        mid = self._item()
        if mid is None or self.user is None:
            return None
        reason = reason if reason is not None else self._ask("Dismiss", "Why needs this no response?")
        if reason is None:
            return None
        user = self.user.name
        return self._act("Dismiss", lambda c: self.workflow.dismiss(c, user, mid, reason))

    def escalate(self, reason: str | None = None) -> Future[Any] | None:
        mid = self._item()
        if mid is None or self.user is None:
            return None
        reason = reason if reason is not None else self._ask(
            "Escalate", "Why does this need escalating? (This declares a crisis if none is open.)")
        if reason is None:
            return None
        user = self.user.name
        return self._act("Escalate", lambda c: self.workflow.escalate(c, user, mid, reason))

    def retry(self) -> Future[Any] | None:
        mid = self._item()
        if mid is None or self.user is None:
            return None
        user = self.user.name
        return self._act("Retry", lambda c: self.workflow.retry(c, user, mid))

    def add_note(self, text: str | None = None) -> Future[Any] | None:
        mid = self._item()
        text = text if text is not None else self.note_edit.text()
        if mid is None or self.user is None or not text.strip():
            return None
        user = self.user.name
        return self._act("Note", lambda c: self.workflow.add_note(c, user, mid, text),
                         lambda _: self.note_edit.clear())  # fmt: skip

    def spotlight(self) -> Future[Any] | None:
        mid = self._item()
        if mid is None:
            return None
        return self._wall("spotlight", {"mention_id": mid})

    def switch_scene(self, screen: str | None = None, scene: str | None = None) -> Future[Any] | None:
        screen = screen or self.screen_box.currentText()
        scene = scene or self.scene_box.currentText()
        if not screen or not scene:
            return None
        return self._wall("scene", {"screen": screen, "scene": scene}, target=screen)

    def _wall(self, command: Any, args: dict[str, Any], target: str = "*") -> Future[Any] | None:
        if self.user is None:
            return None
        user = self.user.name
        return self._act(f"Walls: {command}", lambda c: self.workflow.wall(c, user, command, args, target=target))

    def _pending_picked(self, row: int) -> None:
        if not self._filling:
            self.pending_selected = self.pending[row].reply_id if 0 <= row < len(self.pending) else None

    def _alert_picked(self, row: int) -> None:
        if not self._filling:
            self.alert_selected = self.alert_ids[row] if 0 <= row < len(self.alert_ids) else None

    def _pending_selected(self) -> queries.Pending | None:
        """The reply picked in the list, found by id (never "the first one")."""
        return next((p for p in self.pending if p.reply_id == self.pending_selected), None)

    def approve(self, reply_id: int | None = None) -> Future[Any] | None:
        if self.user is None:
            return None
        if reply_id is None:
            p = self._pending_selected()
            if p is None:
                self.statusBar().showMessage("Select a reply to approve", 4000)
                return None
            reply_id = p.reply_id
        user, rid = self.user.name, reply_id
        return self._act("Approve", lambda c: self.workflow.approve(c, user, rid))

    def reject(self, reply_id: int | None = None, reason: str | None = None) -> Future[Any] | None:
        if self.user is None:
            return None
        if reply_id is None:
            p = self._pending_selected()
            if p is None:
                self.statusBar().showMessage("Select a reply to send back", 4000)
                return None
            reply_id = p.reply_id
        reason = reason if reason is not None else self._ask("Send back", "What should change?")
        if reason is None:
            return None
        user, rid = self.user.name, reply_id
        return self._act("Send back", lambda c: self.workflow.reject(c, user, rid, reason))

    def _alert_selected(self) -> int | None:
        """The alert picked in the list, by id; None when nothing is (never "the first one")."""
        if self.alert_selected not in self.alert_ids:
            self.statusBar().showMessage("Select an alert first", 4000)
            return None
        return self.alert_selected

    def acknowledge(self, alert_id: int | None = None) -> Future[Any] | None:
        alert_id = alert_id or self._alert_selected()
        if alert_id is None or self.user is None:
            return None
        user = self.user.name
        return self._act("Acknowledge", lambda c: self.workflow.acknowledge_alert(c, user, alert_id))

    def accept_alert(self, alert_id: int | None = None) -> Future[Any] | None:
        alert_id = alert_id or self._alert_selected()
        if alert_id is None or self.user is None:
            return None
        user = self.user.name
        return self._act("Declare crisis", lambda c: self.workflow.accept_alert(c, user, alert_id))

    def declare_crisis(self, reason: str | None = None, topic: str | None = None) -> Future[Any] | None:
        if self.user is None:
            return None
        reason = reason if reason is not None else self._ask("Declare a crisis", "What is happening?")
        if reason is None:
            return None
        topic = topic if topic is not None else (self.filter.topic or None)
        user = self.user.name
        return self._act("Declare crisis", lambda c: self.workflow.declare_crisis(c, user, topic, reason))

    def end_crisis(self, summary: str | None = None) -> Future[Any] | None:
        if self.user is None:
            return None
        summary = summary if summary is not None else self._ask("End the crisis", "Summary for the record:")
        if summary is None:
            return None
        user = self.user.name
        return self._act("End crisis", lambda c: self.workflow.end_crisis(c, user, summary))

    # -- closing ------------------------------------------------------------------------------

    def closeEvent(self, event: Any) -> None:
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._tick.stop()
        self._soon.stop()
        self.writer.remove_listener(self._writer_listener)
        if self.tray is not None:
            self.tray.hide()
        self.reader.close()
        self._watch.close()


@dataclasses.dataclass(frozen=True, slots=True)
class _Snapshot:
    rows: list[queries.QueueRow]
    pending: list[queries.Pending]
    alerts: list[tuple[int, float, str]]
    crisis: tuple[int, str | None, str] | None
    timeline: list[tuple[float, str, str, str]]
    #: unclaimed items of the priorities that notify: id, priority, author, text
    urgent: list[tuple[str, int, str, str]]
    #: the item selected when the read began, and its row in ``rows`` (-1: filtered out)
    kept: str | None = None
    kept_row: int = -1
    #: the signed-in user as the database has them now (None: disabled or gone)
    user: User | None = None


def _snapshot(conn: sqlite3.Connection, name: str, f: QueueFilter, priorities: list[int],
              keep: str | None = None) -> _Snapshot:  # fmt: skip
    """Everything the console shows, read in one go on the worker thread; nothing at all
    for a user who was disabled meanwhile (the console signs out on seeing that)."""
    conn.execute("BEGIN")
    try:
        user = get_user(conn, name)
        if user is None:
            return _Snapshot([], [], [], None, [], [])
        rows = queries.fetch_queue(conn, f)
        pending = queries.awaiting_approval(conn)
        alerts = [(int(r[0]), float(r[1]), str(r[2])) for r in conn.execute(
            "SELECT id, ts, explanation FROM alerts WHERE state = 'active' ORDER BY ts DESC LIMIT 50")]  # fmt: skip
        row = conn.execute("SELECT id, topic, reason FROM crises WHERE ended_ts IS NULL"
                           " ORDER BY started_ts DESC LIMIT 1").fetchone()  # fmt: skip
        crisis = (int(row[0]), row[1], str(row[2])) if row else None
        timeline = queries.crisis_timeline(conn, crisis[0]) if crisis else []
        urgent = [(str(r[0]), int(r[1]), str(r[2]), str(r[3])) for r in conn.execute(
            f"SELECT q.mention_id, q.priority, coalesce(m.author, ''), coalesce(m.text, '')"
            f" FROM queue q LEFT JOIN mentions m ON m.id = q.mention_id WHERE q.state = 'new'"
            f" AND q.priority IN ({', '.join('?' * len(priorities))})"
            f" ORDER BY q.queued_ts DESC LIMIT 500", priorities)] if priorities else []  # fmt: skip
    finally:
        conn.execute("COMMIT")
    kept_row = next((i for i, r in enumerate(rows) if r.mention_id == keep), -1) if keep else -1
    return _Snapshot(rows, pending, alerts, crisis, timeline, urgent, keep, kept_row, user)


def open_console(config: Config, db_path: Path, writer: StoreWriter) -> ConsoleWindow:
    """The console window, showing its sign-in page (launch.py keeps it until shutdown)."""
    window = ConsoleWindow(config, db_path, writer)
    window.show()
    return window
