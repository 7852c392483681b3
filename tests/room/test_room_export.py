"""`watchfloor export` of the queue and the audit trail on a machine of the room reads the
room, where the consoles work (a station's cache mirrors the queue's states only)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

from app.room.queue import RoomQueue
from tests.room.conftest import RoomDb
from tests.room.test_queue import app_conn, fill


def export(config: Path, tmp_path: Path, env: dict[str, str], what: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", "export", "--config", str(config), "--db",
                           str(tmp_path / "desk.db"), "--what", what, *extra], capture_output=True,
                          text=True, env=env, timeout=120)  # fmt: skip


def test_the_queue_and_audit_exports_of_a_station_are_the_rooms(
    room_ready: RoomDb, tmp_path: Path, room_env: dict[str, str]
) -> None:
    fill(room_ready, 3, [("ana", "operator"), ("bo", "approver")])
    q = RoomQueue()
    with app_conn(room_ready) as conn:
        first = q.claim_next(conn, "ana")
        assert first is not None
        rid = q.submit(conn, "ana", first.mention_id, "So sorry, a new charger is on its way")
        q.approve(conn, "bo", rid)
        q.add_note(conn, "ana", first.mention_id, "asked for the order number")
        (audit_n,) = conn.execute("SELECT count(*) FROM audit").fetchone() or (0,)
    config = room_ready.write_config(tmp_path / "desk.toml", station="desk-1")
    done = export(config, tmp_path, room_env, "queue")
    assert done.returncode == 0, done.stderr
    rows = {r["mention_id"]: r for r in map(json.loads, done.stdout.splitlines())}
    assert len(rows) == 3  # the room's items, though this machine's cache was never filled
    answered = rows[first.mention_id]
    assert answered["reply_text"] == "So sorry, a new charger is on its way"
    assert (answered["reply_state"], answered["reply_author"], answered["approved_by"]) == ("approved", "ana", "bo")
    assert answered["text"].startswith("@lumio help") and answered["network"] == "demo"
    assert answered["queued_at"].endswith("Z") and isinstance(answered["reasons"], list)
    out = tmp_path / "audit.csv"
    done = export(config, tmp_path, room_env, "audit", "--format", "csv", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == f"{audit_n} audit written to {out}"
    with out.open(newline="") as fh:
        header, *lines = list(csv.reader(fh))
    assert header == ["id", "actor", "action", "target", "before", "after", "hash", "at"]
    assert len(lines) == audit_n >= 4 and [int(line[0]) for line in lines] == list(range(1, audit_n + 1))
    assert {"item.claim", "item.submit", "item.approve"} <= {line[2] for line in lines}


def test_an_export_from_a_room_that_cannot_be_reached_is_one_line(
    room_ready: RoomDb, tmp_path: Path, room_env: dict[str, str]
) -> None:
    config = room_ready.write_config(tmp_path / "desk.toml")
    config.write_text(config.read_text().replace(f":{room_ready.cluster.port}/", ":1/"))
    done = export(config, tmp_path, room_env, "audit")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith("watchfloor: ")
