"""Qt's own messages go to our log, not raw onto stderr.

Every GUI command ends in one clear line; Qt writing its warnings straight to stderr
breaks that. One message is dropped outright: the offscreen platform (snapshots, tests,
a wall started without a display server) says "This plugin does not support
propagateSizeHints()" for every window it shows, which is no problem of ours.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler

log = logging.getLogger("qt")

#: messages Qt's platform plugins print that say nothing about this program
KNOWN_NOISE = ("This plugin does not support propagateSizeHints()",)

_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}


def handle(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
    """Drop the known noise; everything else becomes a log record of the same weight."""
    if message.startswith(KNOWN_NOISE):
        return
    category = context.category if context is not None else None
    prefix = f"{category}: " if category and category != "default" else ""
    log.log(_LEVELS.get(kind, logging.WARNING), "%s%s", prefix, message)


def install() -> object:
    """Route Qt's messages through :func:`handle`; returns the handler it replaced."""
    return qInstallMessageHandler(handle)
