"""The room's users: the console's accounts shared by every station, in PostgreSQL.

The rules are the local ones (:mod:`app.workflow.users`): the same names, roles and
password checks, the same scrypt hashes (a hash moves between the stores unchanged), the
same per-account backoff and lockout and per-station backoff, with the same constants.
What differs is only where it is written: the failure counters live in the room's
``signin_failures``, so a lockout holds at every station, not only the one that was
guessed at; every change is appended to the room's audit chain.
"""

from __future__ import annotations

import math
import time
from typing import Any

import psycopg

from app.room.queue import append_audit
from app.workflow.users import (
    LOCKOUT_S,
    MAX_BACKOFF_S,
    STATION_BACKOFF_AFTER,
    USER_BACKOFF_AFTER,
    USER_LOCK_AFTER,
    AuthFailed,
    SignInThrottled,
    User,
    _backoff,
    _decoy_hash,
    _require_password,
    _station_key,
    _user_key,
    check_new_user,
    check_password,
    hash_password,
    needs_rehash,
)

Conn = psycopg.Connection[Any]


def _canonical(conn: Conn, name: str) -> str | None:
    """The stored spelling of ``name`` (names compare without regard to case)."""
    row = conn.execute(
        "SELECT name FROM users WHERE lower(name) = lower(%s)", (name.strip(),)
    ).fetchone()
    return str(row[0]) if row else None


def _existing(conn: Conn, name: str) -> str:
    canonical = _canonical(conn, name)
    if canonical is None:
        raise ValueError(f"no user {name!r}")
    return canonical


def add_user(conn: Conn, name: str, role: str, password: str, *, send_unapproved: bool = False,
             spokesperson: bool = False, by: str = "cli") -> User:  # fmt: skip
    """Create a user, audited; refused as the local store refuses it."""
    name = check_new_user(name, role, password)
    hashed = hash_password(password)  # slow: before the transaction, which holds the audit head
    with conn.transaction():
        existing = _canonical(conn, name)
        if existing is not None:
            raise ValueError(f"the user {existing!r} exists already")
        try:
            with conn.transaction():  # a savepoint: a racing station's insert is said, not raised
                conn.execute(
                    "INSERT INTO users (name, role, password, send_unapproved, spokesperson,"
                    " created_ts) VALUES (%s, %s, %s, %s, %s, %s)",
                    (name, role, hashed, send_unapproved, spokesperson, time.time()),
                )
        except psycopg.errors.UniqueViolation:
            raise ValueError(f"the user {name!r} exists already") from None
        after = {"role": role, "send_unapproved": send_unapproved, "spokesperson": spokesperson}
        append_audit(conn, by, "user.add", f"user:{name}", {}, after, now=time.time())
    return User(name, role, send_unapproved, spokesperson)


def set_password(conn: Conn, name: str, password: str, *, by: str = "cli") -> None:
    """A new password, audited (the fact, never the password nor its hash)."""
    canonical = _existing(conn, name)
    _require_password(canonical, password)
    hashed = hash_password(password)
    with conn.transaction():
        conn.execute("UPDATE users SET password = %s WHERE name = %s", (hashed, canonical))
        append_audit(conn, by, "user.password", f"user:{canonical}", {}, {}, now=time.time())


def set_disabled(conn: Conn, name: str, disabled: bool, *, by: str = "cli") -> None:
    """Someone left the team: no station lets them sign in; their history stays."""
    with conn.transaction():
        canonical = _existing(conn, name)
        (was,) = conn.execute("SELECT disabled FROM users WHERE name = %s FOR UPDATE",
                              (canonical,)).fetchone() or (False,)  # fmt: skip
        conn.execute("UPDATE users SET disabled = %s WHERE name = %s", (disabled, canonical))
        append_audit(conn, by, "user.disable" if disabled else "user.enable", f"user:{canonical}",
                     {"disabled": bool(was)}, {"disabled": disabled}, now=time.time())  # fmt: skip


def unlock(conn: Conn, name: str, *, by: str = "cli") -> int:
    """Lift a lockout (and the backoff) at every station; audited. Returns the failures forgiven."""
    now = time.time()
    with conn.transaction():
        canonical = _existing(conn, name)
        row = conn.execute("DELETE FROM signin_failures WHERE key = %s RETURNING failures, until_ts",
                           (_user_key(canonical),)).fetchone()  # fmt: skip
        failures = int(row[0]) if row else 0
        append_audit(conn, by, "user.unlock", f"user:{canonical}",
                     {"failures": failures, "locked": bool(row and row[1] > now)},
                     {"failures": 0, "locked": False}, now=now)  # fmt: skip
    return failures


def list_users(conn: Conn) -> list[User]:
    """The enabled users, by name."""
    rows = conn.execute("SELECT name, role, send_unapproved, spokesperson FROM users"
                        " WHERE NOT disabled ORDER BY lower(name)").fetchall()  # fmt: skip
    return [User(str(r[0]), str(r[1]), bool(r[2]), bool(r[3])) for r in rows]


# -- signing in ---------------------------------------------------------------------------


def _throttled(conn: Conn, name: str, station: str, now: float) -> SignInThrottled | None:
    rows = dict(conn.execute("SELECT key, until_ts FROM signin_failures WHERE key IN (%s, %s)",
                             (_user_key(name), _station_key(station))).fetchall())  # fmt: skip
    user_until = float(rows.get(_user_key(name), 0.0))
    wait = max(user_until, float(rows.get(_station_key(station), 0.0))) - now
    if wait <= 0:
        return None
    if user_until - now > MAX_BACKOFF_S:
        return SignInThrottled("too many failed sign-ins: this account is locked; an administrator"
                               " can unlock it (watchfloor users unlock NAME), or wait"
                               f" {math.ceil(wait / 60)} min", wait)  # fmt: skip
    return SignInThrottled(f"too many failed sign-ins: try again in {math.ceil(wait)} s", wait)


def _fail(
    conn: Conn, key: str, after: int, now: float, lock_after: int | None = None
) -> tuple[int, bool]:
    # counted in one statement: two stations failing at once both count
    (failures,) = conn.execute(
        "INSERT INTO signin_failures (key, failures, last_ts, until_ts) VALUES (%s, 1, %s, 0)"
        " ON CONFLICT (key) DO UPDATE SET failures = signin_failures.failures + 1,"
        " last_ts = excluded.last_ts RETURNING failures",
        (key, now),
    ).fetchone() or (1,)
    locked = lock_after is not None and failures >= lock_after
    until = now + (LOCKOUT_S if locked else _backoff(failures, after))
    conn.execute("UPDATE signin_failures SET until_ts = %s WHERE key = %s", (until, key))
    return int(failures), locked


def sign_in(
    conn: Conn, name: str, password: str, station: str, *, now: float | None = None
) -> User:
    """The user, or :class:`AuthFailed` (:class:`SignInThrottled` when too many failed).

    A throttled name or station gets no password check at all. The check (scrypt, slow)
    runs outside any transaction; the outcome is written in one, audited.
    """
    now = time.time() if now is None else now
    throttled = _throttled(conn, name, station, now)
    if throttled is not None:
        raise throttled
    typed = name.strip()[:64]
    row = conn.execute("SELECT name, password FROM users WHERE lower(name) = lower(%s)"
                       " AND NOT disabled", (typed,)).fetchone()  # fmt: skip
    ok = check_password(password, str(row[1]) if row else _decoy_hash()) and row is not None
    upgraded = (
        hash_password(password) if ok and row is not None and needs_rehash(str(row[1])) else None
    )
    with conn.transaction():
        if ok and row is not None:
            # re-read: the account may have been disabled while its password was checked
            found = conn.execute("SELECT name, role, send_unapproved, spokesperson FROM users"
                                 " WHERE name = %s AND NOT disabled", (row[0],)).fetchone()  # fmt: skip
            if found is not None:
                user = User(str(found[0]), str(found[1]), bool(found[2]), bool(found[3]))
                conn.execute("DELETE FROM signin_failures WHERE key IN (%s, %s)",
                             (_user_key(user.name), _station_key(station)))  # fmt: skip
                if upgraded:
                    conn.execute(
                        "UPDATE users SET password = %s WHERE name = %s", (upgraded, user.name)
                    )
                append_audit(conn, user.name, "user.signin", f"user:{user.name}", {},
                             {"station": station, "hash_upgraded": bool(upgraded)}, now=now)  # fmt: skip
                return user
        # names typed once and never again are forgotten after a day (the table stays small)
        conn.execute(
            "DELETE FROM signin_failures WHERE last_ts < %s AND until_ts < %s", (now - 86400, now)
        )
        failures, locked = _fail(conn, _user_key(typed), USER_BACKOFF_AFTER, now, USER_LOCK_AFTER)
        at_station, _ = _fail(conn, _station_key(station), STATION_BACKOFF_AFTER, now)
        target = f"user:{_canonical(conn, typed) or typed}"
        append_audit(conn, f"station:{station}", "user.signin_failed", target, {},
                     {"failures": failures, "station_failures": at_station}, now=now)  # fmt: skip
        if locked and failures == USER_LOCK_AFTER:
            append_audit(conn, f"station:{station}", "user.lockout", target, {},
                         {"failures": failures, "until": now + LOCKOUT_S}, now=now)  # fmt: skip
    if locked:
        raise SignInThrottled("too many failed sign-ins: this account is now locked; an"
                              " administrator can unlock it (watchfloor users unlock NAME)",
                              LOCKOUT_S)  # fmt: skip
    raise AuthFailed("unknown user or wrong password")
