"""`watchfloor wall` in a room is a station: its own cache, filled from the room, no poller."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.room import procs
from tests.room.conftest import RoomDb, demo_source, wait_until


def test_a_wall_pc_fills_its_cache_from_the_room_and_polls_nothing(
    room_ready: RoomDb, tmp_path: Path, room_env: dict[str, str]
) -> None:
    hub = procs.hub(room_ready, tmp_path, "hub-a", room_env, demo_source())
    # the wall's config has a source too: in a room it must not poll it (the hub does)
    config = room_ready.write_config(tmp_path / "wall.toml", station="wall-pc",
                                     sources=demo_source().replace('"demo"', '"wall-demo"', 1).replace("seed = 7", "seed = 99"))  # fmt: skip
    env = {**room_env, "QT_QPA_PLATFORM": "offscreen"}
    wall = procs.Proc("wall-pc", ["wall", "--poll", "--config", str(config), "--db",
                                  str(tmp_path / "wall-pc.db")], env, tmp_path)  # fmt: skip
    cache = tmp_path / "wall-pc.db"
    try:
        wait_until(lambda: len(procs.room_mentions(room_ready)) >= 30, 60, "the hub to publish")
        assert hub.stop() == 0, hub.output()
        published = {i for _, i in procs.room_mentions(room_ready)}
        wait_until(lambda: procs.cache_ids(cache) == published, 60, "the wall's cache")
        wait_until(lambda: json.loads(procs.cache_meta(cache, "room.link") or "{}").get("state")
                   == "up", 30, "the wall's link up")  # fmt: skip
    finally:
        hub.stop()
        code = wall.stop()
    assert code == 0, wall.output()
    assert "in a room the hub polls" in wall.err.read_text()
    assert not [i for i in procs.cache_ids(cache) if i.startswith("demo:99-")]
    conn = sqlite3.connect(cache)
    try:
        assert [n for (n,) in conn.execute("SELECT name FROM source_state")] == ["demo"]
    finally:
        conn.close()
