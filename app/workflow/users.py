"""Local console users: scrypt passwords, throttled sign-in, names without regard to case.

The scrypt parameters are stored with each hash, so the cost can rise without
invalidating the passwords already set: a hash made at a lower cost is replaced at its
owner's next good sign-in. Signing in is two steps so that neither the GUI thread nor
the store writer spends the hundreds of milliseconds scrypt takes: :func:`check_sign_in`
reads and hashes (any thread, a read connection), :func:`record_sign_in` writes the
outcome (the writer), where failures are counted, throttled, locked out and audited.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
import re
import socket
import sqlite3
import time
from dataclasses import dataclass
from functools import cache

from app.resources import data_dir
from app.workflow import audit
from app.workflow.roles import ROLES

#: scrypt cost as OWASP advises (2^17, 8, 1): 128 MiB of memory per check
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**17, 8, 1
#: the most a stored hash may ask for (a forged row must not exhaust memory)
_MAX_N = 2**20
MIN_PASSWORD = 8
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")

#: consecutive failures of one user name before each further try waits (2 s, 4 s, 8 s …)
USER_BACKOFF_AFTER = 3
#: … and before the account is locked (until an admin unlocks it, or LOCKOUT_S pass)
USER_LOCK_AFTER = 10
LOCKOUT_S = 15 * 60.0
#: consecutive failures at one station (any names) before its tries wait
STATION_BACKOFF_AFTER = 5
MAX_BACKOFF_S = 60.0


class AuthFailed(Exception):
    """Unknown user, wrong password or a disabled account (deliberately not saying which)."""


class SignInThrottled(AuthFailed):
    """Too many failures: no password is checked until ``wait_s`` have passed."""

    def __init__(self, message: str, wait_s: float) -> None:
        super().__init__(message)
        self.wait_s = wait_s


class FirstAdminExists(ValueError):
    """Someone created a user meanwhile: the first-start page must become a sign-in page."""


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: str
    send_unapproved: bool = False
    spokesperson: bool = False


def station_id() -> str:
    """This workstation, for the per-station sign-in throttle."""
    return socket.gethostname() or "localhost"


# ── passwords ──────────────────────────────────────────────────────────────────────


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    # OpenSSL needs 128·r·(n + p + 2) bytes; allow twice the cost so the check never fails for room
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=dklen,
                          maxmem=2 * 128 * r * (n + p + 2))  # fmt: skip


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt or os.urandom(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, 32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt" or not 1 < int(n) <= _MAX_N or not 0 < int(r) * int(p) <= 64:
            return False
        got = _scrypt(password, bytes.fromhex(salt), int(n), int(r), int(p), len(digest) // 2)
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(got.hex(), digest)


@cache
def _decoy_hash() -> str:
    return hash_password(os.urandom(16).hex())


def needs_rehash(stored: str) -> bool:
    """True for a hash made at a lower cost than today's (upgraded at the next sign-in)."""
    parts = stored.split("$")
    return len(parts) != 6 or parts[:4] != ["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P)]


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of passwords too common to allow (``config/common-passwords.txt``)."""
    text = (data_dir("config") / "common-passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().casefold() for line in text.splitlines()
                     if line.strip() and not line.startswith("#"))  # fmt: skip


def password_problem(name: str, password: str) -> str | None:
    """Why ``password`` may not be used by ``name``, or None."""
    if len(password) < MIN_PASSWORD:
        return f"a password needs at least {MIN_PASSWORD} characters"
    folded = password.strip().casefold()
    if folded == name.strip().casefold():
        return "a password may not be the user name"
    if folded in common_passwords():
        return "this password is one of the most common ones; choose another"
    return None


def _require_password(name: str, password: str) -> None:
    problem = password_problem(name, password)
    if problem:
        raise ValueError(problem)


# ── users ──────────────────────────────────────────────────────────────────────────


def _canonical(conn: sqlite3.Connection, name: str) -> str | None:
    """The stored spelling of ``name`` (user names compare without regard to case)."""
    row = conn.execute("SELECT name FROM users WHERE name = ? COLLATE NOCASE", (name.strip(),)).fetchone()
    return str(row[0]) if row else None


def check_new_user(name: str, role: str, password: str) -> str:
    """The name as it will be stored, or ValueError saying why this user may not be made
    (the rules every store keeps: the local one and the room's)."""
    name = name.strip()
    if not _NAME.match(name):
        raise ValueError(f"a user name is 1-64 letters, digits or ._@- (got {name!r})")
    if role not in ROLES:
        raise ValueError(f"role must be one of: {', '.join(ROLES)} (got {role!r})")
    _require_password(name, password)
    return name


def add_user(
    conn: sqlite3.Connection,
    name: str,
    role: str,
    password: str,
    *,
    send_unapproved: bool = False,
    spokesperson: bool = False,
    by: str = "cli",
    password_hash: str | None = None,
) -> User:
    """Create a user (inside the caller's transaction), audited.

    ``password_hash``: the password hashed already (off the writer thread); ``password``
    is still checked against the rules.
    """
    name = check_new_user(name, role, password)
    existing = _canonical(conn, name)
    if existing is not None:
        raise ValueError(f"the user {existing!r} exists already")
    conn.execute(
        "INSERT INTO users (name, role, password, send_unapproved, spokesperson, created_ts)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (name, role, password_hash or hash_password(password), int(send_unapproved),
         int(spokesperson), time.time()),
    )  # fmt: skip
    after = {"role": role, "send_unapproved": send_unapproved, "spokesperson": spokesperson}
    audit.record(conn, by, "user.add", f"user:{name}", {}, after)
    return User(name, role, send_unapproved, spokesperson)


def create_first_admin(conn: sqlite3.Connection, name: str, password: str, password_hash: str) -> User:
    """The first administrator, only while no user exists: the check and the insert are one
    transaction (the caller's ``BEGIN IMMEDIATE``), so a console left on its first-start page
    can never add an administrator once IT (or another console) has made one."""
    if conn.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None:
        raise FirstAdminExists("an administrator exists already: sign in instead")
    return add_user(conn, name, "admin", password, by=name.strip(), password_hash=password_hash)


def set_password(conn: sqlite3.Connection, name: str, password: str, *, by: str = "cli") -> None:
    """A new password (someone forgot theirs), audited; the hash, never the password."""
    canonical = _canonical(conn, name)
    if canonical is None:
        raise ValueError(f"no user {name!r}")
    _require_password(canonical, password)
    conn.execute("UPDATE users SET password = ? WHERE name = ?", (hash_password(password), canonical))
    audit.record(conn, by, "user.password", f"user:{canonical}", {}, {})


def set_disabled(conn: sqlite3.Connection, name: str, disabled: bool, *, by: str = "cli") -> None:
    """Someone left the team: they can no longer sign in or act; their history stays."""
    canonical = _canonical(conn, name)
    if canonical is None:
        raise ValueError(f"no user {name!r}")
    (was,) = conn.execute("SELECT disabled FROM users WHERE name = ?", (canonical,)).fetchone()
    conn.execute("UPDATE users SET disabled = ? WHERE name = ?", (int(disabled), canonical))
    audit.record(conn, by, "user.disable" if disabled else "user.enable", f"user:{canonical}",
                 {"disabled": bool(was)}, {"disabled": disabled})  # fmt: skip


def unlock(conn: sqlite3.Connection, name: str, *, by: str = "cli") -> int:
    """Lift a sign-in lockout (and the backoff); audited. Returns the failures forgiven."""
    canonical = _canonical(conn, name)
    if canonical is None:
        raise ValueError(f"no user {name!r}")
    row = conn.execute("SELECT failures, until_ts FROM signin_failures WHERE key = ?",
                       (_user_key(canonical),)).fetchone()  # fmt: skip
    conn.execute("DELETE FROM signin_failures WHERE key = ?", (_user_key(canonical),))
    failures = int(row[0]) if row else 0
    audit.record(conn, by, "user.unlock", f"user:{canonical}",
                 {"failures": failures, "locked": bool(row and row[1] > time.time())},
                 {"failures": 0, "locked": False})  # fmt: skip
    return failures


def get_user(conn: sqlite3.Connection, name: str) -> User | None:
    """The enabled user called ``name`` (any case), or None."""
    row = conn.execute(
        "SELECT name, role, send_unapproved, spokesperson FROM users"
        " WHERE name = ? COLLATE NOCASE AND disabled = 0",
        (name.strip(),),
    ).fetchone()
    return User(row[0], row[1], bool(row[2]), bool(row[3])) if row else None


def list_users(conn: sqlite3.Connection) -> list[User]:
    return [
        User(r[0], r[1], bool(r[2]), bool(r[3]))
        for r in conn.execute(
            "SELECT name, role, send_unapproved, spokesperson FROM users WHERE disabled = 0"
            " ORDER BY name COLLATE NOCASE"
        )
    ]


# ── signing in ─────────────────────────────────────────────────────────────────────


def _user_key(name: str) -> str:
    return f"user:{name.strip().casefold()[:64]}"


def _station_key(station: str) -> str:
    return f"station:{station[:128]}"


def _backoff(failures: int, after: int) -> float:
    return 0.0 if failures < after else min(MAX_BACKOFF_S, 2.0 ** (failures - after + 1))


@dataclass(frozen=True, slots=True)
class Attempt:
    """What :func:`check_sign_in` found; :func:`record_sign_in` writes it down."""

    typed: str
    user: User | None
    #: the password re-hashed at today's cost, when the stored hash is older
    upgraded_hash: str | None = None


def _throttled(conn: sqlite3.Connection, name: str, station: str, now: float) -> SignInThrottled | None:
    rows = dict(conn.execute(
        "SELECT key, until_ts FROM signin_failures WHERE key IN (?, ?)",
        (_user_key(name), _station_key(station)),
    ).fetchall())  # fmt: skip
    user_until, station_until = rows.get(_user_key(name), 0.0), rows.get(_station_key(station), 0.0)
    wait = max(user_until, station_until) - now
    if wait <= 0:
        return None
    if user_until - now > MAX_BACKOFF_S:
        return SignInThrottled("too many failed sign-ins: this account is locked; an administrator"
                               f" can unlock it (watchfloor users unlock NAME), or wait"
                               f" {math.ceil(wait / 60)} min", wait)  # fmt: skip
    return SignInThrottled(f"too many failed sign-ins: try again in {math.ceil(wait)} s", wait)


def check_sign_in(conn: sqlite3.Connection, name: str, password: str, station: str,
                  *, now: float | None = None) -> Attempt | SignInThrottled:  # fmt: skip
    """Read and hash (slow: scrypt); nothing is written. A throttled name or station gets
    no password check at all, so guessing is bounded by the backoff, not by scrypt."""
    now = time.time() if now is None else now
    throttled = _throttled(conn, name, station, now)
    if throttled is not None:
        return throttled
    row = conn.execute(
        "SELECT name, password FROM users WHERE name = ? COLLATE NOCASE AND disabled = 0",
        (name.strip(),),
    ).fetchone()
    if row is None:
        check_password(password, _decoy_hash())  # as long as a real check: names stay unknown
        return Attempt(name, None)
    if not check_password(password, row[1]):
        return Attempt(name, None)
    user = get_user(conn, row[0])
    if user is None:
        return Attempt(name, None)
    return Attempt(name, user, hash_password(password) if needs_rehash(row[1]) else None)


def _fail(conn: sqlite3.Connection, key: str, after: int, now: float,
          lock_after: int | None = None) -> tuple[int, bool]:  # fmt: skip
    row = conn.execute("SELECT failures FROM signin_failures WHERE key = ?", (key,)).fetchone()
    failures = (int(row[0]) if row else 0) + 1
    locked = lock_after is not None and failures >= lock_after
    until = now + (LOCKOUT_S if locked else _backoff(failures, after))
    conn.execute(
        "INSERT INTO signin_failures (key, failures, last_ts, until_ts) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (key) DO UPDATE SET failures = excluded.failures,"
        " last_ts = excluded.last_ts, until_ts = excluded.until_ts",
        (key, failures, now, until),
    )
    return failures, locked


def record_sign_in(conn: sqlite3.Connection, attempt: Attempt | SignInThrottled, station: str,
                   *, now: float | None = None) -> User | AuthFailed:  # fmt: skip
    """Write the outcome (inside the writer's transaction): a good sign-in clears the
    counters and upgrades an old hash; a failure counts, may lock, and is audited.
    A refusal is returned, not raised, so that what was counted is committed."""
    now = time.time() if now is None else now
    if isinstance(attempt, SignInThrottled):
        return attempt
    typed = attempt.typed.strip()[:64]
    if attempt.user is not None:
        # re-read: the account may have been disabled while its password was being checked
        user = get_user(conn, attempt.user.name)
        if user is not None:
            conn.execute("DELETE FROM signin_failures WHERE key IN (?, ?)",
                         (_user_key(user.name), _station_key(station)))  # fmt: skip
            if attempt.upgraded_hash:
                conn.execute("UPDATE users SET password = ? WHERE name = ?",
                             (attempt.upgraded_hash, user.name))  # fmt: skip
            audit.record(conn, user.name, "user.signin", f"user:{user.name}", {},
                         {"station": station, "hash_upgraded": bool(attempt.upgraded_hash)}, now=now)  # fmt: skip
            return user
    # names typed once and never again are forgotten after a day (the table stays small)
    conn.execute("DELETE FROM signin_failures WHERE last_ts < ? AND until_ts < ?", (now - 86400, now))
    failures, locked = _fail(conn, _user_key(typed), USER_BACKOFF_AFTER, now, USER_LOCK_AFTER)
    at_station, _ = _fail(conn, _station_key(station), STATION_BACKOFF_AFTER, now)
    target = f"user:{_canonical(conn, typed) or typed}"
    audit.record(conn, f"station:{station}", "user.signin_failed", target, {},
                 {"failures": failures, "station_failures": at_station}, now=now)  # fmt: skip
    if locked:
        if failures == USER_LOCK_AFTER:
            audit.record(conn, f"station:{station}", "user.lockout", target, {},
                         {"failures": failures, "until": now + LOCKOUT_S}, now=now)  # fmt: skip
        return SignInThrottled("too many failed sign-ins: this account is now locked; an"
                               " administrator can unlock it (watchfloor users unlock NAME)",
                               LOCKOUT_S)  # fmt: skip
    return AuthFailed("unknown user or wrong password")


def authenticate(conn: sqlite3.Connection, name: str, password: str, *,
                 station: str | None = None, now: float | None = None) -> User:  # fmt: skip
    """Check and record in one go on one write connection (the CLI's and tests' way);
    the user, or :class:`AuthFailed` (:class:`SignInThrottled` when too many failed)."""
    station = station_id() if station is None else station
    attempt = check_sign_in(conn, name, password, station, now=now)
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = record_sign_in(conn, attempt, station, now=now)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    if isinstance(result, AuthFailed):
        raise result
    return result


def has_users(conn: sqlite3.Connection) -> bool:
    """Whether anyone can sign in yet (no: the first start asks for an administrator)."""
    return conn.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None
