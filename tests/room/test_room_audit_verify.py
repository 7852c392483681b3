"""`watchfloor audit verify` on a machine of the room walks the room's chain (the cache holds
none of the consoles' actions): intact, then broken by a row the owner rewrote."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from app.room.queue import RoomQueue
from tests.room import procs
from tests.room.conftest import RoomDb
from tests.room.test_queue import app_conn, fill


def verify(room: RoomDb, tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    config = room.write_config(tmp_path / "desk.toml")
    return subprocess.run([sys.executable, "-m", "app", "audit", "verify", "--config", str(config),
                           "--db", str(tmp_path / "desk.db")], capture_output=True, text=True,
                          env=env, timeout=120)  # fmt: skip


def test_audit_verify_on_a_station_checks_the_rooms_chain(
    room_ready: RoomDb, tmp_path: Path, room_env: dict[str, str]
) -> None:
    fill(room_ready, 2, [("ana", "operator")])
    with app_conn(room_ready) as conn:
        RoomQueue().claim_next(conn, "ana")
        RoomQueue().claim_next(conn, "ana")
    done = verify(room_ready, tmp_path, room_env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("intact: 2 rows, chained")
    procs.rewrite_audit_row(room_ready, 2)
    broken = verify(room_ready, tmp_path, room_env)
    assert broken.returncode == 1
    assert broken.stderr.strip().endswith("broken at row 2 (the 1 row(s) before it hold)")
    assert "Traceback" not in broken.stderr
