"""`doctor` looks at the room: reachable, TLS, schema version, grants, clock skew, the hub."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from app.config import Room
from app.room.checks import check_room
from app.room.hub import lock_holder
from app.room.schema import latest
from tests.room import cluster as pg
from tests.room.conftest import RoomDb, wait_until


def doctor(config: Path, db: Path, env: dict[str, str]) -> list[str]:
    done = subprocess.run([sys.executable, "-m", "app", "doctor", "--headless", "--offline",
                           "--config", str(config), "--db", str(db)],
                          capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert "Traceback" not in done.stderr + done.stdout
    return [line for line in done.stdout.splitlines() if "room" in line or "clock" in line]


def test_doctor_reports_a_healthy_room(
    room_ready: RoomDb, tmp_path: Path, room_env: dict[str, str]
) -> None:
    config = room_ready.write_config(tmp_path / "c.toml")
    lines = doctor(config, tmp_path / "c.db", room_env)
    # nobody can sign in at a console before the room has a user
    assert (
        "  FAIL room users: none yet, so nobody can sign in at a console: "
        "`watchfloor users add NAME --role admin` on any machine of the room" in lines
    )
    from app.room import users as accounts
    from tests.room.test_queue import app_conn

    with app_conn(room_ready) as conn:
        accounts.add_user(conn, "ana", "admin", "a long password")
        accounts.add_user(conn, "bo", "operator", "a long password")
    lines = doctor(config, tmp_path / "c.db", room_env)
    assert "  ok   room users: 1 admin, 1 operator" in lines
    assert (
        "  note room users: no spokesperson, so during a crisis nobody can approve free text "
        "(watchfloor users add NAME --role approver --spokesperson)" in lines
    )
    text = "\n".join(lines)
    assert f"ok   room {room_ready.url} reachable as {pg.APP} (PostgreSQL 15." in text
    assert "note room link without TLS (sslmode = disable)" in text
    assert f"ok   room schema version {latest()}" in text
    assert f"ok   room grants of {pg.APP}: least privilege" in text
    assert "ok   room audit trail intact (2 rows, chained)" in text
    assert (
        "ok   clock skew with the room +0.0" in text or "ok   clock skew with the room -0.0" in text
    )
    assert "note room hub: no hub holds the lock" in text
    assert not [line for line in lines if "FAIL" in line]


def test_doctor_names_what_is_wrong_with_the_room(
    room_db: RoomDb, tmp_path: Path, room_env: dict[str, str]
) -> None:
    config = room_db.write_config(tmp_path / "c.toml")
    lines = doctor(config, tmp_path / "c.db", room_env)
    assert any("FAIL room" in line and "no schema yet: run `watchfloor room init" in line
               for line in lines), lines  # fmt: skip
    # TLS demanded but the server has none: said, not a traceback
    config.write_text(config.read_text().replace('sslmode = "disable"', 'sslmode = "require"'))
    lines = doctor(config, tmp_path / "c.db", room_env)
    assert any("FAIL room" in line and "cannot reach the room" in line and "SSL" in line
               for line in lines), lines  # fmt: skip
    # an owner that signs in as the application: more than least privilege
    owner = room_db.config_text().replace(f"{pg.APP}@", f"{pg.OWNER}@")
    config.write_text(owner)
    from app.config import load_config
    from app.room.connect import connect
    from app.room.schema import migrate

    loaded = load_config(config)
    assert loaded.room is not None
    with connect(loaded.room, purpose="test", password_env="WATCHFLOOR_TEST_ROOM_OWNER_PASSWORD"
                 ) as conn:  # fmt: skip
        migrate(conn)
    env = {**room_env, "WATCHFLOOR_TEST_ROOM_PASSWORD": pg.OWNER_PASSWORD}
    lines = doctor(config, tmp_path / "c.db", env)
    assert any(f"FAIL room grants: {pg.OWNER} owns the room's tables" in line
               and "could rewrite the audit trail" in line for line in lines), lines  # fmt: skip


def test_doctor_fails_an_app_role_that_may_rewrite_the_audit_trail(
    room_ready: RoomDb, tmp_path: Path, room_env: dict[str, str]
) -> None:
    from tests.room import procs

    with procs.owner(room_ready) as conn:
        conn.execute(f"GRANT UPDATE ON audit TO {pg.APP}")
    lines = doctor(room_ready.write_config(tmp_path / "c.toml"), tmp_path / "c.db", room_env)
    (line,) = [line for line in lines if "room grants" in line]
    assert line.startswith(f"  FAIL room grants of {pg.APP} are not least privilege: "
                           "audit: may UPDATE (should not)")  # fmt: skip


def test_doctor_finds_a_rewritten_room_audit_row(
    room_ready: RoomDb, tmp_path: Path, room_env: dict[str, str]
) -> None:
    from tests.room import procs
    from tests.room.test_queue import app_conn, fill

    fill(room_ready, 2, [("ana", "operator")])
    from app.room.queue import RoomQueue

    with app_conn(room_ready) as conn:
        RoomQueue().claim_next(conn, "ana")
        RoomQueue().claim_next(conn, "ana")
    procs.rewrite_audit_row(room_ready, 2)
    lines = doctor(room_ready.write_config(tmp_path / "c.toml"), tmp_path / "c.db", room_env)
    assert "  FAIL room audit trail broken at row 2 (the 1 row(s) before it hold)" in lines


class Lines:
    """doctor's report, in-process (check_room writes its lines here)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def ok(self, text: str) -> None:
        self.lines.append(f"ok   {text}")

    def note(self, text: str) -> None:
        self.lines.append(f"note {text}")

    def bad(self, text: str) -> None:
        self.lines.append(f"FAIL {text}")


def room_of(room: RoomDb, tmp_path: Path) -> Room:
    from app.config import load_config

    loaded = load_config(room.write_config(tmp_path / "c.toml"))
    assert loaded.room is not None
    return loaded.room


def test_doctor_fails_a_clock_that_is_off_from_the_rooms(
    room_ready: RoomDb, tmp_path: Path, room_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.room import checks

    room = room_of(room_ready, tmp_path)
    real = time.time
    for behind, verdict in ((1.5, "ok  "), (3.0, "FAIL")):
        # this machine's clock `behind` seconds behind the server's (the server's is real)
        monkeypatch.setattr(checks, "time", SimpleNamespace(time=lambda b=behind: real() - b))
        report = Lines()
        checks.check_room(report, room)
        (line,) = [line for line in report.lines if "clock skew" in line]
        said = re.match(rf"{verdict} clock skew with the room \+(\d+\.\d\d) s ", line)
        assert said and abs(float(said[1]) - behind) < 0.3, line
        if verdict == "FAIL":
            assert line.endswith(
                "SLA timers would be off; set up NTP (systemd-timesyncd or chrony)"
            )


def test_doctor_names_the_hub_holding_the_lock_and_those_standing_by(
    room_ready: RoomDb, tmp_path: Path, room_env: dict[str, str]
) -> None:
    from app.room.connect import connect
    from app.room.schema import HUB_LOCK
    from tests.room import procs

    room = room_of(room_ready, tmp_path)
    # two hubs' sessions as `watchfloor poll` opens them: one took the lock, one stands by
    hub_a = room.model_copy(update={"station": "hub-a"})
    hub_b = room.model_copy(update={"station": "hub-b"})
    with connect(hub_a, purpose="hub") as a, connect(hub_b, purpose="hub") as b:
        assert a.execute("SELECT pg_try_advisory_lock(%s)", (HUB_LOCK,)).fetchone() == (True,)
        assert b.execute("SELECT pg_try_advisory_lock(%s)", (HUB_LOCK,)).fetchone() == (False,)
        report = Lines()
        check_room(report, room)
        assert (
            "ok   room hub: hub-a holds the hub lock and polls; standing by: hub-b" in report.lines
        )
        a.close()  # the active hub gone: the standby is still named, nothing polls
        with procs.owner(room_ready) as conn:
            wait_until(lambda: lock_holder(conn) is None, 30, "the lock freed")
        report = Lines()
        check_room(report, room)
        assert (
            "note room hub: no hub holds the lock, nothing polls the networks for the room "
            "(start `watchfloor poll` on the hub machine); standing by: hub-b" in report.lines
        )


def test_doctor_says_what_to_do_about_a_schema_of_another_release(
    room_ready: RoomDb, tmp_path: Path, room_env: dict[str, str]
) -> None:
    from tests.room import procs

    room = room_of(room_ready, tmp_path)
    with procs.owner(room_ready) as conn:  # a newer release migrated the room
        conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (latest() + 1,))
    report = Lines()
    check_room(report, room)
    assert (
        f"FAIL room schema version {latest() + 1}, this program needs {latest()}: upgrade watchfloor"
        in report.lines
    )
    with procs.owner(room_ready) as conn:  # the room of an older release
        conn.execute("DELETE FROM schema_version WHERE version >= %s", (latest(),))
    report = Lines()
    check_room(report, room)
    assert (
        f"FAIL room schema version {latest() - 1}, this program needs {latest()}: "
        "run `watchfloor room init --owner ROLE` as the schema's owner" in report.lines
    )
