"""Logging: a rotating file in the user log folder plus stderr; secrets never reach either.

Known secret values (from the environment variables the config names, and every secret
or session token the process has read since) are masked by a filter on every handler, with
the one masking function of :mod:`app.secrets`, so even an exception message quoting a
token is safe to ship.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
from collections.abc import Iterable
from pathlib import Path

from app.paths import user_log_dir
from app.secrets import mask


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 4]

    def filter(self, record: logging.LogRecord) -> bool:
        # always: the process learns secrets after start-up too (keyring, sessions)
        record.msg, record.args = self.redact(record.getMessage()), None
        if record.exc_info:  # a traceback can quote a secret too: format it now, masked
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[secret]")
        return mask(text)


class OneLine(logging.Formatter):
    """stderr shows one line a record; the traceback stays in the log file (or ``-v``)."""

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text, record.stack_info
        record.exc_info = record.exc_text = record.stack_info = None
        try:
            return super().format(record)
        finally:
            record.exc_info, record.exc_text, record.stack_info = saved


def setup_logging(*, verbose: bool = False, secret_names: Iterable[str] = (), log_dir: Path | None = None,
                  to_file: bool = True) -> Path | None:  # fmt: skip
    """Configure the root logger; return the log file's path (None if files are off)."""
    level = logging.DEBUG if verbose else logging.INFO
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.setLevel(level)
    redact = RedactSecrets(os.environ.get(name, "") for name in secret_names)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    stderr = logging.StreamHandler()
    stderr.setLevel(level if verbose else logging.WARNING)
    stderr.setFormatter(fmt if verbose else OneLine(fmt._fmt))
    stderr.addFilter(redact)
    root.addHandler(stderr)
    path = None
    if to_file:
        folder = log_dir or user_log_dir()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / "watchfloor.log"
            file_handler = logging.handlers.RotatingFileHandler(
                path, maxBytes=5 * 1024 * 1024, backupCount=5, encoding="utf-8"
            )
        except OSError:
            path = None
        else:
            file_handler.setLevel(level)
            file_handler.setFormatter(fmt)
            file_handler.addFilter(redact)
            root.addHandler(file_handler)
    for noisy in ("httpx", "httpcore", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return path
