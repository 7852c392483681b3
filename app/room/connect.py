"""Connecting to the room's PostgreSQL: the URL from the config, the password by name, TLS as set.

Every connection names itself (``application_name``) so ``doctor`` and IT can tell the
hub from a wall PC in ``pg_stat_activity``, and keeps TCP keepalives short on both ends,
so a machine that vanishes (power cut, cable pulled) frees its session — and the hub's
lock — within about twenty seconds instead of the kernel's two hours.
"""

from __future__ import annotations

import socket
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from app.config import Room
from app.secrets import get_secret, mask

#: the PostgreSQL schema (namespace) every room table lives in
SCHEMA = "watchfloor"
#: the NOTIFY channel; the payload is the id of a ``change_log`` row
CHANNEL = "watchfloor_change"
#: seconds to wait for a connection before calling the room unreachable
CONNECT_TIMEOUT_S = 5

# server side: the server drops a silent peer's session (and its advisory lock) this fast;
# no statement waits forever, and a program stuck inside a transaction (holding the audit
# head or a queue row) is cut off instead of holding up every other station
_OPTIONS = (
    f"-c search_path={SCHEMA} -c tcp_keepalives_idle=5 -c tcp_keepalives_interval=5"
    " -c tcp_keepalives_count=3 -c statement_timeout=30s"
    " -c idle_in_transaction_session_timeout=60s"
)


class RoomError(Exception):
    """A known, reportable room problem: unreachable, refused, wrong schema, missing secret."""


def check_url(value: str) -> str:
    """Accept a ``postgresql://user@host[:port]/database`` URL that carries no password."""
    if not value.startswith(("postgresql://", "postgres://")):
        raise ValueError("must start with postgresql:// (postgresql://user@host:5432/database)")
    try:
        parts = conninfo_to_dict(value)
    except psycopg.ProgrammingError as exc:
        raise ValueError(f"not a PostgreSQL URL: {str(exc).strip()}") from None
    if "password" in parts:
        raise ValueError("holds a password: take it out and name its variable in password_env")
    missing = [key for key in ("user", "host", "dbname") if not parts.get(key)]
    if missing:
        raise ValueError(f"names no {' and no '.join(missing)} "
                         "(postgresql://user@host:5432/database)")  # fmt: skip
    return value


def station_name(room: Room) -> str:
    """This machine's name in the room."""
    return room.station or socket.gethostname()


def url_user(room: Room) -> str:
    return str(conninfo_to_dict(room.url)["user"])


def conninfo(
    room: Room, *, purpose: str, user: str | None = None, password_env: str | None = None
) -> str:
    """A libpq connection string for ``room``; ``user``/``password_env`` override the config's."""
    env = password_env if password_env is not None else room.password_env
    extra: dict[str, Any] = {
        "application_name": f"watchfloor {purpose} {station_name(room)}"[:63],
        "sslmode": room.sslmode,
        "connect_timeout": CONNECT_TIMEOUT_S,
        "keepalives": 1,
        "keepalives_idle": 5,
        "keepalives_interval": 5,
        "keepalives_count": 3,
        "tcp_user_timeout": 15_000,
        "options": _OPTIONS,
    }
    if room.sslrootcert:
        extra["sslrootcert"] = room.sslrootcert
    if user:
        extra["user"] = user
    if env:
        secret = get_secret(env)
        if secret is None:
            raise RoomError(
                f"the room's password is not set: put it in the environment variable {env} "
                f"or the keyring entry {env} (service watchfloor)"
            )
        extra["password"] = secret
    return make_conninfo(room.url, **extra)


def describe(exc: BaseException) -> str:
    """One readable line for a database failure, with no secret in it."""
    if isinstance(exc, RoomError):
        return str(exc)
    text = " ".join(str(exc).split()) or type(exc).__name__
    text = text.removeprefix("connection failed: ")
    return mask(text)[:300]


def connect(
    room: Room,
    *,
    purpose: str,
    user: str | None = None,
    password_env: str | None = None,
    autocommit: bool = True,
) -> psycopg.Connection[Any]:
    """Open a connection, or raise :class:`RoomError` saying why in one line."""
    info = conninfo(room, purpose=purpose, user=user, password_env=password_env)
    try:
        return psycopg.connect(info, autocommit=autocommit)
    except psycopg.Error as exc:
        raise RoomError(f"cannot reach the room at {public_url(room)}: {describe(exc)}") from None


async def connect_async(
    room: Room, *, purpose: str, autocommit: bool = True
) -> psycopg.AsyncConnection[Any]:
    """The asyncio twin of :func:`connect` (the hub runs on the poller's event loop)."""
    info = conninfo(room, purpose=purpose)
    try:
        return await psycopg.AsyncConnection.connect(info, autocommit=autocommit)
    except psycopg.Error as exc:
        raise RoomError(f"cannot reach the room at {public_url(room)}: {describe(exc)}") from None


def public_url(room: Room) -> str:
    """The URL as people may see it (it never holds a password: the config refuses one)."""
    return room.url.split("?", 1)[0]
