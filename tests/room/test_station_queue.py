"""A station's cache follows the room's queue: a claim in the room shows as claimed in the cache."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from app.room.queue import RoomQueue
from tests.room import procs
from tests.room.conftest import RoomDb, wait_until
from tests.room.test_queue import app_conn, fill


def cached(cache: Path) -> tuple[dict[str, tuple[str, str | None]], dict[str, int]]:
    """(state, assignee) of each cached queue row, and the trigger-kept counts by state."""
    if not cache.exists():
        return {}, {}
    conn = sqlite3.connect(f"file:{cache}?mode=ro", uri=True)
    try:
        rows = {
            str(m): (str(s), a)
            for m, s, a in conn.execute("SELECT mention_id, state, assignee FROM queue")
        }
        counts = {str(s): int(n) for s, n in
                  conn.execute("SELECT state, sum(n) FROM queue_counts WHERE n > 0 GROUP BY state")}  # fmt: skip
    except sqlite3.OperationalError:  # the station has not made its tables yet
        return {}, {}
    finally:
        conn.close()
    return rows, counts


def test_room_queue_states_reach_the_station_cache_live_and_after_a_restart(
    room_ready: RoomDb, tmp_path: Path, room_env: dict[str, str]
) -> None:
    fill(room_ready, 6, [("ana", "operator"), ("ben", "operator")])
    with app_conn(room_ready) as conn:
        ids = [str(i) for (i,) in conn.execute("SELECT mention_id FROM queue ORDER BY mention_id")]
    cache = tmp_path / "wall-1.db"
    queue = RoomQueue()
    station = procs.station(room_ready, tmp_path, "wall-1", room_env)
    try:
        wait_until(lambda: cached(cache)[0] == {i: ("new", None) for i in ids}, 60,
                   "the station to cache the queue")  # fmt: skip
        with app_conn(room_ready) as conn:
            queue.claim(conn, "ana", ids[0])
            taken = queue.claim_next(conn, "ben")
        assert taken is not None and taken.mention_id != ids[0]
        want = {ids[0]: ("claimed", "ana"), taken.mention_id: ("claimed", "ben")}
        wait_until(lambda: {i: cached(cache)[0][i] for i in want} == want, 10,
                   "the claims to show in the cache")  # fmt: skip
        assert cached(cache)[1] == {"new": 4, "claimed": 2}  # the wall's queue figures follow
        with app_conn(room_ready) as conn:
            queue.release(conn, "ana", ids[0])
        wait_until(lambda: cached(cache)[0][ids[0]] == ("new", None), 10, "the release")
    finally:
        assert station.stop() == 0, station.output()
    # while this station is away, another console acts; on its return the cache follows
    with app_conn(room_ready) as conn:
        queue.claim(conn, "ana", ids[0])
        queue.release(conn, "ben", taken.mention_id)
    station = procs.station(room_ready, tmp_path, "wall-1", room_env)
    try:
        wait_until(lambda: cached(cache)[0][ids[0]] == ("claimed", "ana")
                   and cached(cache)[0][taken.mention_id] == ("new", None), 30,
                   "the cache to follow what moved while away")  # fmt: skip
        assert cached(cache)[1] == {"new": 5, "claimed": 1}
    finally:
        assert station.stop() == 0, station.output()
