"""The GUI process: one event loop (qasync) for the poller, the walls and the console.

``watchfloor run`` starts all three; ``wall`` only the walls (a display PC, optionally
polling); ``console`` only the console. A wall window goes on every attached monitor
and is placed again when monitors come or go; the walls keep running when the console
closes, and a kiosk wall closes only through the admin key chord.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QKeyCombination, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCursor, QFont, QGuiApplication, QKeyEvent, QKeySequence, QScreen
from PySide6.QtWidgets import QApplication

from app.config import Config
from app.layouts import LayoutError, LoadedLayout, Monitor, check_tiles, load_layout, place_screens
from app.ui import theme
from app.ui.tilebase import TileSpec, load_registry, option_models
from app.ui.wall import WallWindow
from app.ui.walldata import WallHub

if TYPE_CHECKING:
    from app.ui.console import ConsoleWindow

log = logging.getLogger(__name__)


def apply_theme(app: QApplication, name: str) -> None:
    font = QFont(theme.FONT_FAMILY)
    font.setPixelSize(16)
    app.setFont(font)
    app.setStyleSheet(theme.style_sheet(name))


def tune_for_gui() -> None:
    """Keep the GUI thread responsive beside the writer thread's CPU work.

    - Everything built at start-up (Qt, pyqtgraph, tiles, the sentiment lexicon) lives as
      long as the program: frozen, a full garbage collection no longer walks it (that
      walk stalled the wall for tens of milliseconds).
    - The writer thread scores sentiment in Python; threads share one interpreter lock,
      which by default changes hands every 5 ms. Every millisecond shortens the wait of
      a GUI thread that wants it (bench/wall.py: p99 lateness about halved).
    """
    gc.collect()
    gc.freeze()
    sys.setswitchinterval(0.001)


def monitor_of(screen: QScreen) -> Monitor:
    g = screen.geometry()
    return Monitor(screen.name(), g.x(), g.y(), g.width(), g.height())


class KioskCursor(QObject):
    """Hides the pointer after a few idle seconds; any movement brings it back."""

    def __init__(self, app: QApplication, idle_s: float) -> None:
        super().__init__(app)
        self.app = app
        self.hidden = False
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(int(idle_s * 1000))
        self.timer.timeout.connect(self.hide)
        app.installEventFilter(self)
        self.timer.start()

    def hide(self) -> None:
        if not self.hidden:
            self.app.setOverrideCursor(QCursor(Qt.CursorShape.BlankCursor))
            self.hidden = True

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.MouseMove:
            if self.hidden:
                self.app.restoreOverrideCursor()
                self.hidden = False
            self.timer.start()
        return False


class AdminChord(QObject):
    """The one key chord that closes the whole wall set, whichever window has the focus.

    An application-wide ``QShortcut`` per window would be one chord registered several
    times, which Qt treats as ambiguous and never fires: a wall of three windows could
    not be closed. One filter on the application sees every key press once.
    """

    pressed = Signal()

    def __init__(self, app: QApplication, chord: str) -> None:
        super().__init__(app)
        self.app = app
        sequence = QKeySequence(chord)
        # the stubs lack QKeySequence.__getitem__ (operator[] in C++)
        self.combination = sequence[0].toCombined() if sequence.count() else 0  # type: ignore[index]
        app.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and self.combination:
            assert isinstance(event, QKeyEvent)
            mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
            if not event.isAutoRepeat() and QKeyCombination(mods, Qt.Key(event.key())).toCombined() == self.combination:
                self.pressed.emit()
                return True
        return False

    def close(self) -> None:
        self.app.removeEventFilter(self)


class WallSet(QObject):
    """A wall window on every monitor, re-placed when monitors are attached or removed.

    A kiosk set also keeps its windows up: one hidden, minimised ("show desktop") or
    covered by another window is shown full screen and raised again within
    :attr:`keep_ms`, so a window manager's gesture never leaves a monitor dark.
    """

    def __init__(self, app: QApplication, hub: WallHub, loaded: LoadedLayout,
                 registry: dict[str, TileSpec], *, kiosk: bool, admin_chord: str,
                 on_quit: Callable[[], None], keep_ms: int = 2000) -> None:  # fmt: skip
        super().__init__(app)
        self.app = app
        self.hub = hub
        self.loaded = loaded
        self.registry = registry
        self.kiosk = kiosk
        self.admin_chord = admin_chord
        self.windows: list[WallWindow] = []
        self.colours: dict[str, str] = {}
        self.on_quit = on_quit
        app.screenAdded.connect(self._replace_soon)
        app.screenRemoved.connect(self._replace_soon)
        self._pending = QTimer(self)
        self._pending.setSingleShot(True)
        self._pending.setInterval(500)  # monitors often come and go in bursts
        self._pending.timeout.connect(self.place)
        hub.command.connect(self._on_command)
        hub.reopened.connect(self.place)  # the database opened at last: tiles read the new one
        self._closed = False
        self.chord = AdminChord(app, admin_chord)
        self.chord.pressed.connect(on_quit)
        self.keeper = QTimer(self)
        self.keeper.setInterval(keep_ms)
        self.keeper.timeout.connect(self.keep_up)
        if kiosk:
            self.keeper.start()

    def keep_up(self) -> None:
        """Bring back a kiosk window that was hidden, minimised or covered."""
        ours = {id(w) for w in self.windows}
        active = QApplication.activeWindow()
        other_active = active is not None and id(active) not in ours  # the console in use: leave it on top
        for window in self.windows:
            down = not window.isVisible() or bool(window.windowState() & Qt.WindowState.WindowMinimized)
            if down or not window.isFullScreen():
                window.setWindowState(Qt.WindowState.WindowFullScreen)
                window.showFullScreen()
                log.info("kiosk: the wall on %s was hidden or minimised; shown again", window.screens[0].name)
            if down or not other_active:
                window.raise_()

    def _replace_soon(self, *_: object) -> None:
        self._pending.start()

    def _on_command(self, cmd: object) -> None:
        from app.wallcontrol import WallCommand

        if isinstance(cmd, WallCommand) and cmd.command == "reload":
            try:
                self.loaded = load_layout(str(self.loaded.path))
            except LayoutError as exc:
                log.error("reload: %s", exc)
                return
            self.place()

    def place(self) -> None:
        for window in self.windows:
            window.shutdown()
            window.deleteLater()
        self.windows.clear()
        qscreens = {s.name(): s for s in QGuiApplication.screens()}
        placements, orphans = place_screens(self.loaded.layout, [monitor_of(s) for s in qscreens.values()])
        for orphan in orphans:
            log.warning("layout screen %r has no monitor: its scenes rotate on another", orphan.name)
        for placement in placements:
            m = placement.monitor
            window = WallWindow(placement.screens, self.hub, self.registry, size=(m.width, m.height),
                                kiosk=self.kiosk, colours=self.colours)  # fmt: skip
            qscreen = qscreens.get(m.name)
            if qscreen is not None:
                window.setScreen(qscreen)
            window.setGeometry(m.x, m.y, m.width, m.height)
            if self.kiosk:
                window.showFullScreen()
            else:
                window.show()
            window.start(offset_s=1.5 * len(self.windows))  # screens do not all flip at once
            self.windows.append(window)
        log.info("walls: %d window(s) for layout %s", len(self.windows), self.loaded.name)

    def close(self) -> None:
        """Close every window and stop listening: a closed set never places windows again."""
        if self._closed:
            return
        self._closed = True
        self.app.screenAdded.disconnect(self._replace_soon)
        self.app.screenRemoved.disconnect(self._replace_soon)
        self.hub.command.disconnect(self._on_command)
        self.hub.reopened.disconnect(self.place)
        self._pending.stop()
        self.keeper.stop()
        self.chord.close()
        for window in self.windows:
            window.shutdown()
        self.windows.clear()


def run_gui(
    config: Config,
    db_path: Path,
    *,
    walls: bool,
    console: bool,
    poll: bool,
    layout: str | None,
    kiosk: bool,
) -> int:
    import qasync

    from app.poller import Poller
    from app.store.writer import StoreWriter

    loaded = None
    registry: dict[str, TileSpec] = {}
    if walls:
        try:
            registry = load_registry()  # first: a layout's shape and its tiles are checked at once
            loaded = load_layout(layout or config.wall.layout, option_models(registry))
            problems = check_tiles(loaded, option_models(registry))
            if problems:
                raise LayoutError(loaded.path, problems)
        except LayoutError as exc:
            print(f"watchfloor: layout error in {exc}", file=sys.stderr)
            return 2

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("watchfloor")
    app.setQuitOnLastWindowClosed(False)  # the walls outlive the console; we decide when to stop
    apply_theme(app, config.wall.theme)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    done = asyncio.Event()

    def request_quit() -> None:
        loop.call_soon_threadsafe(done.set)

    room = config.room
    if room is not None and poll:  # never a second poller beside the room's hub
        log.warning("in a room the hub polls (`watchfloor poll`); this machine fills its cache")
        poll = False
    writer = (
        StoreWriter(db_path, config, maintenance=poll or room is not None).start()
        if (poll or console or room is not None) else None
    )  # fmt: skip
    hub = None
    wallset = None
    if walls and loaded is not None:
        hub = WallHub(db_path, config)  # it reads the change log: any writer, any process
        wallset = WallSet(app, hub, loaded, registry, kiosk=kiosk,
                          admin_chord=config.wall.admin_chord, on_quit=request_quit)  # fmt: skip
        wallset.place()
        hub.start()
        if kiosk:
            KioskCursor(app, config.wall.cursor_idle_s)
    from app.ui.watchdog import start_watchdog

    start_watchdog(app)
    console_window: ConsoleWindow | None = None
    if console:
        assert writer is not None
        from app.ui.console import open_console

        console_window = open_console(config, db_path, writer)
    if not walls:
        app.lastWindowClosed.connect(request_quit)

    # the outbox sends approved replies wherever a console or a poller runs; in a room the
    # replies are the room's, and its active hub sends them (a cache's outbox would free
    # claims and write audit rows the room never sees)
    workflow = None
    if (console or poll) and config.room is None:
        from app.workflow.setup import build_workflow
        from app.workflow.templates import TemplateError

        try:
            workflow = build_workflow(config)
        except TemplateError as exc:
            log.error("template error in %s: replies wait until it is fixed", exc)
    poller = (
        Poller(config, writer, workflow=workflow, fetch=poll)
        if writer is not None and (poll or workflow is not None) else None
    )  # fmt: skip
    if poller is not None and console_window is not None:
        console_window.thread_fetcher = poller.thread_context
    tune_for_gui()
    # Python runs signal handlers only between bytecodes: a timer lets it look regularly
    stopped_by: list[int] = []  # the signal that asked the stop: the last line and exit code
    started = time.monotonic()

    def on_signal(signum: int, _frame: object) -> None:
        stopped_by.append(signum)
        request_quit()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    station = None
    if room is not None and writer is not None:  # the cache filled from the room
        from app.room.station import Station

        station = Station(room, writer).start()
    heartbeat = QTimer()
    heartbeat.start(250)
    heartbeat.timeout.connect(lambda: None)

    async def main() -> None:
        task = asyncio.ensure_future(poller.run()) if poller else None
        await done.wait()
        if poller is not None and task is not None:
            await poller.stop()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, timeout=15)

    try:
        with loop:
            loop.run_until_complete(main())
    finally:
        heartbeat.stop()
        if wallset is not None:
            wallset.close()
        if hub is not None:
            hub.close()
        if console_window is not None:
            console_window.close()
        if station is not None:
            station.stop()
        if writer is not None:
            writer.close()
    from app.cli import stop_verdict

    return stop_verdict(stopped_by[0] if stopped_by else None, time.monotonic() - started)
