"""systemd readiness and watchdog for the GUI process (``Type=notify``, ``WatchdogSec=``).

A wall that hangs still looks alive to a process supervisor: the process exists, the
picture on the monitors is frozen. So the pings come from the GUI thread's own event
loop: a QTimer sends ``WATCHDOG=1`` at half of ``$WATCHDOG_USEC``; when that thread stops
turning (a blocking call, a deadlock, an endless repaint) the pings stop and systemd kills
and restarts the unit. ``READY=1`` goes out from the first turn of the loop, so "started"
means the windows are up and the loop runs; ``STOPPING=1`` goes out when the app quits.

The protocol is a datagram of ``KEY=value`` lines to the AF_UNIX socket named in
``$NOTIFY_SOCKET`` (a path, or ``@name`` in the abstract namespace); nothing else is needed,
so there is no dependency on libsystemd. Without ``$NOTIFY_SOCKET`` (a desktop session,
Windows) this module does nothing.

Test hook: ``WATCHFLOOR_DEBUG_FREEZE_AFTER_S=N`` makes the GUI thread sleep forever N
seconds after ``READY=1``, a real GUI-thread hang, so a test can watch the pings stop
(tests/deploy/test_watchdog.py). It is meant for tests only and is never set by the units.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication

log = logging.getLogger(__name__)

FREEZE_HOOK = "WATCHFLOOR_DEBUG_FREEZE_AFTER_S"
DEFAULT_INTERVAL_S = 5.0  # no WatchdogSec= configured: a harmless ping now and then
MIN_INTERVAL_S = 0.05


def socket_address(value: str) -> str | bytes:
    """``$NOTIFY_SOCKET`` as a ``sendto`` address: ``@name`` is the abstract namespace."""
    if value.startswith("@"):
        return b"\0" + value[1:].encode()
    return value


def ping_interval_s(watchdog_usec: str | None, watchdog_pid: str | None) -> float:
    """Half the watchdog timeout (as sd_watchdog_enabled(3) advises), else a default.

    ``$WATCHDOG_PID`` names the process the watchdog is meant for; another process that
    inherited the variables (a child started by the unit's main process) uses the default.
    """
    if watchdog_pid and watchdog_pid.strip() != str(os.getpid()):
        return DEFAULT_INTERVAL_S
    try:
        usec = int(watchdog_usec or "0")
    except ValueError:
        return DEFAULT_INTERVAL_S
    if usec <= 0:
        return DEFAULT_INTERVAL_S
    return max(MIN_INTERVAL_S, usec / 2_000_000)


class Watchdog(QObject):
    """Sends sd_notify messages from the GUI thread; parented to the app to live as long."""

    def __init__(self, app: QApplication, address: str | bytes, interval_s: float) -> None:
        super().__init__(app)
        self.address = address
        self.interval_s = interval_s
        self.sent: list[str] = []  # the last few messages, for a debugger or a test in-process
        self._failed = False
        self._stopped = False
        self._sock: socket.socket | None = socket.socket(
            socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC
        )
        self._timer = QTimer(self)
        self._timer.setInterval(max(1, round(interval_s * 1000)))
        self._timer.timeout.connect(self.ping)
        app.aboutToQuit.connect(self.stop)

    def notify(self, message: str) -> bool:
        """Send one datagram; a supervisor that went away is logged once, never fatal."""
        if self._sock is None:
            return False
        try:
            self._sock.sendto(message.encode(), self.address)
        except OSError as exc:
            if not self._failed:
                log.warning("systemd notify socket unreachable: %s", exc)
                self._failed = True
            return False
        self.sent = [*self.sent[-9:], message]
        return True

    def start(self) -> None:
        """Queue READY=1 for the first turn of the event loop, then ping on the timer."""
        QTimer.singleShot(0, self, self._ready)

    def _ready(self) -> None:
        if self._stopped:
            return
        self.notify(f"READY=1\nSTATUS=wall running, watchdog ping every {self.interval_s:g} s")
        self.ping()
        self._timer.start()
        freeze = os.environ.get(FREEZE_HOOK)
        if freeze:
            log.warning("%s=%s: the GUI thread will hang on purpose", FREEZE_HOOK, freeze)
            QTimer.singleShot(round(float(freeze) * 1000), self, _hang)

    def ping(self) -> None:
        self.notify("WATCHDOG=1")

    def stop(self) -> None:
        """Say STOPPING=1 once, stop pinging and close the socket."""
        if self._stopped:
            return
        self._stopped = True
        self._timer.stop()
        self.notify("STOPPING=1")
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
            self._sock = None


def _hang() -> None:
    """The test hook's hang: the GUI thread never returns to its event loop."""
    while True:
        time.sleep(3600)


def start_watchdog(app: QApplication) -> Watchdog | None:
    """Start notifying systemd if it asked (``$NOTIFY_SOCKET``); ``None`` otherwise.

    The variables are removed from the environment, as sd_notify(3) does when asked, so
    child processes (doctor's display probe, a shell) do not speak for this service.
    """
    value = os.environ.pop("NOTIFY_SOCKET", "")
    usec = os.environ.pop("WATCHDOG_USEC", None)
    pid = os.environ.pop("WATCHDOG_PID", None)
    if not value or not hasattr(socket, "AF_UNIX"):
        return None
    if not (value.startswith(("/", "@"))):
        log.warning("NOTIFY_SOCKET=%r is neither a path nor an abstract name: ignored", value)
        return None
    try:
        watchdog = Watchdog(app, socket_address(value), ping_interval_s(usec, pid))
    except OSError as exc:
        log.warning("systemd notify socket: %s", exc)
        return None
    watchdog.start()
    log.info("systemd notify: READY once the loop runs, WATCHDOG=1 every %g s", watchdog.interval_s)
    return watchdog
