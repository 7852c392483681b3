"""The operator console: sign in, work the queue, answer, approve, escalate, steer the walls.

A thin shell that puts the console's parts together: the queue with its filter bar
(:mod:`~app.ui.console_queue`), the item (:mod:`~app.ui.console_item`) and its reply box
(:mod:`~app.ui.console_reply`), approvals, alerts and crisis, walls. What an action does
is the desk's (:mod:`app.workflow.desk`, one guard) and the workflow's (the rules, in the
store writer); what the panes say, :mod:`app.workflow.console_text`; when to call for
attention, :mod:`app.workflow.attention`. Every read runs on a worker thread. Post text
is shown as plain text everywhere. Commits are heard one way, whichever process made
them: the change log read on from the last id seen, each part reading again only for a
change that concerns it (:mod:`~app.ui.console_changes`).
"""

from __future__ import annotations

import logging
import sqlite3
import time
import weakref
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QInputDialog,
    QMainWindow,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.analysis.corrections import explain
from app.analysis.pipeline import build_scorer
from app.analysis.sentiment import Explanation, Scorer
from app.config import Config
from app.resources import asset_path
from app.store import tables as T
from app.store.changelog import EVERYTHING, ChangeFeed, SqliteChangeFeed
from app.store.db import open_reader
from app.store.writer import StoreWriter
from app.ui.console_alerts import AlertsPane, CrisisBar
from app.ui.console_approvals import ApprovalsPane
from app.ui.console_changes import ITEM, Part, concerned, tables_read
from app.ui.console_item import ItemPane
from app.ui.console_login import LoginPage
from app.ui.console_model import Reader
from app.ui.console_notify import Notifier
from app.ui.console_parts import plain_label
from app.ui.console_queue import QueuePane
from app.ui.console_reply import ReplyPane
from app.ui.console_thread import Fetcher, ThreadReader
from app.ui.console_walls import WallsPane
from app.workflow import console_text, queries
from app.workflow.attention import Attention
from app.workflow.desk import Desk, Job, NotReady
from app.workflow.limits import ReplyRoom, build_reply_sources, reply_room
from app.workflow.queries import Crisis, Detail
from app.workflow.roles import Permission, grants
from app.workflow.service import QueueWorkflow
from app.workflow.setup import build_workflow, rules_from_config
from app.workflow.snapshot import Snapshot, read_snapshot
from app.workflow.states import WorkflowError
from app.workflow.story_work import Outcome
from app.workflow.templates import Template, TemplateError
from app.workflow.users import User

if TYPE_CHECKING:
    from app.ui.console_room import ConsoleRoom

log = logging.getLogger(__name__)

WORKFLOW_TABLES = ("queue", "replies", "notes", "audit", "crises", "crisis_events", "alerts",
                   "wall_commands", "users")  # fmt: skip

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
        if workflow is None:
            try:
                workflow = build_workflow(config, config_dir)
            except TemplateError as exc:
                self.template_error = f"template error in {exc}"
                log.error("%s", self.template_error)
                workflow = QueueWorkflow(rules_from_config(config, {}))
        self.workflow = workflow
        self.desk = Desk(workflow, self._ask)
        #: the configured sources, to count a reply as its network does (never fetched from)
        self.sources = workflow.sources if workflow.sources is not None else build_reply_sources(config.sources)
        self.user: User | None = None
        self.current: str | None = None
        self.detail: Detail | None = None
        self.crisis: Crisis | None = None
        self.attention = Attention()
        self.notifications: list[str] = []
        #: the actions whose outcome the window has shown (tests and tools wait on these)
        self.shown: weakref.WeakSet[Future[Any]] = weakref.WeakSet()
        self._loading = False
        self._again = False
        self._again_detail = False
        self._detail_due = False
        #: the parts a change concerned that have not read again yet
        self.due: set[Part] = set()
        self._read_s = 0.0
        self._read_t0 = 0.0
        self.loads = 0
        #: reads of the open item's detail shown (a change to another item reads none)
        self.detail_reads = 0
        self._details_out = 0
        self.reader = Reader(db_path, self)
        self._watch = open_reader(db_path)
        T.check(tables_read(), T.existing(self._watch))  # a misnamed table: refused at start
        #: the one change channel: the change log, read on from the last id seen
        self.changes: ChangeFeed = SqliteChangeFeed(self._watch)
        self._soon = QTimer(self)
        self._soon.setSingleShot(True)
        self._soon.setInterval(250)
        self._soon.timeout.connect(self._read_due)
        self._tick = QTimer(self)
        self._tick.setInterval(poll_ms)
        self._tick.timeout.connect(self._every_second)
        self.notifier = Notifier(self, config.console)
        self.threads = ThreadReader(self._thread_read)
        self._scorer_built: Scorer | None = None
        self.stack = QStackedWidget()
        self.setCentralWidget(self.stack)
        self.login = LoginPage(self.reader, writer)
        self.login.signed_in.connect(self.sign_in)
        self.stack.addWidget(self.login)
        self.work = self._build_work()
        self.stack.addWidget(self.work)
        self._wire()
        self._apply_style()
        #: with ``[room]``: the actions and the queue's states are the room's
        self.room_part: ConsoleRoom | None = None
        if config.room is not None:
            from app.ui.console_room import ConsoleRoom

            self.room_part = ConsoleRoom(self, config.room)

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
        self.crisis_bar = CrisisBar()
        outer.addWidget(self.crisis_bar)
        self.error_bar = plain_label(self.template_error, role="error")
        self.error_bar.setVisible(bool(self.template_error))
        outer.addWidget(self.error_bar)
        self.queue_pane = QueuePane(self.config)
        self.reply_pane = ReplyPane()
        self.reply_pane.brand = self.config.brand.name
        self.item_pane = ItemPane(self.reply_pane)
        self.approvals_pane = ApprovalsPane()
        self.alerts_pane = AlertsPane()
        self.walls_pane = WallsPane(self.config.wall.layout)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.queue_pane)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.item_pane, "Item")
        self.tabs.addTab(self.approvals_pane, "Approvals")
        self.tabs.addTab(self.alerts_pane, "Alerts && crisis")
        self.tabs.addTab(self.walls_pane, "Walls")
        split.addWidget(self.tabs)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([1000, 560])
        outer.addWidget(split, 1)
        self.status = plain_label("", role="muted", wrap=False)
        self.statusBar().addPermanentWidget(self.status)
        return work

    def _wire(self) -> None:
        """Each button and key to its action; the panes' news to the window."""
        q, item, reply, ap, al, walls = (self.queue_pane, self.item_pane, self.reply_pane,
                                         self.approvals_pane, self.alerts_pane, self.walls_pane)  # fmt: skip
        q.changed.connect(self.reload)
        q.selected.connect(self._select)
        reply.text.textChanged.connect(self._count)
        ap.list.picked.connect(lambda rid: setattr(self.desk, "reply", rid))
        al.list.picked.connect(lambda aid: setattr(self.desk, "alert", aid))
        clicks: list[tuple[Any, Callable[[], object]]] = [
            (item.claim_button, self.claim), (item.release_button, self.release),
            (item.dismiss_button, self.dismiss), (item.escalate_button, self.escalate),
            (item.spotlight_button, self.spotlight), (item.retry_button, self.retry),
            (item.note_button, self.add_note), (reply.template_button, self.send_template),
            (reply.save_button, self.save_draft), (reply.submit_button, self.submit),
            (reply.send_button, self.send_direct), (ap.approve_button, self.approve),
            (ap.reject_button, self.reject), (al.ack_button, self.acknowledge),
            (al.accept_button, self.accept_alert), (al.declare_button, self.declare_crisis),
            (self.crisis_bar.end_button, self.end_crisis), (walls.switch_button, self.switch_scene),
            (walls.clear_button, lambda: self._run(lambda: self.desk.wall("clear_spotlight", {}))),
            (walls.reload_button, lambda: self._run(lambda: self.desk.wall("reload", {}))),
            (item.claim_story_button, self.claim_story), (item.answer_story_button, self.answer_story),
            (item.dismiss_story_button, self.dismiss_duplicates), (item.take_out_button, self.take_out),
        ]  # fmt: skip
        for button, fn in clicks:
            button.clicked.connect(lambda _=False, fn=fn: fn())
        item.note_edit.returnPressed.connect(lambda: self.add_note())
        # single letters act on the queue while it has the focus (never while typing)
        self.letters: dict[int, Callable[[], object]] = {
            Qt.Key.Key_J: lambda: q.step(1), Qt.Key.Key_K: lambda: q.step(-1),
            Qt.Key.Key_C: self.claim, Qt.Key.Key_N: self.claim_next,
            Qt.Key.Key_T: self.send_template, Qt.Key.Key_R: reply.text.setFocus,
            Qt.Key.Key_D: self.dismiss, Qt.Key.Key_E: self.escalate,
            Qt.Key.Key_S: self.spotlight, Qt.Key.Key_A: self.approve,
            Qt.Key.Key_X: self.take_out, Qt.Key.Key_G: q.group_box.toggle,
            Qt.Key.Key_Minus: lambda: self.relabel("negative"), Qt.Key.Key_0: lambda: self.relabel("neutral"),
            Qt.Key.Key_Plus: lambda: self.relabel("positive"), Qt.Key.Key_Equal: lambda: self.relabel("positive"),
        }  # fmt: skip
        #: with Shift: the same for the item's whole story ("+" needs Shift on most keyboards)
        self.shifted: dict[int, Callable[[], object]] = {
            Qt.Key.Key_C: self.claim_story, Qt.Key.Key_T: self.answer_story,
            Qt.Key.Key_D: self.dismiss_duplicates, Qt.Key.Key_Plus: lambda: self.relabel("positive"),
        }  # fmt: skip
        q.table.installEventFilter(self)
        ap.list.installEventFilter(self)
        self._keys = []
        for key, fn in (("Ctrl+F", q.search.setFocus), ("F5", self.reload),
                        ("Escape", q.table.setFocus)):  # fmt: skip
            sc = QShortcut(QKeySequence(key), self.work)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(fn)
            self._keys.append(sc)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
            keys = {Qt.KeyboardModifier.NoModifier: self.letters,
                    Qt.KeyboardModifier.ShiftModifier: self.shifted}.get(mods, {})  # fmt: skip
            fn = keys.get(event.key())
            if fn is not None:
                fn()
                return True
        return super().eventFilter(watched, event)

    # -- signing in ----------------------------------------------------------------------

    def sign_in(self, user: User) -> None:
        self.user = user
        self.desk.user = user.name
        self.queue_pane.me = user.name
        self.reply_pane.operator = user.name
        self.stack.setCurrentWidget(self.work)
        can_handle = self.reply_pane.can_handle = grants(user.role, Permission.HANDLE)
        can_approve = grants(user.role, Permission.APPROVE)
        can_command = grants(user.role, Permission.COMMAND)
        for b in (*self.item_pane.buttons, *self.item_pane.story_buttons, *self.reply_pane.buttons,
                  self.alerts_pane.ack_button):  # fmt: skip
            b.setEnabled(can_handle)
        self.reply_pane.send_button.setVisible(user.send_unapproved)
        self.approvals_pane.approve_button.setEnabled(can_approve)
        self.approvals_pane.reject_button.setEnabled(can_approve)
        for b in (self.alerts_pane.declare_button, self.alerts_pane.accept_button, self.crisis_bar.end_button):
            b.setEnabled(can_command)
        self.notifier.start()
        self.changes = SqliteChangeFeed(self._watch)  # this read shows all: on from here
        self.due.clear()
        self._tick.start()
        self.reload()
        self._select(None)
        self.queue_pane.table.setFocus()  # the keys act on the queue at once, not on the search field

    def sign_out(self, reason: str = "") -> None:
        """Back to the sign-in page, with nothing of the queue left on screen."""
        self.user = self.desk.user = None
        self._tick.stop()
        self._soon.stop()
        self._again = False
        self.due.clear()
        self.queue_pane.model.set_rows([])
        self._select(None)
        self.reply_pane.text.clear()
        self.item_pane.note_edit.clear()
        self.approvals_pane.show_pending([])
        self.alerts_pane.clear()
        self.crisis_bar.show_crisis(None)
        self.notifier.stop()
        self.stack.setCurrentWidget(self.login)
        self.login.refresh()
        self.login.message.setText(reason)

    # -- reading -------------------------------------------------------------------------

    def _every_second(self) -> None:
        self.queue_pane.model.tick()
        self.read_changes()

    def read_changes(self) -> set[Part]:
        """Read the change log on from the last id seen (any process's commits, this one's
        writer's too); the parts they concern read again soon. Returns those parts."""
        if self.user is None or self._closed:
            return set()
        try:
            batch = self.changes.read()
        except sqlite3.Error:
            log.exception("reading the change log failed")
            return set()
        parts = concerned([EVERYTHING] if batch.gap else batch.changes, self.current)
        if parts:
            self.due |= parts
            if not self._soon.isActive():
                # leave the worker idle at least as long again as the last read took
                # (a 100,000-item queue under a busy poller)
                self._soon.start(max(250, int(2000 * self._read_s)))
        return parts

    def _read_due(self) -> None:
        """Read again what the changes concerned: the snapshot if any of its parts, else
        the open item alone."""
        due, self.due = self.due, set()
        if any(p.in_snapshot for p in due):
            self.reload(detail=ITEM in due)
        elif ITEM in due and self.current is not None:
            self._load_detail(self.current)

    @property
    def reading(self) -> bool:
        """A read is under way or due (tests and tools wait for it to settle)."""
        return self._loading or self._soon.isActive() or bool(self.due) or self._details_out > 0

    @property
    def filter(self) -> queries.QueueFilter:
        return self.queue_pane.filter

    def reload(self, detail: bool = True) -> None:
        """Re-read the queue (and approvals, alerts, crisis) on the worker thread; with
        ``detail`` the open item too."""
        if self.user is None or self._closed:
            return
        if self._loading:
            self._again = True
            self._again_detail = self._again_detail or detail
            return
        self._loading = True
        self._detail_due = detail
        self._read_t0 = time.perf_counter()
        f, priorities, keep = self.filter, list(self.config.console.notify_priorities), self.current
        name = self.user.name
        self.desk.topic = f.topic or None
        snapshot = self.room_part.snapshot if self.room_part is not None else read_snapshot
        self.reader.read(lambda conn: snapshot(conn, name, f, priorities, keep), self._loaded)

    def _loaded(self, result: object) -> None:
        self._loading = False
        self._read_s = time.perf_counter() - self._read_t0
        if self.user is None:  # signed out while the read ran: show nothing of it
            self._again = self._again_detail = False
            return
        if isinstance(result, Snapshot) and result.user != self.user:
            self.sign_out("You were signed out: " + (
                "your account was disabled." if result.user is None
                else "your role or rights changed; sign in again."))  # fmt: skip
            return
        if isinstance(result, BaseException):
            self.error_bar.setText(f"Could not read the queue: {result}")
            self.error_bar.show()
        else:
            assert isinstance(result, Snapshot)
            self._show(result)
        if self._again:
            detail, self._again, self._again_detail = self._again_detail, False, False
            self.reload(detail)

    def _show(self, snap: Snapshot) -> None:
        self.loads += 1
        keep = self.current
        self.queue_pane.show_rows(snap.rows, keep, snap.kept_row if snap.kept == keep else None,
                                  first=self.loads == 1)  # fmt: skip
        self.approvals_pane.show_pending(snap.pending)
        self.tabs.setTabText(1, f"Approvals ({len(snap.pending)})" if snap.pending else "Approvals")
        self.alerts_pane.show_alerts(snap.alerts, snap.timeline)
        self.tabs.setTabText(2, f"Alerts ({len(snap.alerts)}) && crisis" if snap.alerts else "Alerts && crisis")
        self._show_crisis(snap.crisis)
        self._notify(self.attention.notices(snap.urgent, snap.alerts))
        assert self.user is not None
        self.status.setText(console_text.status(self.user))
        if self.current is not None and self._detail_due:
            self._load_detail(self.current)

    def _show_crisis(self, crisis: Crisis | None) -> None:
        was, self.crisis = self.crisis, crisis
        self.crisis_bar.show_crisis(crisis)
        if crisis is None and was is not None and self.filter.topic == (was.topic or ""):
            self.queue_pane.focus_topic(None)
        elif crisis is not None and was is None and crisis.topic:
            self.queue_pane.focus_topic(crisis.topic)  # the queue shows the crisis topic, once

    def _notify(self, messages: list[str]) -> None:
        """A desktop notice (and a sound) for each message of the attention policy."""
        for message in messages:
            self.notifications.append(message)
            self.notifier.deliver(message)

    # -- the selected item ------------------------------------------------------------------

    def select(self, mention_id: str) -> bool:
        return self.queue_pane.select(mention_id)

    def _select(self, mention_id: object) -> None:
        mid = mention_id if isinstance(mention_id, str) else None
        if mid is not None and mid == self.current and self.detail is not None and self.detail.mention["id"] == mid:
            return  # kept selected across a fresh read: it reads again when a change concerns it
        if mid is not None and mid != self.current:
            self.reply_pane.text.clear()
        self.current = self.desk.item = mid
        if mid is None:
            self._show_detail(None, [])
        else:
            self._load_detail(mid)

    def _scorer(self) -> Scorer:
        """The scorer the pipeline uses, built once on the worker thread (it reads its rules)."""
        if self._scorer_built is None:
            self._scorer_built = build_scorer(self.config.sentiment)
        return self._scorer_built

    def _load_detail(self, mention_id: str) -> None:
        wf = self.workflow
        item_detail = self.room_part.item_detail if self.room_part is not None else queries.item_detail

        def read(conn: sqlite3.Connection) -> tuple[Detail | None, list[Template], Explanation | None]:
            detail = item_detail(conn, mention_id)
            if detail is None:
                return None, [], None
            return detail, wf.templates_for(conn, mention_id), explain(self._scorer(), conn, mention_id)

        def shown(result: object) -> None:
            self._details_out -= 1
            if isinstance(result, tuple) and self.current == mention_id:
                self.detail_reads += 1
                self._show_detail(*result)

        self._details_out += 1
        self.reader.read(read, shown)

    def _room(self, text: str) -> ReplyRoom | None:
        if self.detail is None:
            return None
        m = self.detail.mention
        return reply_room(self.sources, m["source"], m["network"], m["reply_ref"], text)

    def _show_detail(self, d: Detail | None, templates: list[Template],
                     explanation: Explanation | None = None) -> None:  # fmt: skip
        self.detail = d
        self.item_pane.show_item(d, explanation)
        self.reply_pane.show_item(d, templates, self._room(""))
        if d is not None:
            self._show_thread(d.mention["id"])
            self._count()

    def _count(self) -> None:
        self.reply_pane.show_count(self._room(self.reply_pane.words()))

    @property
    def thread_fetcher(self) -> Fetcher | None:
        """Reads an item's thread through its source (the poller's, on the qasync loop)."""
        return self.threads.fetcher

    @thread_fetcher.setter
    def thread_fetcher(self, fetcher: Fetcher | None) -> None:
        self.threads.fetcher = fetcher

    def _show_thread(self, mention_id: str) -> None:
        self.item_pane.thread_label.setText(self.threads.text(mention_id))

    def _thread_read(self, mention_id: str) -> None:
        if self.current == mention_id and not self._closed:
            self._show_thread(mention_id)

    # -- actions ----------------------------------------------------------------------------

    def _ask(self, title: str, prompt: str) -> str | None:
        text, ok = QInputDialog.getText(self, title, prompt)
        return text if ok else None

    def _run(self, make: Callable[[], Job], then: Callable[[Any], None] | None = None) -> Future[Any] | None:
        """Ask the desk for the job (it says what is missing) and hand it to the writer;
        show its refusal, or ``then`` its result."""
        try:
            job = make()
        except NotReady as why:
            if str(why):
                self.statusBar().showMessage(str(why), 4000)
            return None
        fut = (self.room_part.send(job) if self.room_part is not None
               else self.writer.call(job.call, tables=(*WORKFLOW_TABLES, *job.tables), ids=job.ids or None))  # fmt: skip

        def done(f: Future[Any]) -> None:
            exc = f.exception()
            self.reader.hand_over(lambda r: self._acted(job.label, r, then, f), exc if exc else f.result())

        fut.add_done_callback(done)
        return fut

    def _acted(self, label: str, result: Any, then: Callable[[Any], None] | None,
               fut: Future[Any]) -> None:  # fmt: skip
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

    def _cleared(self, _: object) -> None:
        self.reply_pane.text.clear()

    def _claimed_next(self, item: Any) -> None:
        if item is None:
            self.statusBar().showMessage("Nothing is waiting for a claim", 5000)
            return
        self.current = self.desk.item = item.mention_id
        self.reply_pane.text.clear()

    def _told(self, label: str) -> Callable[[Any], None]:
        """Say what a story action did: how many items, and why any were left."""

        def tell(out: Any) -> None:
            if isinstance(out, Outcome):
                left = Counter(out.skipped.values()).most_common(2)
                self.statusBar().showMessage(
                    f"{label}: {len(out.done)} item(s)" + (
                        f"; left {len(out.skipped)}: " + "; ".join(f"{n}× {why}" for why, n in left)
                        if out.skipped else ""), 10000)  # fmt: skip

        return tell

    def claim(self) -> Future[Any] | None:
        return self._run(self.desk.claim)

    def claim_next(self) -> Future[Any] | None:
        return self._run(self.desk.claim_next, self._claimed_next)

    def release(self) -> Future[Any] | None:
        return self._run(self.desk.release)

    def send_template(self, name: str | None = None) -> Future[Any] | None:
        return self._run(lambda: self.desk.send_template(name or self.reply_pane.chosen_template()),
                         self._cleared)  # fmt: skip

    def save_draft(self) -> Future[Any] | None:
        return self._run(lambda: self.desk.save_draft(self.reply_pane.words()))

    def submit(self) -> Future[Any] | None:
        return self._run(lambda: self.desk.submit(self.reply_pane.words()), self._cleared)

    def send_direct(self) -> Future[Any] | None:
        return self._run(lambda: self.desk.send_direct(self.reply_pane.words()), self._cleared)

    def dismiss(self, reason: str | None = None) -> Future[Any] | None:
        return self._run(lambda: self.desk.dismiss(reason))

    def escalate(self, reason: str | None = None) -> Future[Any] | None:
        return self._run(lambda: self.desk.escalate(reason))

    def retry(self) -> Future[Any] | None:
        return self._run(self.desk.retry)

    def add_note(self, text: str | None = None) -> Future[Any] | None:
        note = self.item_pane.note_edit
        return self._run(lambda: self.desk.add_note(text if text is not None else note.text()),
                         lambda _: note.clear())  # fmt: skip

    def claim_story(self) -> Future[Any] | None:
        return self._run(self.desk.claim_story, self._told("Claimed with the story"))

    def answer_story(self, name: str | None = None) -> Future[Any] | None:
        return self._run(lambda: self.desk.answer_story(name or self.reply_pane.chosen_template()),
                         self._told("Answered"))  # fmt: skip

    def dismiss_duplicates(self, reason: str | None = None) -> Future[Any] | None:
        return self._run(lambda: self.desk.dismiss_duplicates(reason), self._told("Dismissed as duplicates"))

    def take_out(self) -> Future[Any] | None:
        return self._run(self.desk.take_out)

    def relabel(self, label: str) -> Future[Any] | None:
        """One key: the operator's sentiment class for the selected post."""
        return self._run(lambda: self.desk.relabel(label))

    def spotlight(self) -> Future[Any] | None:
        return self._run(self.desk.spotlight)

    def switch_scene(self, screen: str | None = None, scene: str | None = None) -> Future[Any] | None:
        w = self.walls_pane
        return self._run(lambda: self.desk.switch_scene(screen or w.screen_box.currentText(),
                                                        scene or w.scene_box.currentText()))  # fmt: skip

    def approve(self, reply_id: int | None = None) -> Future[Any] | None:
        return self._run(lambda: self.desk.approve(reply_id))

    def reject(self, reply_id: int | None = None, reason: str | None = None) -> Future[Any] | None:
        return self._run(lambda: self.desk.reject(reply_id, reason))

    def acknowledge(self, alert_id: int | None = None) -> Future[Any] | None:
        return self._run(lambda: self.desk.acknowledge(alert_id))

    def accept_alert(self, alert_id: int | None = None) -> Future[Any] | None:
        return self._run(lambda: self.desk.accept_alert(alert_id))

    def declare_crisis(self, reason: str | None = None, topic: str | None = None) -> Future[Any] | None:
        return self._run(lambda: self.desk.declare_crisis(reason, topic))

    def end_crisis(self, summary: str | None = None) -> Future[Any] | None:
        return self._run(lambda: self.desk.end_crisis(summary))

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
        if self.room_part is not None:
            self.room_part.close()
        if self.notifier.tray is not None:
            self.notifier.tray.hide()
        self.reader.close()
        self._watch.close()


def open_console(config: Config, db_path: Path, writer: StoreWriter) -> ConsoleWindow:
    """The console window, showing its sign-in page (launch.py keeps it until shutdown)."""
    window = ConsoleWindow(config, db_path, writer)
    window.show()
    return window
