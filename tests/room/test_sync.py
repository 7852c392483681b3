"""Hub and station as separate processes over a real PostgreSQL: a polled mention reaches a cache."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.room import procs
from tests.room.conftest import RoomDb, demo_source, wait_until


def test_a_mention_polled_by_the_hub_reaches_the_station_cache_analysed(
    room_ready: RoomDb, tmp_path: Path, room_env: dict[str, str]
) -> None:
    hub = procs.hub(room_ready, tmp_path, "hub-a", room_env, demo_source())
    station = procs.station(room_ready, tmp_path, "wall-1", room_env)
    cache = tmp_path / "wall-1.db"
    try:
        wait_until(lambda: len(procs.room_mentions(room_ready)) >= 50, 60, "the hub to publish")
        assert hub.stop() == 0, hub.output()
        published = {i for _, i in procs.room_mentions(room_ready)}
        wait_until(lambda: published == procs.cache_ids(cache), 30, "the station to catch up")
    finally:
        assert station.stop() == 0, station.output()
        hub.stop()
    assert "room sync:" in station.last_line() and "mentions received" in station.last_line()
    assert "mentions published" in hub.last_line()
    seqs = [s for s, _ in procs.room_mentions(room_ready)]
    assert seqs == list(range(1, len(seqs) + 1))  # gap-free, from 1
    # the station stored what the hub analysed (not a fresh guess), and rolled it up itself
    with procs.owner(room_ready) as conn:
        room_rows = {i: b for i, b in conn.execute("SELECT id, body FROM mentions")}
        health = conn.execute("SELECT name, status, hub, cursor FROM source_state").fetchall()
    local = sqlite3.connect(cache)
    try:
        rows = local.execute("SELECT id, sentiment, topics, needs_response, priority FROM mentions")
        mine = {i: (s, json.loads(t), bool(n), p) for i, s, t, n, p in rows}
        (rolled,) = local.execute("SELECT sum(n) FROM rollups WHERE res = 60 AND topic = '*'"
                                  ).fetchone()  # fmt: skip
        local_health = local.execute("SELECT name, status FROM source_state").fetchall()
        cursor_seq = local.execute("SELECT value FROM meta WHERE key = 'room.seq'").fetchone()
    finally:
        local.close()
    assert set(mine) == set(room_rows)
    for mid, body in room_rows.items():
        assert mine[mid] == (body["sentiment"], body["topics"], body["needs_response"],
                             body["priority"])  # fmt: skip
    assert rolled == len(mine)
    assert any(body["topics"] == ["lumio"] for body in room_rows.values())
    # cursors and health live in the room; the station mirrors the health, not a fake "room" source
    assert [(n, h) for n, _, h, _ in health] == [("demo", "hub-a")]
    assert health[0][3]["n"] == len(room_rows)  # the demo's counter matches what the room holds
    assert [n for n, _ in local_health] == ["demo"]
    assert cursor_seq == (str(len(room_rows)),)


def test_room_sync_that_never_reaches_the_room_says_so_and_fails(
    room_ready: RoomDb, tmp_path: Path, room_env: dict[str, str]
) -> None:
    env = {**room_env, "WATCHFLOOR_TEST_ROOM_PASSWORD": "wrong-password"}
    station = procs.station(room_ready, tmp_path, "wall-1", env, "--for", "1")
    assert station.popen.wait(60) == 1
    line = station.last_line()
    assert (
        line.startswith("room sync: link lost since ") and "password authentication failed" in line
    )
    assert "wrong-password" not in station.output()
    link = json.loads(procs.cache_meta(tmp_path / "wall-1.db", "room.link") or "{}")
    assert link["state"] == "lost" and "password authentication failed" in link["error"]


def test_a_body_from_a_newer_program_keeps_what_this_one_knows() -> None:
    from datetime import UTC, datetime

    from app.model import Mention
    from app.room.mentions import body_from_mention, mention_from_body

    m = Mention(network="demo", native_id="1", source="demo", text="Lumio is hot",
                created_at=datetime(2026, 12, 1, tzinfo=UTC), sentiment=-0.4, topics=["lumio"])  # fmt: skip
    body = {**body_from_mention(m), "stance": "against", "stories": [3]}
    back = mention_from_body(body)
    assert (back.id, back.created_at, back.sentiment, back.topics) == (
        "demo:1", m.created_at, -0.4, ["lumio"])  # fmt: skip
