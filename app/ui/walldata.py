"""The wall's link to the store: one reader, one change channel, throttled tile refreshes.

Changes arrive one way: the change log (:mod:`app.store.changelog`), read on from the
last id the wall saw, whichever process committed (this one's writer, a console, a
poller, a hub filling this cache). Tiles are marked dirty when a change concerns them
and re-read at most once per :attr:`WallHub.throttle_ms`, and only while visible; a
hidden tile stays dirty and catches up when its scene is shown.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from app import wallcontrol, wallquery
from app.config import Config
from app.store import tables as T
from app.store.changelog import EVERYTHING, Change, ChangeFeed, SqliteChangeFeed
from app.store.db import StoreError, describe_error, open_reader
from app.store.schema import migrate
from app.ui.tilebase import Tile

log = logging.getLogger(__name__)

__all__ = ["EVERYTHING", "WallHub"]

#: the key of "the database did not open" among the failures the wall shows
_OPENING = -1
#: seconds between attempts to open a database that failed to open
REOPEN_S = 10.0

#: commits to these tables can change the crisis state or bring wall commands
CONTROL_TABLES = frozenset({T.EVERY, T.ALERTS, T.CRISES, T.WALL_COMMANDS})
#: what people change (a claim, a reply, an acknowledgement, a crisis, a wall command): the
#: wall shows it within :data:`PROMPT_MS`, while the stream of mentions waits for the
#: throttled tick
PROMPT_TABLES = frozenset(
    {T.QUEUE, T.QUEUE_COUNTS, T.REPLIES, T.ALERTS, T.CRISES, T.CRISIS_EVENTS, T.WALL_COMMANDS}
)
PROMPT_MS = 100


class WallHub(QObject):
    crisis_changed = Signal(object)  # wallcontrol.Crisis | None
    command = Signal(object)  # wallcontrol.WallCommand
    #: how live the picture is changed (wallquery.Freshness), or the database failed (str)
    health_changed = Signal()
    #: the database opened at last after failing to: the windows must be built again
    reopened = Signal()

    def __init__(
        self,
        db_path: Path,
        config: Config,
        *,
        throttle_ms: int = 1000,
        clock: Callable[[], float] = time.time,
        feed: Callable[[sqlite3.Connection], ChangeFeed] = SqliteChangeFeed,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.config = config
        self.clock = clock
        self.db_path = db_path
        #: a database problem the wall must show (damaged file, unreadable), or ""
        self.problem = ""
        self._db_failing: set[int] = set()
        self.conn: sqlite3.Connection = self._open()
        self.throttle_ms = throttle_ms
        self._tiles: list[Tile] = []
        self._dirty: set[int] = set()
        self._last: dict[int, float] = {}
        #: where changes come from (a room's log later); it keeps the last id seen
        self.feed: ChangeFeed = feed(self.conn)
        self._tables = T.existing(self.conn)
        self._crisis: wallcontrol.Crisis | None = None
        self._command_id = wallcontrol.last_command_id(self.conn)
        self.timer = QTimer(self)
        self.timer.setInterval(throttle_ms)
        self.timer.timeout.connect(self.tick)
        #: between ticks: a cheap look (``data_version``) for what people changed
        self.prompt_timer = QTimer(self)
        self.prompt_timer.setInterval(min(PROMPT_MS, throttle_ms))
        self.prompt_timer.timeout.connect(self.prompt)
        self._urgent: set[int] = set()
        #: GUI time one refresh slice may take before the event loop runs again
        self.slice_ms = 6.0
        self._pending: deque[Tile] = deque()
        self._pending_keys: set[int] = set()
        self._failing: set[int] = set()
        self._slice = QTimer(self)
        self._slice.setSingleShot(True)
        self._slice.setInterval(0)
        self._slice.timeout.connect(self._refresh_slice)
        #: seconds of GUI-thread time spent in the last refresh slice
        self.last_refresh_s = 0.0
        #: how live the data is, judged by each source's age (read every tick)
        self.freshness = wallquery.Freshness()
        self._health_key: tuple[object, ...] = ()
        self._reopen_at = 0.0
        self._stale: tuple[bool, float | None] = (False, None)

    # -- lifecycle -----------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        """The reader; a file that cannot be opened (damaged, unreadable) leaves the wall
        up on an empty picture that says why, instead of no wall at all."""
        try:
            conn = open_reader(self.db_path)
        except StoreError as exc:
            self.problem = f"database problem · {exc}"
            self._db_failing.add(_OPENING)
            conn = sqlite3.connect(":memory:", isolation_level=None)
            migrate(conn)
        return conn

    def try_reopen(self) -> bool:
        """After an open failed: try the file again (IT replaced it); True when it opened.

        The windows are built again on :attr:`reopened`, so every tile reads the new file.
        """
        if _OPENING not in self._db_failing:
            return False
        self._db_failing.discard(_OPENING)
        conn = self._open()
        if _OPENING in self._db_failing:
            conn.close()
            return False
        old, self.conn = self.conn, conn
        old.close()
        self.feed = SqliteChangeFeed(conn)
        self._tables = T.existing(conn)
        self._db_failing.clear()
        self.problem = ""
        self.reopened.emit()
        return True

    def start(self) -> None:
        self.read_control()
        self.read_health()
        self.timer.start()
        self.prompt_timer.start()

    def close(self) -> None:
        self.timer.stop()
        self.prompt_timer.stop()
        self._slice.stop()
        self._pending.clear()
        self._pending_keys.clear()
        self._tiles.clear()
        self.conn.close()

    # -- tiles ---------------------------------------------------------------------

    def add_tile(self, tile: Tile) -> None:
        """Take a tile in; one that names a table the database lacks is refused (a typo
        would otherwise leave it deaf to every change)."""
        try:
            T.check(tile.tables, self._tables)
        except ValueError as exc:
            raise ValueError(f"tile {type(tile).__name__}: {exc}") from None
        self._tiles.append(tile)
        tile.set_stale(*self._stale)  # a tile made after the last judgement knows it too
        self._dirty.add(id(tile))

    def remove_tiles(self, tiles: list[Tile]) -> None:
        gone = {id(t) for t in tiles}
        self._tiles = [t for t in self._tiles if id(t) not in gone]
        self._dirty -= gone
        self._urgent -= gone
        for key in gone:
            self._last.pop(key, None)
        self._pending = deque(t for t in self._pending if id(t) not in gone)
        self._pending_keys -= gone

    def _shown(self, tile: Tile) -> bool:
        """Visible now; a tile whose window was destroyed without shutting down (its
        C++ side gone) is dropped here, so a stale reference never stops the wall."""
        try:
            return tile.widget().isVisible()
        except RuntimeError:
            self.remove_tiles([tile])
            return False

    def _live_tiles(self) -> list[Tile]:
        return [t for t in list(self._tiles) if self._alive(t)]

    def _alive(self, tile: Tile) -> bool:
        try:
            tile.widget().isHidden()  # any call into Qt fails once the widget is gone
        except RuntimeError:
            self.remove_tiles([tile])
            return False
        return True

    @property
    def tiles(self) -> list[Tile]:
        return list(self._tiles)

    # -- changes -------------------------------------------------------------------

    def on_change(self, change: Change) -> None:
        urgent = bool(change.tables & PROMPT_TABLES)
        for tile in self._tiles:
            if tile.concerns(change):
                self._dirty.add(id(tile))
                if urgent:
                    self._urgent.add(id(tile))

    def prompt(self) -> None:
        """Between ticks: read what was committed; tiles that show what a person changed
        are refreshed now, the rest wait for the tick (mentions arrive all the time)."""
        self.read_changes()
        if self._urgent:
            self.refresh_due(urgent_only=True)

    def read_changes(self) -> int:
        """Read the change log on from the last id seen; mark the tiles it concerns.

        Returns how many changes were read (a gap counts as one that touched everything).
        """
        try:
            batch = self.feed.read()
        except sqlite3.Error:
            log.exception("reading the change log failed")
            return 0
        changes = [EVERYTHING] if batch.gap else batch.changes
        control = False
        for change in changes:
            self.on_change(change)
            control = control or bool(change.tables & CONTROL_TABLES)
        if control:
            self.read_control()
        return len(changes)

    def tick(self) -> None:
        """Once a throttle interval: read what was committed meanwhile, judge how live the
        data is (age goes on with no commit at all), refresh what is due."""
        self.read_changes()
        self.read_health()
        self.refresh_due()

    def read_health(self) -> None:
        """Judge the sources by age and tell tiles whose data comes from them."""
        now = time.monotonic()
        if _OPENING in self._db_failing and now >= self._reopen_at:
            self._reopen_at = now + REOPEN_S
            if self.try_reopen():
                return
        try:
            self.freshness = wallquery.freshness(self.conn, self.config, self.clock())
        except sqlite3.Error as exc:
            self._fail(0, exc)
        else:
            self._db_failing.discard(0)
        if not self._db_failing:
            self.problem = self._room_problem() if self.config.room is not None else ""
        since = self.freshness.stale_since if not self.freshness.live else None
        stale = not self.freshness.live
        self._stale = (stale, since)
        for tile in self._live_tiles():
            tile.set_stale(stale, since)
        key = (stale, since, len(self.freshness.not_live), self.problem)
        if key != self._health_key:
            self._health_key = key
            self.health_changed.emit()

    def _room_problem(self) -> str:
        """"room link lost · since 10:42 …" while this station's cache cannot reach the room."""
        from app.room.station import read_link

        try:
            link = read_link(self.conn)
        except sqlite3.Error:
            return ""
        if not link or link.get("state") != "lost":
            return ""
        since = time.strftime("%H:%M", time.localtime(float(link.get("since") or 0)))
        return f"room link lost · since {since}, showing this machine's copy ({link.get('error', '')})"

    def _fail(self, key: int, exc: sqlite3.Error) -> None:
        """Remember a database error (``key``: a tile, or 0 for the health read) to show it."""
        self._db_failing.add(key)
        self.problem = f"database problem · {describe_error(exc, self.db_path)}"

    def refresh_due(self, *, force_visible: bool = False, urgent_only: bool = False) -> int:
        """Queue visible tiles that are dirty or past their period; return how many.

        They are refreshed a slice at a time (:attr:`slice_ms` of GUI time, then the event
        loop runs again), so a scene change or a burst of changes never freezes the wall
        for the sum of all its tiles.
        """
        now = time.monotonic()
        queued = 0
        for tile in self._tiles:
            key = id(tile)
            if not self._shown(tile) or key in self._pending_keys:
                continue
            if urgent_only:
                if key in self._urgent:
                    self._pending.append(tile)
                    self._pending_keys.add(key)
                    queued += 1
                continue
            stale = tile.period_s > 0 and now - self._last.get(key, 0.0) >= tile.period_s
            if key in self._dirty or stale or force_visible:
                self._pending.append(tile)
                self._pending_keys.add(key)
                queued += 1
        if self._pending and not self._slice.isActive():
            self._slice.start()
        return queued

    def _refresh_slice(self) -> None:
        t0 = time.perf_counter()
        deadline = t0 + self.slice_ms / 1000
        while self._pending:
            tile = self._pending.popleft()
            key = id(tile)
            self._pending_keys.discard(key)
            if not self._shown(tile):
                continue  # hidden meanwhile: it stays dirty and waits for its scene
            if not self._refresh_one(tile):
                continue
            if time.perf_counter() >= deadline:
                break
        self.last_refresh_s = time.perf_counter() - t0
        if self._pending:
            self._slice.start()

    def refresh_now(self) -> int:
        """Refresh every visible tile at once (snapshots, tests): no slicing."""
        self.refresh_due(force_visible=True)
        done = 0
        while self._pending:
            tile = self._pending.popleft()
            self._pending_keys.discard(id(tile))
            if self._shown(tile) and self._refresh_one(tile):
                done += 1
        return done

    def _refresh_one(self, tile: Tile) -> bool:
        """Refresh one tile; a failing tile is logged (once until it recovers), never fatal:
        a wall runs unattended, and one broken tile must not stop the others."""
        key = id(tile)
        self._last[key] = time.monotonic()  # a failing tile waits its turn like the others
        try:
            tile.refresh()
        except Exception as exc:
            if isinstance(exc, sqlite3.Error):
                self._fail(key, exc)  # the title bar says so: blank tiles alone would look calm
            if key not in self._failing:
                log.exception("tile %s failed to refresh", type(tile).__name__)
                self._failing.add(key)
            return False
        self._failing.discard(key)
        self._db_failing.discard(key)
        self._dirty.discard(key)
        self._urgent.discard(key)
        return True

    def refresh_all_visible(self) -> int:
        return self.refresh_now()

    # -- wall control ----------------------------------------------------------------

    def read_control(self) -> None:
        """Crisis state and new commands; both are a few indexed rows."""
        try:
            crisis = wallcontrol.crisis_state(self.conn)
            commands = wallcontrol.commands_since(self.conn, self._command_id)
        except sqlite3.Error:
            log.exception("reading wall control failed")
            return
        if (crisis is None) != (self._crisis is None) or (
            crisis and self._crisis and (crisis.crisis_id, crisis.reason) != (self._crisis.crisis_id, self._crisis.reason)
        ):
            self._crisis = crisis
            self.crisis_changed.emit(crisis)
        for cmd in commands:
            self._command_id = cmd.id
            self.command.emit(cmd)

    @property
    def crisis(self) -> wallcontrol.Crisis | None:
        return self._crisis
