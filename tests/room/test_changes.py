"""The change log read on from the last id: a commit that lands after a higher id is still seen."""

from __future__ import annotations

import psycopg

from app.room.changes import GAP_WAIT_S, ChangeCursor
from tests.room import cluster as pg
from tests.room.conftest import RoomDb
from tests.room.test_queue import app_conn


def test_a_lower_id_committed_late_is_not_missed(room_ready: RoomDb) -> None:
    with app_conn(room_ready) as reader, app_conn(room_ready) as early, \
            psycopg.connect(room_ready.url, password=pg.APP_PASSWORD) as late:  # fmt: skip
        cursor = ChangeCursor()
        late.execute("SET search_path = watchfloor")
        # a console's transaction takes id N and stays open; another commits N+1 meanwhile
        (held,) = late.execute("INSERT INTO change_log (tables, ids) VALUES ('{queue}',"
                               " '{demo:1}') RETURNING id").fetchone() or (0,)  # fmt: skip
        early.execute("INSERT INTO change_log (tables, ids) VALUES ('{queue}', '{demo:2}')")
        first = cursor.read(reader, now=0.0)
        assert [c.ids for c in first] == [("demo:2",)]
        assert list(cursor.gaps) == [held]
        late.commit()
        second = cursor.read(reader, now=1.0)
        assert [(c.id, c.ids) for c in second] == [(held, ("demo:1",))]
        assert cursor.gaps == {} and cursor.read(reader, now=2.0) == []
        # an id whose transaction rolled back never comes: looked for a while, then forgotten
        with psycopg.connect(room_ready.url, password=pg.APP_PASSWORD) as gone:
            gone.execute("SET search_path = watchfloor")
            (lost,) = gone.execute("INSERT INTO change_log (tables) VALUES ('{queue}')"
                                   " RETURNING id").fetchone() or (0,)  # fmt: skip
            gone.rollback()
        early.execute("INSERT INTO change_log (tables) VALUES ('{queue}')")
        cursor.read(reader, now=3.0)
        assert list(cursor.gaps) == [lost]
        cursor.read(reader, now=3.0 + GAP_WAIT_S + 1)
        assert cursor.gaps == {}


def test_a_consoles_first_look_at_a_new_room_misses_not_its_first_change(room_ready: RoomDb) -> None:
    from app.room.desk import probe
    from app.room.publish import log_change

    with app_conn(room_ready) as conn:
        cursor = ChangeCursor()
        first = probe(conn, "desk-1", None, None, None, "idle", cursor, beat=False)
        assert first.changed  # the first look reads the room whole
        with conn.transaction():  # the room's very first change: id 1
            log_change(conn, ["queue"], ["demo:1"])
        assert probe(conn, "desk-1", None, None, None, "idle", cursor, beat=False).changed
        assert not probe(conn, "desk-1", None, None, None, "idle", cursor, beat=False).changed
