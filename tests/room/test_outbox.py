"""The room's outbox: of two stations sending, exactly one sends each reply, and a dead one's lease runs out."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid

from tests.room import procs
from tests.room.conftest import RoomDb, wait_until
from tests.room.racer import START_LOCK
from tests.room.test_queue import fill


def approved(room: RoomDb, n: int) -> dict[int, str]:
    """``n`` replies approved and due (the approvals done), by id → idempotency key."""
    fill(room, n, [("ana", "operator")])
    keys = {}
    with procs.owner(room) as conn:
        conn.execute("UPDATE queue SET state = 'approved'")
        for (mid,) in conn.execute("SELECT mention_id FROM queue ORDER BY mention_id").fetchall():
            key = str(uuid.uuid4())
            (rid,) = conn.execute(
                "INSERT INTO replies (mention_id, author, text, state, created_ts, updated_ts,"
                " idempotency_key, approved_by) VALUES (%s, 'ana', 'Sorry to hear that!',"
                " 'approved', 0, 0, %s, 'ben') RETURNING id", (mid, key)).fetchone() or (0,)  # fmt: skip
            keys[int(rid)] = key
    return keys


def sender(room: RoomDb, station: str, env: dict[str, str], *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tests.room.sender", room.url, station, *extra],
                            stdout=subprocess.PIPE, text=True, env=env)  # fmt: skip


def test_two_stations_send_each_reply_exactly_once(
    room_ready: RoomDb, room_env: dict[str, str]
) -> None:
    keys = approved(room_ready, 200)
    with procs.owner(room_ready) as gate:
        gate.execute("SELECT pg_advisory_lock(%s)", (START_LOCK,))
        both = [sender(room_ready, s, room_env) for s in ("desk-1", "desk-2")]
        wait_until(lambda: gate.execute("SELECT count(*) FROM pg_locks WHERE locktype ="
                                        " 'advisory' AND NOT granted").fetchone() == (2,),
                   60, "both outboxes at the start")  # fmt: skip
        gate.execute("SELECT pg_advisory_unlock(%s)", (START_LOCK,))
        results = [json.loads(p.communicate(timeout=120)[0]) for p in both]
    posts = [p["reply"] for r in results for p in r["posted"]]
    print(f"\nsends per station: { {r['station']: len(r['posted']) for r in results} }")
    assert sorted(posts) == sorted(keys)  # every reply posted, none twice
    assert all(p["key"] == keys[p["reply"]] and p["attempt"] == 1
               for r in results for p in r["posted"])  # fmt: skip
    with procs.owner(room_ready) as conn:
        states = conn.execute("SELECT state, count(*) FROM queue GROUP BY 1").fetchall()
        by = dict(conn.execute("SELECT id, sending_by FROM replies").fetchall())
        sent = conn.execute("SELECT count(*) FROM audit WHERE action = 'item.sent'").fetchone()
    assert states == [("sent", 200)] and sent == (200,)
    assert all(by[p["reply"]] == r["station"] for r in results for p in r["posted"])


def test_a_station_dead_mid_send_leaves_its_replies_to_another_with_the_same_key(
    room_ready: RoomDb, room_env: dict[str, str]
) -> None:
    keys = approved(room_ready, 5)
    crashed = sender(room_ready, "desk-1", room_env, "--crash")
    crashed.communicate(timeout=60)
    assert crashed.returncode == 0
    with procs.owner(room_ready) as conn:
        leased = conn.execute("SELECT count(*), max(sending_until) FROM replies"
                              " WHERE state = 'sending' AND sending_by = 'desk-1'").fetchone()  # fmt: skip
        assert leased is not None and leased[0] == 5
        # desk-2 running now takes nothing: the leases are live
        early = sender(room_ready, "desk-2", room_env)
        assert json.loads(early.communicate(timeout=60)[0])["posted"] == []
        wait_until(lambda: time.time() > leased[1], 20, "the dead station's leases to run out")
    late = sender(room_ready, "desk-2", room_env)
    result = json.loads(late.communicate(timeout=60)[0])
    assert sorted(p["reply"] for p in result["posted"]) == sorted(keys)
    assert all(p["key"] == keys[p["reply"]] and p["attempt"] == 2 for p in result["posted"])
    with procs.owner(room_ready) as conn:
        assert conn.execute("SELECT state, count(*) FROM queue GROUP BY 1").fetchall() == [
            ("sent", 5)
        ]
        # sent once each: one "send" step when first taken, one "sent"
        actions = conn.execute(
            "SELECT action, count(*) FROM audit GROUP BY 1 ORDER BY 1"
        ).fetchall()
    assert actions == [("item.send", 5), ("item.sent", 5)]
