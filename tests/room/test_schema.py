"""The room's schema in a real PostgreSQL: `room init`, migrations, least-privilege grants."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from app.config import ConfigError, load_config
from app.room.connect import CHANNEL, connect
from app.room.schema import GRANTS, current_version, grant_problems, latest
from tests.room import cluster as pg
from tests.room.conftest import OWNER_PASSWORD_ENV, RoomDb


def watchfloor(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True,
                          env=env, timeout=120)  # fmt: skip


def room_init(
    room_db: RoomDb, tmp_path: Path, env: dict[str, str], *owner: str
) -> subprocess.CompletedProcess[str]:
    config = room_db.write_config(tmp_path / "room.toml")
    return watchfloor("room", "init", "--config", str(config), "--db", str(tmp_path / "c.db"),
                      *owner, env=env)  # fmt: skip


OWNER_ARGS = ("--owner", pg.OWNER, "--owner-password-env", OWNER_PASSWORD_ENV)


@pytest.fixture
def initialised(room_db: RoomDb, tmp_path: Path, room_env: dict[str, str]) -> RoomDb:
    done = room_init(room_db, tmp_path, room_env, *OWNER_ARGS)
    assert done.returncode == 0, done.stderr
    return room_db


def test_init_creates_the_schema_once_and_grants_the_app_role(
    room_db: RoomDb, tmp_path: Path, room_env: dict[str, str]
) -> None:
    first = room_init(room_db, tmp_path, room_env, *OWNER_ARGS)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip().splitlines()[-1].startswith(f"room schema version 0 → {latest()}")
    assert f"{pg.APP} has the application's grants" in first.stdout
    again = room_init(room_db, tmp_path, room_env, *OWNER_ARGS)
    assert again.returncode == 0, again.stderr
    assert f"already at version {latest()}" in again.stdout
    config = load_config(room_db.write_config(tmp_path / "room.toml"))
    assert config.room is not None
    with connect(config.room, purpose="test") as conn:
        assert current_version(conn) == latest()
        assert grant_problems(conn) == []
        tables = {r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'watchfloor'")}  # fmt: skip
    assert tables == set(GRANTS)


def test_the_app_role_cannot_migrate_and_says_who_can(
    room_db: RoomDb, tmp_path: Path, room_env: dict[str, str]
) -> None:
    done = room_init(room_db, tmp_path, room_env)  # as the URL's user: the application role
    assert done.returncode == 1
    line = done.stderr.strip().splitlines()[-1]
    assert "may not change the room's schema" in line and "as the owner role" in line
    assert "Traceback" not in done.stderr


def test_a_wrong_password_is_one_clear_line(
    room_db: RoomDb, tmp_path: Path, room_env: dict[str, str]
) -> None:
    env = {**room_env, OWNER_PASSWORD_ENV: "not-the-password"}
    done = room_init(room_db, tmp_path, env, *OWNER_ARGS)
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert "cannot reach the room" in line and "password authentication failed" in line
    assert "not-the-password" not in done.stderr


def test_the_app_role_cannot_rewrite_the_audit_trail(initialised: RoomDb, tmp_path: Path) -> None:
    config = load_config(initialised.write_config(tmp_path / "room.toml"))
    assert config.room is not None
    with connect(config.room, purpose="test") as conn:
        conn.execute("INSERT INTO audit (ts, actor, action, prev_hash, hash)"
                     " VALUES (1, 'ana', 'claim', '', 'h1')")  # fmt: skip
        assert conn.execute("SELECT actor FROM audit").fetchall() == [("ana",)]
        for statement in ("UPDATE audit SET actor = 'mallory'", "DELETE FROM audit",
                          "TRUNCATE audit"):  # fmt: skip
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
        # nor change the schema, rewrite a mention or drop queue items
        for statement in ("DROP TABLE audit", "UPDATE mentions SET body = '{}'",
                          "DELETE FROM queue", "CREATE TABLE mine (x int)"):  # fmt: skip
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
        assert conn.execute("SELECT count(*) FROM audit").fetchone() == (1,)
    # even the owner meets the append-only trigger
    owner = psycopg.connect(initialised.cluster.url(initialised.dbname, pg.OWNER),
                            password=pg.OWNER_PASSWORD, autocommit=True)  # fmt: skip
    with owner:
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            owner.execute("UPDATE watchfloor.audit SET actor = 'mallory'")
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            owner.execute("TRUNCATE watchfloor.audit")


def test_a_change_log_row_notifies_with_its_id(initialised: RoomDb, tmp_path: Path) -> None:
    config = load_config(initialised.write_config(tmp_path / "room.toml"))
    assert config.room is not None
    with connect(config.room, purpose="listen") as listener, \
            connect(config.room, purpose="write") as writer:  # fmt: skip
        listener.execute(f"LISTEN {CHANNEL}")
        (row_id,) = writer.execute("INSERT INTO change_log (tables) VALUES ('{mentions}')"
                                   " RETURNING id").fetchone() or (None,)  # fmt: skip
        got = [n.payload for n in listener.notifies(timeout=10, stop_after=1)]
    assert got == [str(row_id)]


@pytest.mark.parametrize(
    ("room", "problem"),
    [
        ('url = "postgresql://app:hunter22@db.example/wf"', "room.url: holds a password"),
        ('url = "mysql://app@db.example/wf"', "room.url: must start with postgresql://"),
        ('url = "postgresql://db.example/wf"', "room.url: names no user"),
        (
            'url = "postgresql://app@db.example/wf"\nsslmode = "verify-full"',
            "sslrootcert: needed with sslmode = 'verify-full'",
        ),
        ('url = "postgresql://app@db.example/wf"\nsslmode = "sometimes"', "room.sslmode:"),
    ],
)
def test_room_config_errors_name_the_key(tmp_path: Path, room: str, problem: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f'[brand]\nname = "Lumio"\n\n[room]\n{room}\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert any(problem in p for p in caught.value.problems), caught.value.problems
    assert "hunter22" not in str(caught.value)


def test_a_station_name_is_a_plain_word(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[brand]\nname = "Lumio"\n\n[room]\nurl = "postgresql://app@db/wf"\n'
                    'station = "wall left; DROP"\n')  # fmt: skip
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert any(p.startswith("room.station:") for p in caught.value.problems)


def test_no_room_statement_waits_forever(initialised: RoomDb, tmp_path: Path) -> None:
    config = load_config(initialised.write_config(tmp_path / "room.toml"))
    assert config.room is not None
    with connect(config.room, purpose="test") as conn:
        settings = dict(conn.execute("SELECT name, setting FROM pg_settings WHERE name IN"
                                     " ('statement_timeout', 'idle_in_transaction_session_timeout',"
                                     " 'tcp_keepalives_idle')").fetchall())  # fmt: skip
        name = conn.execute("SELECT application_name FROM pg_stat_activity"
                            " WHERE pid = pg_backend_pid()").fetchone()  # fmt: skip
    assert settings == {"statement_timeout": "30000",
                        "idle_in_transaction_session_timeout": "60000",
                        "tcp_keepalives_idle": "5"}  # fmt: skip
    assert name is not None and str(name[0]).startswith("watchfloor test ")
