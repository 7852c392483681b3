"""Local console users: passwords hashed with scrypt, checked in constant time.

The parameters are stored with each hash, so they can be raised later without
invalidating the passwords already set.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import sqlite3
import time
from dataclasses import dataclass

from app.workflow import audit
from app.workflow.roles import ROLES

#: scrypt cost: 16 MiB of memory and ~50 ms per check on a workstation
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MIN_PASSWORD = 8
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


class AuthFailed(Exception):
    """Unknown user, wrong password or a disabled account (deliberately not saying which)."""


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: str
    send_unapproved: bool = False
    spokesperson: bool = False


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R,
                            p=SCRYPT_P, dklen=32)  # fmt: skip
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), n=int(n),
                             r=int(r), p=int(p), dklen=len(digest) // 2)  # fmt: skip
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(got.hex(), digest)


def add_user(
    conn: sqlite3.Connection,
    name: str,
    role: str,
    password: str,
    *,
    send_unapproved: bool = False,
    spokesperson: bool = False,
    by: str = "cli",
) -> User:
    """Create a user (inside the caller's transaction), audited."""
    if not _NAME.match(name):
        raise ValueError(f"a user name is 1-64 letters, digits or ._@- (got {name!r})")
    if role not in ROLES:
        raise ValueError(f"role must be one of: {', '.join(ROLES)} (got {role!r})")
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password needs at least {MIN_PASSWORD} characters")
    if conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
        raise ValueError(f"the user {name!r} exists already")
    conn.execute(
        "INSERT INTO users (name, role, password, send_unapproved, spokesperson, created_ts)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (name, role, hash_password(password), int(send_unapproved), int(spokesperson), time.time()),
    )
    after = {"role": role, "send_unapproved": send_unapproved, "spokesperson": spokesperson}
    audit.record(conn, by, "user.add", f"user:{name}", {}, after)
    return User(name, role, send_unapproved, spokesperson)


def set_password(conn: sqlite3.Connection, name: str, password: str, *, by: str = "cli") -> None:
    """A new password (someone forgot theirs), audited; the hash, never the password."""
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password needs at least {MIN_PASSWORD} characters")
    if not conn.execute("UPDATE users SET password = ? WHERE name = ?",
                        (hash_password(password), name)).rowcount:  # fmt: skip
        raise ValueError(f"no user {name!r}")
    audit.record(conn, by, "user.password", f"user:{name}", {}, {})


def set_disabled(conn: sqlite3.Connection, name: str, disabled: bool, *, by: str = "cli") -> None:
    """Someone left the team: they can no longer sign in or act; their history stays."""
    row = conn.execute("SELECT disabled FROM users WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise ValueError(f"no user {name!r}")
    conn.execute("UPDATE users SET disabled = ? WHERE name = ?", (int(disabled), name))
    audit.record(conn, by, "user.disable" if disabled else "user.enable", f"user:{name}",
                 {"disabled": bool(row[0])}, {"disabled": disabled})  # fmt: skip


def get_user(conn: sqlite3.Connection, name: str) -> User | None:
    row = conn.execute(
        "SELECT name, role, send_unapproved, spokesperson FROM users WHERE name = ? AND disabled = 0",
        (name,),
    ).fetchone()
    return User(row[0], row[1], bool(row[2]), bool(row[3])) if row else None


def authenticate(conn: sqlite3.Connection, name: str, password: str) -> User:
    """The user, if the password is right; :class:`AuthFailed` otherwise."""
    row = conn.execute(
        "SELECT password FROM users WHERE name = ? AND disabled = 0", (name,)
    ).fetchone()
    if row is None:
        check_password(password, hash_password("x" * MIN_PASSWORD))  # same time either way
        raise AuthFailed("unknown user or wrong password")
    if not check_password(password, row[0]):
        raise AuthFailed("unknown user or wrong password")
    user = get_user(conn, name)
    assert user is not None
    return user


def list_users(conn: sqlite3.Connection) -> list[User]:
    return [
        User(r[0], r[1], bool(r[2]), bool(r[3]))
        for r in conn.execute(
            "SELECT name, role, send_unapproved, spokesperson FROM users WHERE disabled = 0"
            " ORDER BY name"
        )
    ]
