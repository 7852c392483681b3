"""`watchfloor users` with a room acts on the room's accounts; the room's sign-in backs off and locks."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.config import load_config
from app.room.connect import connect
from app.room.desk import RoomSignIn
from app.room.queue import verify_audit
from app.room.users import sign_in
from app.workflow.users import (
    LOCKOUT_S,
    STATION_BACKOFF_AFTER,
    USER_LOCK_AFTER,
    AuthFailed,
    SignInThrottled,
    User,
)
from tests.room import procs
from tests.room.conftest import PASSWORD_ENV, RoomDb

PASSWORD = "correct horse battery"


def users(room: RoomDb, tmp: Path, env: dict[str, str], *args: str,
          password: str = "") -> subprocess.CompletedProcess[str]:  # fmt: skip
    config = room.write_config(tmp / "room.toml")
    done = subprocess.run(
        [sys.executable, "-m", "app", "users", *args, "--config", str(config), "--db", str(tmp / "c.db")],
        input=f"{password}\n{password}\n" if password else "", capture_output=True, text=True,
        env=env, timeout=120,
    )  # fmt: skip
    assert "Traceback" not in done.stdout + done.stderr
    return done


def trail(room: RoomDb) -> list[tuple[str, str, str]]:
    with procs.owner(room) as conn:
        return [(str(a), str(b), str(c)) for a, b, c in
                conn.execute("SELECT actor, action, target FROM audit ORDER BY id")]  # fmt: skip


def test_users_commands_act_on_the_room_and_are_audited_there(
    room_ready: RoomDb, tmp_path: Path, room_env: dict[str, str]
) -> None:
    done = users(room_ready, tmp_path, room_env, "add", "Ana", "--role", "approver", "--spokesperson",
                 password=PASSWORD)  # fmt: skip
    assert (done.returncode, done.stdout.strip()) == (0, "user Ana added as approver in the room")
    # the same rules as the local store: names without regard to case, no common password
    again = users(
        room_ready, tmp_path, room_env, "add", "ana", "--role", "operator", password=PASSWORD
    )
    assert again.returncode == 1
    assert again.stderr.strip() == "watchfloor: the user 'Ana' exists already"
    weak = users(
        room_ready, tmp_path, room_env, "add", "ben", "--role", "operator", password="password1"
    )
    assert weak.returncode == 1 and "one of the most common" in weak.stderr
    assert users(room_ready, tmp_path, room_env, "add", "ben", "--role", "operator",
                 password="ben's own phrase").returncode == 0  # fmt: skip
    listed = users(room_ready, tmp_path, room_env, "list")
    assert listed.returncode == 0
    assert listed.stdout.splitlines() == ["Ana\tapprover\tspokesperson", "ben\toperator"]

    changed = users(room_ready, tmp_path, room_env, "passwd", "ANA", password="a new long phrase")
    assert (changed.returncode, changed.stdout.strip()) == (
        0,
        "password of ANA changed in the room",
    )
    room = load_config(tmp_path / "room.toml").room
    assert room is not None
    with connect(room, purpose="test") as conn:
        with pytest.raises(AuthFailed):
            sign_in(conn, "ana", PASSWORD, "desk-a")
        assert sign_in(conn, "ana", "a new long phrase", "desk-a") == User(
            "Ana", "approver", False, True
        )

    off = users(room_ready, tmp_path, room_env, "disable", "ben")
    assert (off.returncode, off.stdout.strip()) == (0, "ben disabled in the room")
    assert users(room_ready, tmp_path, room_env, "list").stdout.splitlines() == [
        "Ana\tapprover\tspokesperson"
    ]
    with connect(room, purpose="test") as conn, pytest.raises(AuthFailed):
        sign_in(conn, "ben", "ben's own phrase", "desk-a")  # disabled: no station lets them in
    on = users(room_ready, tmp_path, room_env, "enable", "ben")
    assert (on.returncode, on.stdout.strip()) == (0, "ben enabled in the room")
    missing = users(room_ready, tmp_path, room_env, "disable", "carl")
    assert (missing.returncode, missing.stderr.strip()) == (1, "watchfloor: no user 'carl'")

    assert trail(room_ready) == [
        ("cli", "user.add", "user:Ana"),
        ("cli", "user.add", "user:ben"),
        ("cli", "user.password", "user:Ana"),
        ("station:desk-a", "user.signin_failed", "user:Ana"),
        ("Ana", "user.signin", "user:Ana"),
        ("cli", "user.disable", "user:ben"),
        ("station:desk-a", "user.signin_failed", "user:ben"),
        ("cli", "user.enable", "user:ben"),
    ]
    with procs.owner(room_ready) as conn:
        assert verify_audit(conn) == (8, None)
        (stored,) = conn.execute("SELECT password FROM users WHERE name = 'Ana'").fetchone() or (
            "",
        )
    assert str(stored).startswith("scrypt$") and "phrase" not in str(stored)
    # no password for the room: one line and exit 1, not the local store's users
    bare = {k: v for k, v in room_env.items() if k != PASSWORD_ENV}
    cut = users(room_ready, tmp_path, bare, "list")
    assert cut.returncode == 1 and cut.stdout == ""
    assert cut.stderr.strip().splitlines() == [
        f"watchfloor: the room's password is not set: put it in the environment variable"
        f" {PASSWORD_ENV} or the keyring entry {PASSWORD_ENV} (service watchfloor)"
    ]
    # the local cache was not asked: it has no users table rows (nor was it created for them)
    assert not (tmp_path / "c.db").exists()


def test_room_sign_in_backs_off_locks_at_every_station_and_unlock_lifts_it(
    room_ready: RoomDb, tmp_path: Path, room_env: dict[str, str]
) -> None:
    assert users(room_ready, tmp_path, room_env, "add", "ana", "--role", "operator",
                 password=PASSWORD).returncode == 0  # fmt: skip
    room = load_config(tmp_path / "room.toml").room
    assert room is not None
    now = 1_000_000.0
    with connect(room, purpose="test") as conn:
        for attempt in range(1, 4):  # three failures at three stations: the account waits
            with pytest.raises(AuthFailed) as failed:
                sign_in(conn, "ana", "wrong horse", f"desk-{attempt}", now=now)
            assert not isinstance(failed.value, SignInThrottled)
        with pytest.raises(SignInThrottled, match="try again in 2 s"):
            sign_in(conn, "ana", PASSWORD, "desk-9", now=now)  # another station: still waits
        for attempt in range(4, USER_LOCK_AFTER):
            now += 100
            with pytest.raises(AuthFailed):
                sign_in(conn, "ana", "wrong horse", f"desk-{attempt}", now=now)
        now += 100
        with pytest.raises(SignInThrottled, match="this account is now locked"):
            sign_in(conn, "ANA", "wrong horse", "desk-x", now=now)
        with pytest.raises(SignInThrottled, match="this account is locked"):  # the right one too
            sign_in(conn, "ana", PASSWORD, "desk-y", now=now + LOCKOUT_S / 2)
    unlocked = users(room_ready, tmp_path, room_env, "unlock", "Ana")
    assert unlocked.returncode == 0
    assert (
        unlocked.stdout.strip()
        == f"Ana unlocked in the room ({USER_LOCK_AFTER} failed sign-ins forgiven)"
    )
    with connect(room, purpose="test") as conn:
        assert sign_in(conn, "ana", PASSWORD, "desk-y", now=now + 1) == User("ana", "operator")
        # one station guessing at many names waits too (the names need not exist); the
        # failures are dated a minute ahead so that the console's own clock is inside the wait
        ahead = time.time() + 60
        for i in range(STATION_BACKOFF_AFTER):
            with pytest.raises(AuthFailed):
                sign_in(conn, f"nobody{i}", "wrong horse", "desk-z", now=ahead)
        with pytest.raises(SignInThrottled, match="try again in"):
            RoomSignIn("desk-z")(conn, "ana", PASSWORD)  # the console's path, at today's clock
    actions = [a for _, a, _ in trail(room_ready)]
    assert actions.count("user.signin_failed") == USER_LOCK_AFTER + STATION_BACKOFF_AFTER
    assert actions.count("user.lockout") == 1 and actions.count("user.unlock") == 1
    with procs.owner(room_ready) as conn:
        assert verify_audit(conn)[1] is None
