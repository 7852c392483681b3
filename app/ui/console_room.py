"""The console on the room: its actions go to the room's queue, its queue view reads the room.

Chosen once at start-up when ``[room]`` is set (the single-machine console never builds
this): the window keeps its parts and its guard, the desk becomes a
:class:`~app.room.desk.RoomDesk`, a job goes to the :class:`~app.room.desk.RoomLink`'s
thread instead of the store writer, and the queue's rows take each item's state from the
room (read on the console's worker thread, never the GUI's). A probe every few hundred
milliseconds beats this console's presence, reads who is where, re-reads the queue when
the room's change log moved (so another console's claim shows here within a second) and
claims for their holder the new items that joined a story claimed in the room (the
active hub does too, so it goes on when this console closes).
While the room is unreachable a banner says since when and every action is refused at
once; it goes on by itself when the room returns.
"""

from __future__ import annotations

import sqlite3
import time
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QBoxLayout, QPushButton

from app.config import Room
from app.room.changes import ChangeCursor
from app.room.connect import station_name
from app.room.desk import (
    Beat,
    RoomDesk,
    RoomDown,
    RoomLink,
    RoomSignIn,
    RoomView,
    Wakeup,
    not_shared,
    probe,
    read_room,
    room_detail,
    room_snapshot,
)
from app.room.presence import Activity
from app.room.queue import RoomQueue
from app.ui.console_parts import plain_label
from app.ui.console_presence import PresencePart
from app.workflow import queries
from app.workflow.desk import Job
from app.workflow.queries import Detail, QueueFilter
from app.workflow.snapshot import Snapshot
from app.workflow.states import WorkflowError

if TYPE_CHECKING:
    from app.ui.console import ConsoleWindow

#: seconds after the last key in the reply box that the console still counts as typing
TYPING_S = 10.0
#: seconds between heartbeats when nothing changed (well inside presence.FRESH_S)
BEAT_S = 5.0


class _Relay(QObject):
    beaten = Signal(object)
    lost = Signal()
    woken = Signal()


class ConsoleRoom(QObject):
    def __init__(self, console: ConsoleWindow, room: Room, *, probe_ms: int = 1000) -> None:
        super().__init__(console)
        self.console = console
        self.station = station_name(room)
        self.link = RoomLink(room)
        self.desk = RoomDesk(console.workflow, RoomQueue(), console._ask, cache=console.db_path,
                             station=self.station)
        console.desk = self.desk
        #: the room's last answer (kept while it is unreachable)
        self.view: RoomView | None = None
        self._resync = False
        self._probing = False
        self._again = False
        self._closed = False
        #: the room's change log as this console has read it (used on the link's thread only)
        self._cursor = ChangeCursor()
        self._was: str | None = None
        self._typed = 0.0
        self.banner = plain_label("", role="error")
        self.banner.hide()
        self.presence = PresencePart(self.station)
        outer = console.work.layout()
        assert isinstance(outer, QBoxLayout)
        outer.insertWidget(0, self.banner)
        item_box = console.item_pane.layout()
        assert isinstance(item_box, QBoxLayout)
        item_box.insertWidget(0, self.presence.on_item)
        console.statusBar().addWidget(self.presence.signed_in)
        console.reply_pane.text.textChanged.connect(self._typing)
        console.queue_pane.selected.connect(self._selected)
        self._relay = _Relay(self)
        self._relay.beaten.connect(self._beaten)
        self._relay.lost.connect(self._show_link)
        self._last: Beat | None = None
        #: what the last heartbeat said, and when (a look in between only reads)
        self._beat_key: tuple[str | None, str | None, str] | None = None
        self._beat_at = 0.0
        #: the action buttons' states while greyed out (None: the room is there)
        self._held: list[bool] | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(probe_ms)
        self._timer.timeout.connect(self._probe)
        self._timer.start()
        self._probe()
        self._relay.woken.connect(self._woken)
        self.wakeup = Wakeup(room, self._relay.woken.emit).start()
        sign_in = RoomSignIn(self.station)
        console.login.check_in = lambda name, password: self.link.act(
            lambda conn: sign_in(conn, name, password))  # fmt: skip
        console.login.refresh()

    # -- actions ------------------------------------------------------------------------

    def send(self, job: Job) -> Future[Any]:
        """The job on the room's thread; refused whole if the room does not share it or is down."""
        if not job.room:
            fut: Future[Any] = Future()
            fut.set_exception(WorkflowError(not_shared(job)))
            return fut
        fut = self.link.act(job.call)
        fut.add_done_callback(self._after)
        return fut

    def _after(self, fut: Future[Any]) -> None:
        exc = fut.exception()
        if exc is not None and not isinstance(exc, RoomDown):
            self._resync = True  # refused: what the operator now sees is what they act on
        if isinstance(exc, RoomDown):
            self._relay.lost.emit()  # the banner at once

    # -- reading (on the console's worker thread) -------------------------------------

    def _look(self, name: str) -> Any:
        def look(ids: list[str]) -> RoomView:
            try:
                view = self.link.submit(lambda c: read_room(c, name, ids)).result(timeout=60)
            except RoomDown:
                if self.view is None:
                    raise
                return self.view  # the last answer; the banner says the room is away
            self.view = view
            mid = self.desk.item
            if self._resync and mid is not None and mid in view.items:
                self.desk.seen, self._resync = view.items[mid][3], False
            return view

        return look

    def snapshot(self, conn: sqlite3.Connection, name: str, f: QueueFilter, priorities: list[int],
                 keep: str | None) -> Snapshot:  # fmt: skip
        return room_snapshot(conn, f, priorities, keep, self._look(name))

    def item_detail(self, conn: sqlite3.Connection, mention_id: str) -> Detail | None:
        view = self.view
        return room_detail(queries.item_detail(conn, mention_id),
                           view.items.get(mention_id) if view else None)  # fmt: skip

    def _selected(self, mention_id: object) -> None:
        """A newly opened item: its version as the queue showed it is what actions check."""
        view = self.view
        mid = mention_id if isinstance(mention_id, str) else None
        state = view.items.get(mid) if view and mid else None
        self.desk.open(mid, state[3] if state else None)
        self._show_presence()

    # -- presence and the link -----------------------------------------------------------

    def _typing(self) -> None:
        self._typed = time.monotonic()

    def _activity(self) -> Activity:
        c = self.console
        if c.current is None:
            return "idle"
        if c.reply_pane.words().strip() and time.monotonic() - self._typed < TYPING_S:
            return "typing"
        return "viewing"

    def _probe(self) -> None:
        if self._probing or self._closed:
            return
        self._probing = True
        user = self.console.user.name if self.console.user else None
        item, activity, was = self.console.current, self._activity(), self._was
        self._was = user
        key, now = (user, item, activity), time.monotonic()
        beat = key != self._beat_key or now - self._beat_at >= BEAT_S or not self.link.up
        if beat:
            self._beat_key, self._beat_at = key, now
        cursor = self._cursor
        stories = self.desk.room_stories

        def look(conn: Any) -> Beat:
            seen = probe(conn, self.station, user, was, item, activity, cursor, beat=beat)
            stories.route_joiners(conn)  # new items of a story claimed in the room: its holder's
            return seen

        fut = self.link.submit(look)
        fut.add_done_callback(lambda f: self._relay.beaten.emit(f.exception() or f.result()))

    def _woken(self) -> None:
        """A change in the room: look now (a probe under way looks again right after)."""
        if self._probing:
            self._again = True
        else:
            self._probe()

    def _beaten(self, result: object) -> None:
        if self._closed:
            return
        self._probing = False
        if self._again:
            self._again = False
            QTimer.singleShot(0, self._probe)
        was_down = self.banner.isVisible()
        self._show_link()
        if not isinstance(result, Beat):
            return
        self._last = result
        self._show_presence()
        if result.changed or was_down:
            self.console.reload()

    def _show_presence(self) -> None:
        last = self._last
        if last is not None:
            c = self.console
            self.presence.show(last.seen, me=c.user.name if c.user else None, item=c.current)
            c.queue_pane.model.show_viewers(self.presence.viewers)

    def _actions(self) -> list[QPushButton]:
        c = self.console
        return [*c.item_pane.buttons, *c.item_pane.story_buttons, *c.reply_pane.buttons,
                c.approvals_pane.approve_button, c.approvals_pane.reject_button]  # fmt: skip

    def _show_link(self) -> None:
        """The banner while the room is away, and the action buttons greyed (keys are refused)."""
        if self.link.up:
            if self._held is not None:
                for button, enabled in zip(self._actions(), self._held, strict=True):
                    button.setEnabled(enabled)  # as the user's role had them
                self._held = None
            self.banner.hide()
            return
        self.banner.setText(f"Room link lost — {self.link.down_text().replace(', nothing was done', '')}."
                            " Actions are refused until it returns.")  # fmt: skip
        self.banner.show()
        if self._held is None:
            self._held = [b.isEnabled() for b in self._actions()]
            for button in self._actions():
                button.setEnabled(False)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._timer.stop()
        self.wakeup.stop()
        user = self._was
        if user is not None and self.link.up:
            self.link.submit(
                lambda conn: probe(conn, self.station, None, user, None, "idle", self._cursor)
            )
        self.link.close()
