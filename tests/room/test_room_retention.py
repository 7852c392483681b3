"""The room's retention: mentions past ``[retention]`` go, the care record stays, and a hub
and a station go on across the numbers left out."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

from app.model import Mention
from app.room.mentions import body_from_mention
from app.room.publish import insert_mentions, prune_mentions
from tests.room import cluster as pg
from tests.room import procs
from tests.room.conftest import RoomDb, demo_source, wait_until
from tests.room.test_queue import app_conn

DAY = 86_400.0


def _publish(room: RoomDb, mentions: list[Mention]) -> None:
    with app_conn(room) as conn, conn.transaction():
        insert_mentions(conn, {m.id: body_from_mention(m) for m in mentions})


def _mention(name: str, age_days: float, *, queued: bool = False) -> Mention:
    return Mention(network="demo", native_id=name, source="demo", text=f"lumio {name}",
                   created_at=datetime.fromtimestamp(time.time() - age_days * DAY, tz=UTC),
                   needs_response=queued, priority=2 if queued else 4)  # fmt: skip


def test_old_mentions_go_and_the_care_record_stays(room_ready: RoomDb) -> None:
    old = [_mention(f"old-{n}", 40 + n / 100) for n in range(7)]
    record = {kind: _mention(kind, 45) for kind in ("noted", "relabelled", "taken-out", "replied")}
    queued = _mention("queued", 50, queued=True)
    recent = _mention("recent", 2)
    _publish(room_ready, [*old, *record.values(), queued, recent])
    now = time.time()
    with app_conn(room_ready) as conn:
        conn.execute("INSERT INTO notes (mention_id, author, ts, text) VALUES (%s, 'ana', %s, 'called her')",
                     (record["noted"].id, now))  # fmt: skip
        conn.execute("INSERT INTO sentiment_corrections (mention_id, label, corrected_by, ts)"
                     " VALUES (%s, 'negative', 'ana', %s)", (record["relabelled"].id, now))  # fmt: skip
        conn.execute("INSERT INTO story_exclusions (mention_id, taken_by, ts) VALUES (%s, 'ana', %s)",
                     (record["taken-out"].id, now))  # fmt: skip
        conn.execute("INSERT INTO replies (mention_id, author, text, created_ts, updated_ts, idempotency_key)"
                     " VALUES (%s, 'ana', 'sorry', %s, %s, 'k1')", (record["replied"].id, now, now))  # fmt: skip
        # three rows a statement: the batches run on until fewer come back
        assert prune_mentions(conn, now - 30 * DAY, batch=3) == (7, False)
        left = {i for (i,) in conn.execute("SELECT id FROM mentions")}
        assert prune_mentions(conn, now - 30 * DAY) == (0, False)  # nothing more to do
        # out of time with a full batch: more may be left, the hub goes on at once
        _publish(room_ready, [_mention(f"late-{n}", 60) for n in range(4)])
        assert prune_mentions(conn, now - 30 * DAY, batch=2, budget_s=0.0) == (2, True)
    assert left == {m.id for m in (*record.values(), queued, recent)}


def test_a_hub_prunes_the_room_and_a_station_reads_on_across_the_gap(
    room_ready: RoomDb, tmp_path: Path, room_env: dict[str, str]
) -> None:
    old = [_mention(f"old-{n}", 40) for n in range(20)]
    _publish(room_ready, [*old, _mention("kept", 1)])  # seq 1-20 old, 21 recent
    sources = demo_source(rate=600) + "\n[retention]\nmentions_days = 30\n"
    hub = procs.hub(room_ready, tmp_path, "hub-a", room_env, sources, "--once")
    assert hub.popen.wait(120) == 0, hub.output()
    rows = procs.room_mentions(room_ready)
    ids = {i for _, i in rows}
    assert not ids & {m.id for m in old}, "the old mentions stayed in the room"
    assert "demo:kept" in ids and len(rows) > 1  # the hub's own posts published after the gap
    seqs = [s for s, _ in rows]
    assert seqs[0] == 21 and seqs == sorted(seqs)
    station = procs.station(room_ready, tmp_path, "wall-1", room_env)
    cache = tmp_path / "wall-1.db"
    try:
        wait_until(lambda: procs.cache_ids(cache) == ids, 30, "the station to read on past the gap")
    finally:
        assert station.stop() == 0, station.output()
    local = sqlite3.connect(cache)
    try:
        (seq,) = local.execute("SELECT value FROM meta WHERE key = 'room.seq'").fetchone()
    finally:
        local.close()
    assert int(seq) == max(seqs)


def test_a_room_granted_by_an_older_version_keeps_its_mentions_and_says_how_to_fix_it(
    room_ready: RoomDb, tmp_path: Path, room_env: dict[str, str]
) -> None:
    old = _mention("old", 40)
    _publish(room_ready, [old])
    with procs.owner(room_ready) as conn:  # the grants as rooms set up before pruning had them
        conn.execute(f"REVOKE DELETE ON watchfloor.mentions FROM {pg.APP}")
    sources = demo_source(rate=600) + "\n[retention]\nmentions_days = 30\n"
    hub = procs.hub(room_ready, tmp_path, "hub-a", room_env, sources, "--once")
    assert hub.popen.wait(120) == 0, hub.output()  # the hub polled and published on
    ids = {i for _, i in procs.room_mentions(room_ready)}
    assert old.id in ids and len(ids) > 1
    assert "run 'watchfloor room init' as the room's owner" in hub.output()
