"""Faults as separate processes: the active hub killed, PostgreSQL stopped hard mid-run."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.room import cluster as pg
from tests.room import procs
from tests.room.conftest import RoomDb, demo_source, need_postgres, wait_until


def holder(room: RoomDb) -> str | None:
    """Which hub holds the room's hub lock (by its application_name), if any."""
    from app.room.hub import lock_holder

    try:
        with procs.owner(room) as conn:
            return lock_holder(conn)
    except psycopg.OperationalError:
        return None


def assert_whole(room: RoomDb) -> list[tuple[int, str]]:
    """No gap and no duplicate: sequence 1..N, and the demo's own counter 0..N-1 once each."""
    rows = procs.room_mentions(room)
    assert [s for s, _ in rows] == list(range(1, len(rows) + 1))
    counters = sorted(int(i.rsplit("-", 1)[1]) for _, i in rows)
    assert counters == list(range(len(rows)))
    return rows


def test_the_standby_hub_takes_over_when_the_active_one_is_killed(
    room_ready: RoomDb, tmp_path: Path, room_env: dict[str, str]
) -> None:
    a = procs.hub(room_ready, tmp_path, "hub-a", room_env, demo_source())
    b: procs.Proc | None = None
    try:
        wait_until(lambda: len(procs.room_mentions(room_ready)) >= 30, 60, "hub A to publish")
        assert holder(room_ready) == "watchfloor hub hub-a"
        b = procs.hub(room_ready, tmp_path, "hub-b", room_env, demo_source())
        # B waits with its own session open, and polls nothing while A holds the lock
        with procs.owner(room_ready) as conn:
            wait_until(lambda: conn.execute("SELECT count(*) FROM pg_stat_activity WHERE"
                                            " application_name = 'watchfloor hub hub-b'"
                                            ).fetchone() == (1,), 30, "hub B's session")  # fmt: skip
        assert holder(room_ready) == "watchfloor hub hub-a"
        assert procs.cache_ids(tmp_path / "hub-b.db") == set()
        before = len(procs.room_mentions(room_ready))
        killed = time.monotonic()
        a.stop(signal.SIGKILL)
        wait_until(lambda: holder(room_ready) == "watchfloor hub hub-b", 30, "hub B to take over")
        took = time.monotonic() - killed
        wait_until(lambda: len(procs.room_mentions(room_ready)) > before + 30, 60,
                   "hub B to publish")  # fmt: skip
        print(f"\ntakeover after SIGKILL: {took:.1f} s")
        assert b.stop() == 0, b.output()
    finally:
        a.stop(signal.SIGKILL)
        if b is not None:
            b.stop(signal.SIGKILL)
        for hub in (a, b):  # shown only when the test failed: what each hub said
            print(
                f"--- {hub.name if hub else 'hub-b (not started)'}\n{hub.output()[-4000:] if hub else ''}"
            )
    rows = assert_whole(room_ready)
    assert "1 active period" in b.last_line()
    # B published on from where the room stood: its cursor is the room's, its counter goes on
    assert len(rows) > before + 30
    with procs.owner(room_ready) as conn:
        ((hub, cursor),) = conn.execute("SELECT hub, cursor FROM source_state").fetchall()
    assert hub == "hub-b" and cursor["n"] == len(rows)


@pytest.fixture
def own_cluster() -> Iterator[pg.Cluster]:
    """A cluster of this test's own: it is stopped hard on purpose."""
    need_postgres()
    with pg.cluster() as c:
        yield c


def test_a_station_keeps_its_cache_through_a_hard_stop_and_catches_up(
    own_cluster: pg.Cluster, tmp_path: Path, room_env: dict[str, str]
) -> None:
    from app.room.schema import grant, migrate

    room = RoomDb(own_cluster, own_cluster.create_database())
    with procs.owner(room) as conn:
        migrate(conn)
        grant(conn, pg.APP)
    hub = procs.hub(room, tmp_path, "hub-a", room_env, demo_source())
    station = procs.station(room, tmp_path, "wall-1", room_env)
    cache = tmp_path / "wall-1.db"

    def link() -> dict[str, object]:
        found: dict[str, object] = json.loads(procs.cache_meta(cache, "room.link") or "{}")
        return found

    try:
        wait_until(lambda: len(procs.room_mentions(room)) >= 30, 60, "the hub to publish")
        wait_until(lambda: link().get("state") == "up", 30, "the station's link")
        # the link is up before the catch-up has read anything: what the cache must keep
        # through the stop is what it held when the server went
        wait_until(lambda: len(procs.cache_ids(cache)) >= 30, 30, "the station's cache")
        own_cluster.stop("immediate")
        wait_until(lambda: link().get("state") == "lost", 30, "the station to see the link lost")
        kept = procs.cache_ids(cache)
        assert len(kept) >= 30 and link()["since"]
        assert station.popen.poll() is None and hub.popen.poll() is None  # both wait, alive
        own_cluster.start()
        wait_until(lambda: link().get("state") == "up", 60, "the station to reconnect")
        wait_until(lambda: len(procs.room_mentions(room)) > len(kept) + 30, 60,
                   "the hub to poll again")  # fmt: skip
        assert hub.stop() == 0, hub.output()
        everything = {i for _, i in procs.room_mentions(room)}
        wait_until(lambda: procs.cache_ids(cache) == everything, 30, "the station to catch up")
        assert kept <= everything  # nothing the cache held was lost or replaced
    finally:
        hub.stop(signal.SIGKILL)
        code = station.stop()
    assert code == 0, station.output()
    assert "room link lost" in station.err.read_text()
    assert_whole(room)
