"""`watchfloor poll --once` in a room: one round published, or a clear refusal while another hub polls."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg

from app.room.schema import HUB_LOCK
from tests.room import cluster as pg
from tests.room import procs
from tests.room.conftest import RoomDb, demo_source


def poll_once(
    room: RoomDb, tmp_path: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    config = room.write_config(tmp_path / "hub.toml", sources=demo_source(), station="hub-a")
    return subprocess.run([sys.executable, "-m", "app", "poll", "--once", "--config", str(config),
                           "--db", str(tmp_path / "hub.db")], capture_output=True, text=True,
                          env=env, timeout=120)  # fmt: skip


def test_poll_once_publishes_one_round_and_prunes_the_old_change_log(
    room_ready: RoomDb, tmp_path: Path, room_env: dict[str, str]
) -> None:
    with procs.owner(room_ready) as conn:
        conn.execute("INSERT INTO change_log (ts, tables) VALUES (1, '{mentions}')")
    done = poll_once(room_ready, tmp_path, room_env)
    assert done.returncode == 0, done.stderr
    rows = procs.room_mentions(room_ready)
    assert rows and [s for s, _ in rows] == list(range(1, len(rows) + 1))
    assert done.stdout.strip().splitlines()[-1] == (
        f"room hub: {len(rows)} mentions published in 1 active period(s) as hub-a"
    )
    with procs.owner(room_ready) as conn:
        logged = conn.execute("SELECT ts, tables FROM change_log ORDER BY id").fetchall()
        ((status, cursor),) = conn.execute("SELECT status, cursor FROM source_state").fetchall()
    assert all(ts > 1 for ts, _ in logged)
    assert ["mentions", "queue", "source_state"] in [t for _, t in logged]
    assert status == "ok" and cursor["n"] == len(rows)
    # a second round goes on from the room's cursor: nothing twice
    again = poll_once(room_ready, tmp_path, room_env)
    assert again.returncode == 0, again.stderr
    more = procs.room_mentions(room_ready)
    assert len(more) >= len(rows) and [s for s, _ in more] == list(range(1, len(more) + 1))


def test_poll_once_while_another_hub_polls_says_so_and_fails(
    room_ready: RoomDb, tmp_path: Path, room_env: dict[str, str]
) -> None:
    with psycopg.connect(room_ready.url, password=pg.APP_PASSWORD, autocommit=True,
                         application_name="watchfloor hub hub-z") as other:  # fmt: skip
        other.execute("SELECT pg_advisory_lock(%s)", (HUB_LOCK,))
        done = poll_once(room_ready, tmp_path, room_env)
    assert done.returncode == 1
    assert done.stdout.strip().splitlines()[-1] == (
        "room hub: not polling, another hub holds the room's lock (watchfloor hub hub-z)"
    )
    assert procs.room_mentions(room_ready) == []


def test_poll_once_with_the_room_unreachable_is_one_clear_line(
    room_ready: RoomDb, tmp_path: Path, room_env: dict[str, str]
) -> None:
    env = {**room_env, "WATCHFLOOR_TEST_ROOM_PASSWORD": "wrong-password"}
    done = poll_once(room_ready, tmp_path, env)
    assert done.returncode == 1
    (line,) = [ln for ln in done.stderr.strip().splitlines() if ln.startswith("watchfloor:")]
    assert "password authentication failed" in line
    assert "Traceback" not in done.stderr


def test_the_hubs_alerts_reach_the_room_once(
    room_ready: RoomDb, tmp_path: Path, room_env: dict[str, str]
) -> None:
    from app.store.db import open_writer

    local = open_writer(tmp_path / "hub.db")  # an alert the hub's own analysis raised
    local.execute("INSERT INTO alerts (kind, topic, ts, window_start, observed, baseline, z,"
                  " explanation, terms) VALUES ('spike', 'lumio', 1000, 700, 40, 4, 9.5,"
                  " 'lumio: 40 mentions/min', '[\"overheating\", \"#lumiorecall\"]')")  # fmt: skip
    local.close()
    for _ in range(2):
        done = poll_once(room_ready, tmp_path, room_env)
        assert done.returncode == 0, done.stderr
    with procs.owner(room_ready) as conn:
        alerts = conn.execute(
            "SELECT kind, topic, ts, observed, terms, state FROM alerts"
        ).fetchall()
        logged = [t for (t,) in conn.execute("SELECT tables FROM change_log")]
    assert alerts == [("spike", "lumio", 1000.0, 40.0, ["overheating", "#lumiorecall"], "active")]
    assert sum("alerts" in t for t in logged) == 1


def test_a_cache_from_another_room_reads_the_new_room_from_the_start(
    pg_cluster: pg.Cluster, room_ready: RoomDb, tmp_path: Path, room_env: dict[str, str]
) -> None:
    from app.room.schema import grant, migrate
    from tests.room.conftest import wait_until

    assert poll_once(room_ready, tmp_path, room_env).returncode == 0
    first = {i for _, i in procs.room_mentions(room_ready)}
    station = procs.station(room_ready, tmp_path, "wall-1", room_env)
    cache = tmp_path / "wall-1.db"
    try:
        wait_until(lambda: procs.cache_ids(cache) == first, 30, "the first room in the cache")
    finally:
        assert station.stop() == 0
    # a second room (a restore given a new identity, or another room): its sequence starts at 1
    other = RoomDb(pg_cluster, pg_cluster.create_database())
    with procs.owner(other) as conn:
        migrate(conn)
        grant(conn, pg.APP)
    config = other.write_config(tmp_path / "hub2.toml", station="hub-a",
                                sources=demo_source().replace("seed = 7", "seed = 8"))  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "app", "poll", "--once", "--config", str(config),
                           "--db", str(tmp_path / "hub2.db")], env=room_env, timeout=120,
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    second = {i for _, i in procs.room_mentions(other)}
    assert second and not second & first
    station = procs.station(other, tmp_path, "wall-1", room_env)
    try:
        wait_until(lambda: procs.cache_ids(cache) == first | second, 30, "the second room read")
    finally:
        assert station.stop() == 0
    assert "filled from another room" in station.err.read_text()
