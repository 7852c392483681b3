"""Signing in: scrypt at today's cost, weak passwords refused, guessing throttled and audited,
a lockout the `users unlock` command lifts, user names without regard to case."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from app.store.db import open_writer, transaction
from app.workflow import audit
from app.workflow.users import (
    USER_LOCK_AFTER,
    AuthFailed,
    SignInThrottled,
    add_user,
    authenticate,
    check_password,
)
from tests.workflow.conftest import PASSWORD, PASSWORD_HASH


def cli(db: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CONFIG_HOME": str(db.parent / "cfg"), "XDG_DATA_HOME": str(db.parent / "data")}
    return subprocess.run([sys.executable, "-m", "app", *args, "--db", str(db)], input=stdin,
                          capture_output=True, text=True, timeout=120, env=env)  # fmt: skip


def legacy_hash(password: str) -> str:
    """A hash as the previous release stored it (scrypt at N=2^14)."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt$16384$8$1${salt.hex()}${digest.hex()}"


def stored_hash(conn: sqlite3.Connection, name: str) -> str:
    return str(conn.execute("SELECT password FROM users WHERE name = ?", (name,)).fetchone()[0])


def test_new_hashes_use_owasps_scrypt_cost_and_old_ones_are_upgraded_at_sign_in(db_path: Path) -> None:
    conn = open_writer(db_path)
    with transaction(conn):
        add_user(conn, "olga", "operator", PASSWORD, password_hash=legacy_hash(PASSWORD))
    assert cli(db_path, "users", "add", "ada", "--role", "approver",
               stdin=f"{PASSWORD}\n{PASSWORD}\n").returncode == 0  # fmt: skip
    assert stored_hash(conn, "ada").startswith("scrypt$131072$8$1$")
    old = stored_hash(conn, "olga")
    assert authenticate(conn, "olga", PASSWORD).name == "olga"
    new = stored_hash(conn, "olga")
    assert new != old and new.startswith("scrypt$131072$8$1$") and check_password(PASSWORD, new)
    conn.close()


@pytest.mark.parametrize(("name", "password", "why"), [
    ("bob", "password123", "most common"),
    ("bob", "Qwertyuiop", "most common"),  # case does not help
    ("alice.smith", "ALICE.SMITH", "may not be the user name"),
    ("bob", "short", "at least 8"),
])  # fmt: skip
def test_weak_passwords_are_refused_by_the_cli(db_path: Path, name: str, password: str, why: str) -> None:
    added = cli(db_path, "users", "add", name, "--role", "operator", stdin=f"{password}\n{password}\n")
    assert added.returncode == 1 and why in added.stderr
    assert "Traceback" not in added.stderr
    assert cli(db_path, "users", "list").stdout.strip() == ""


def test_user_names_compare_without_regard_to_case(db_path: Path) -> None:
    assert cli(db_path, "users", "add", "Olga", "--role", "operator",
               stdin=f"{PASSWORD}\n{PASSWORD}\n").returncode == 0  # fmt: skip
    again = cli(db_path, "users", "add", "olga", "--role", "admin", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert again.returncode == 1 and "exists already" in again.stderr
    conn = open_writer(db_path)
    assert authenticate(conn, "OLGA", PASSWORD).name == "Olga"
    conn.close()
    assert cli(db_path, "users", "disable", "oLgA").returncode == 0
    conn = open_writer(db_path)
    with pytest.raises(AuthFailed):
        authenticate(conn, "olga", PASSWORD)
    conn.close()


def test_guessing_backs_off_then_locks_and_an_admin_unlocks(db_path: Path) -> None:
    conn = open_writer(db_path)
    with transaction(conn):
        add_user(conn, "olga", "operator", PASSWORD, password_hash=legacy_hash(PASSWORD))
    t = 1_000_000.0
    outcomes: list[str] = []
    for i in range(30):  # an attacker who waits out every backoff
        try:
            authenticate(conn, "olga", f"guess number {i}", station="ws1", now=t)
        except SignInThrottled as exc:
            outcomes.append("throttled")
            t += exc.wait_s if exc.wait_s < 60 else 0
        except AuthFailed:
            outcomes.append("failed")
        t += 0.01
    # the first checks are free, then each waits; at the tenth failure the account locks
    assert outcomes.count("failed") == USER_LOCK_AFTER - 1 and outcomes[USER_LOCK_AFTER - 1] == "throttled"
    with pytest.raises(SignInThrottled, match="locked"):
        authenticate(conn, "olga", PASSWORD, station="ws2", now=t + 120)  # the right one: still no
    actions = [r["action"] for r in audit.rows(conn, "user:olga")]
    assert actions.count("user.signin_failed") == USER_LOCK_AFTER
    assert actions.count("user.lockout") == 1
    conn.close()
    unlocked = cli(db_path, "users", "unlock", "olga")
    assert unlocked.returncode == 0 and unlocked.stdout.strip() == "olga unlocked"
    conn = open_writer(db_path)
    assert authenticate(conn, "olga", PASSWORD, station="ws2", now=t + 121).name == "olga"
    assert [r["action"] for r in audit.rows(conn, "user:olga")][-2:] == ["user.unlock", "user.signin"]
    assert audit.verify(conn).ok
    conn.close()
    assert cli(db_path, "users", "unlock", "nobody").returncode == 1


def test_one_station_trying_many_names_is_throttled_there_only(db_path: Path) -> None:
    conn = open_writer(db_path)
    with transaction(conn):
        add_user(conn, "olga", "operator", PASSWORD, password_hash=PASSWORD_HASH)
    t = 2_000_000.0
    for i in range(5):  # five different names, one guess each: no name backs off
        with pytest.raises(AuthFailed) as caught:
            authenticate(conn, f"user{i}", "some guess!", station="kiosk", now=t)
        assert not isinstance(caught.value, SignInThrottled)
    with pytest.raises(SignInThrottled, match="try again"):
        authenticate(conn, "olga", PASSWORD, station="kiosk", now=t + 0.1)
    assert authenticate(conn, "olga", PASSWORD, station="desk-2", now=t + 0.1).name == "olga"
    conn.close()


def test_failures_of_names_nobody_uses_are_forgotten_after_a_day(db_path: Path) -> None:
    conn = open_writer(db_path)
    t = 3_000_000.0
    for i in range(4):  # made-up names, one guess each, from as many stations
        with pytest.raises(AuthFailed):
            authenticate(conn, f"made-up-{i}", "some guess!", station=f"ws{i}", now=t)
    assert conn.execute("SELECT count(*) FROM signin_failures").fetchone() == (8,)
    with pytest.raises(AuthFailed):
        authenticate(conn, "one-more", "some guess!", station="ws-x", now=t + 86401)
    assert conn.execute("SELECT count(*) FROM signin_failures").fetchone() == (2,)
    conn.close()
