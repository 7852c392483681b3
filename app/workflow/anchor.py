"""Anchoring the audit trail outside the database: the audit key, and signed checkpoints.

``[audit]`` in the config says where:

- ``key_name``: an environment variable or OS keyring entry (service ``watchfloor``) that
  holds the key as hex; else ``key_file`` (default: ``audit.key`` in the user data folder),
  created on first use with mode 0600 and 32 random bytes. The key must be readable by the
  accounts that run watchfloor (they sign every row) and by no one else.
- ``checkpoint_file``: a file the service appends signed checkpoints of the chain's head
  to (one JSON line each); IT makes it writable by the service account only. Each
  checkpoint also goes to the system journal (syslog) when ``syslog`` is on.
- ``checkpoint_every_min``: how often the outbox (in ``watchfloor poll``) writes one, when
  the head has moved.
"""

from __future__ import annotations

import contextlib
import json
import logging
import logging.handlers
import os
import sqlite3
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.paths import user_data_dir
from app.secrets import get_secret
from app.workflow import audit

log = logging.getLogger(__name__)
#: the checkpoints as log records: a handler to the system journal is attached here
journal = logging.getLogger("watchfloor.audit")

KEY_BYTES = 32
_EVERY_S = [300.0]


@dataclass(frozen=True, slots=True)
class Settings:
    key_name: str = ""
    key_file: str = ""
    checkpoint_file: str = ""
    checkpoint_every_min: float = 5.0
    syslog: bool = True


def settings_of(config: Any) -> Settings:
    """``[audit]`` of the config (defaults where a key is not set)."""
    section = getattr(config, "audit", None)
    if section is None:
        return Settings()
    return Settings(**{k: getattr(section, k) for k in Settings.__dataclass_fields__ if hasattr(section, k)})


def key_path(settings: Settings) -> Path:
    return Path(settings.key_file).expanduser() if settings.key_file else user_data_dir() / "audit.key"


def load_key(settings: Settings, *, create: bool = True) -> tuple[bytes | None, str]:
    """The audit key and a note on where it came from (or why there is none)."""
    if settings.key_name:
        value = get_secret(settings.key_name)
        if not value:
            return None, f"the audit key {settings.key_name} is not set (environment or keyring)"
        try:
            return bytes.fromhex(value.strip()), f"key {settings.key_name}"
        except ValueError:
            return value.encode("utf-8"), f"key {settings.key_name}"
    path = key_path(settings)
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        if not create:
            return None, f"no audit key at {path}"
        return _create_key(path)
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"the audit key {path} is not readable here ({type(exc).__name__})"
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("the audit key %s is readable by others than its owner: chmod 600 it", path)
    try:
        return bytes.fromhex(text), f"key file {path}"
    except ValueError:
        return None, f"the audit key {path} is damaged (not hex)"


def _create_key(path: Path) -> tuple[bytes | None, str]:
    key = os.urandom(KEY_BYTES)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it just now: use theirs
        return load_key(Settings(key_file=str(path)), create=False)
    except OSError as exc:
        return None, f"cannot create the audit key {path} ({exc.strerror})"
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key.hex() + "\n")
    log.info("audit key created at %s (mode 0600)", path)
    return key, f"key file {path}"


def configure(config: Any, *, create: bool = True) -> str:
    """Load the key and the checkpoint file for :mod:`app.workflow.audit`; a note for the log.

    ``create``: make a key where none exists (a command that writes); one that only checks
    never does, or a verification would compare old signatures with a brand-new key."""
    settings = settings_of(config)
    key, where = load_key(settings, create=create)
    checkpoints = Path(settings.checkpoint_file).expanduser() if settings.checkpoint_file else None
    audit.configure(key, checkpoints)
    _EVERY_S[0] = max(1.0, settings.checkpoint_every_min * 60)
    journal.setLevel(logging.INFO)  # a checkpoint is kept whatever the log's verbosity
    if settings.syslog and not any(isinstance(h, logging.handlers.SysLogHandler) for h in journal.handlers):
        for address in ("/dev/log", "/var/run/syslog"):  # journald's socket, macOS's
            if Path(address).exists():
                with contextlib.suppress(OSError):
                    handler = logging.handlers.SysLogHandler(address=address)
                    handler.setFormatter(logging.Formatter("watchfloor: %(message)s"))
                    journal.addHandler(handler)
                break
    if key is None:
        log.warning("audit rows are not signed: %s", where)
    return where


@dataclass(slots=True)
class Checkpointer:
    """Writes a signed checkpoint of the head when it moved and one is due."""

    every_s: float = field(default_factory=lambda: _EVERY_S[0])
    last_id: int = -1
    last_ts: float = 0.0

    def due(self, now: float) -> bool:
        return self.last_ts == 0.0 or now - self.last_ts >= self.every_s

    def write(self, conn: sqlite3.Connection, *, now: float | None = None) -> audit.Checkpoint | None:
        """Sign the head and put it outside the database (file, journal); None if nothing
        is due, the head has not moved, or there is no key to sign with."""
        now = time.time() if now is None else now
        key = audit.signing_key()
        if key is None or not self.due(now):
            return None
        head = audit.head(conn)
        self.last_ts = now
        if head is None or head[0] == self.last_id:
            return None
        cp = audit.Checkpoint(head[0], head[1], now, audit.checkpoint_mac(key, head[0], head[1], now))
        line = json.dumps({"id": cp.id, "hash": cp.hash, "ts": cp.ts, "mac": cp.mac})
        path = audit.checkpoint_path()
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
                with os.fdopen(fd, "a", encoding="utf-8") as fh:
                    fh.write(line + "\n")
            except OSError as exc:
                log.error("audit checkpoint not written to %s: %s", path, exc.strerror)
        journal.info("audit checkpoint %s", line)
        self.last_id = cp.id
        return cp
