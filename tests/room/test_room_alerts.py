"""Alerts and crises through the room: a console's acknowledgement or crisis reaches every wall.

The console's room desk acts in PostgreSQL (compare-and-set, audited on the room's chain);
a station (`watchfloor room sync`, a real process) copies the outcome into its cache, where
the wall's crisis bar reads it.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from app.config import load_config
from app.room.alerts import RoomAlerts
from app.room.desk import RoomDesk
from app.room.queue import RoomQueue, verify_audit
from app.room.station import Station
from app.store.writer import StoreWriter
from app.ui.console import ConsoleWindow
from app.wallcontrol import Crisis, crisis_state
from app.workflow.service import QueueWorkflow
from app.workflow.states import WorkflowError
from tests.room import procs
from tests.room.conftest import RoomDb, wait_until
from tests.room.test_console_room import WAIT, consoles, done, ready  # noqa: F401 (a fixture)
from tests.room.test_queue import app_conn, fill


def _cache(cache: Path) -> sqlite3.Connection | None:
    if not cache.exists():
        return None
    return sqlite3.connect(f"file:{cache}?mode=ro", uri=True)


def wall_crisis(cache: Path) -> Crisis | str | None:
    """What the wall's crisis bar shows from the station's cache ('' while it has no tables)."""
    conn = _cache(cache)
    if conn is None:
        return ""
    try:
        return crisis_state(conn)
    except sqlite3.OperationalError:
        return ""
    finally:
        conn.close()


def local_rows(cache: Path, query: str) -> list[tuple[Any, ...]]:
    conn = _cache(cache)
    assert conn is not None
    try:
        return conn.execute(query).fetchall()
    finally:
        conn.close()


def test_acknowledge_declare_and_end_through_the_room_reach_a_station_cache(
    room_ready: RoomDb, tmp_path: Path, room_env: dict[str, str]
) -> None:
    fill(room_ready, 2, [("ana", "approver"), ("otto", "operator")])
    fired = time.time() - 120
    with app_conn(room_ready) as conn:  # the alert as the hub publishes it
        found = conn.execute(
            "INSERT INTO alerts (kind, topic, ts, window_start, observed, baseline, z, explanation)"
            " VALUES ('spike', 'lumio', %s, %s, 40, 4, 9, 'lumio: 40 mentions/min') RETURNING id",
            (fired, fired - 600),
        ).fetchone()  # fmt: skip
    assert found is not None
    room_alert = found[0]
    cache = tmp_path / "wall-1.db"
    station = procs.station(room_ready, tmp_path, "wall-1", room_env)
    try:
        wait_until(lambda: wall_crisis(cache) != "", 60, "the station to make its cache")
        # the station detected the same spike itself, a little later, under its own id
        w = sqlite3.connect(cache, timeout=30)
        with w:
            local = w.execute(
                "INSERT INTO alerts (kind, topic, ts, window_start, observed, baseline, z,"
                " explanation) VALUES ('spike', 'lumio', ?, ?, 41, 4, 9, 'lumio: 41/min')",
                (fired + 40, fired - 560),
            ).lastrowid  # fmt: skip
        w.close()
        shown = wall_crisis(cache)
        assert isinstance(shown, Crisis) and shown.crisis_id is None and shown.active_alerts == 1

        desk = RoomDesk(QueueWorkflow(), RoomQueue(), cache=cache)
        desk.user, desk.alert = "otto", local
        with app_conn(room_ready) as conn:
            desk.acknowledge().call(conn)
            row = conn.execute("SELECT state, acked_by, acked_ts FROM alerts WHERE id = %s",
                               (room_alert,)).fetchone()  # fmt: skip
            assert row is not None and row[:2] == ("acknowledged", "otto") and row[2] > fired
            audit = conn.execute("SELECT actor, action, target FROM audit ORDER BY id").fetchall()
            assert audit[-1] == ("otto", "alert.acknowledge", f"alert:{room_alert}")
            assert verify_audit(conn)[1] is None
            # a second acknowledgement (another console, same moment) is refused, saying who
            desk.user = "ana"
            with pytest.raises(WorkflowError, match="acknowledged already by otto"):
                desk.acknowledge().call(conn)
        wait_until(lambda: wall_crisis(cache) is None, 10, "the wall's crisis bar to clear")
        assert local_rows(cache, f"SELECT state, acked_by FROM alerts WHERE id = {local}") == [
            ("acknowledged", "otto")
        ]

        with app_conn(room_ready) as conn:
            desk.user = "otto"  # an operator may not declare
            with pytest.raises(WorkflowError, match="approver or admin"):
                desk.declare_crisis("outage", topic="lumio").call(conn)
            desk.user = "ana"
            crisis = desk.declare_crisis("payment outage", topic="lumio").call(conn)
            # declared twice: the one open crisis, not a second
            assert desk.declare_crisis("again", topic="lumio").call(conn) == crisis
        wait_until(lambda: getattr(wall_crisis(cache), "crisis_id", None) == crisis, 10,
                   "the crisis to show on the wall")  # fmt: skip
        shown = wall_crisis(cache)
        assert isinstance(shown, Crisis) and shown.reason == "payment outage"
        assert local_rows(cache, f"SELECT kind FROM crisis_events WHERE crisis_id = {crisis}") == [
            ("declared",)
        ]

        with app_conn(room_ready) as conn:
            assert desk.end_crisis("resolved by the payments team").call(conn) == crisis
            with pytest.raises(WorkflowError, match="no crisis is open"):
                desk.end_crisis("twice").call(conn)
            actions = [a for (a,) in conn.execute("SELECT action FROM audit ORDER BY id")]
            assert actions[-2:] == ["crisis.declare", "crisis.end"]
            assert verify_audit(conn)[1] is None
        wait_until(lambda: wall_crisis(cache) is None, 10, "the crisis to end on the wall")
        ended = local_rows(cache, f"SELECT ended_by FROM crises WHERE id = {crisis}")
        assert ended == [("ana",)]
    finally:
        assert station.stop() == 0, station.output()


def add_local_alert(window: ConsoleWindow, fired: float) -> int:
    """The spike as this station's own detection stores it (through its writer, its own id
    and time)."""

    def write(c: sqlite3.Connection) -> int:
        cur = c.execute(
            "INSERT INTO alerts (kind, topic, ts, window_start, observed, baseline, z,"
            " explanation) VALUES ('spike', 'lumio', ?, ?, 41, 4, 9, 'lumio: 41/min')",
            (fired, fired - 600),
        )  # fmt: skip
        return int(cur.lastrowid or 0)

    return int(window.writer.call(write, tables=("alerts",)).result(timeout=30))


def test_one_consoles_crisis_and_acknowledgement_show_on_the_other_console(
    qtbot: QtBot,
    room_ready: RoomDb,
    consoles: Callable[..., ConsoleWindow],  # noqa: F811 (the fixture imported above)
) -> None:
    fill(room_ready, 2, [("ana", "approver"), ("ben", "operator")])
    fired = time.time() - 120
    with app_conn(room_ready) as conn:
        conn.execute(
            "INSERT INTO alerts (kind, topic, ts, window_start, observed, baseline, z, explanation)"
            " VALUES ('spike', 'lumio', %s, %s, 40, 4, 9, 'lumio: 40 mentions/min')",
            (fired, fired - 600),
        )  # fmt: skip
    a = consoles(room_ready, "desk-a", "ana", "approver")
    b = consoles(room_ready, "desk-b", "ben", "operator")
    ready(qtbot, a, 2)
    ready(qtbot, b, 2)
    mine = add_local_alert(a, fired + 30)
    add_local_alert(b, fired - 20)
    qtbot.waitUntil(lambda: b.alerts_pane.list.count() == 1 and a.alerts_pane.list.count() == 1,
                    timeout=WAIT)  # fmt: skip
    crisis = done(qtbot, a, a.declare_crisis("payment outage", "lumio"))
    assert isinstance(crisis, int) and a.error_bar.isHidden()
    qtbot.waitUntil(lambda: b.crisis is not None and b.crisis.id == crisis, timeout=WAIT)
    assert done(qtbot, a, a.acknowledge(mine)) is None and a.error_bar.isHidden()
    qtbot.waitUntil(lambda: b.alerts_pane.list.count() == 0, timeout=WAIT)
    done(qtbot, a, a.end_crisis("fixed"))
    qtbot.waitUntil(lambda: b.crisis is None, timeout=WAIT)
    with app_conn(room_ready) as conn:
        actions = [r[0] for r in conn.execute("SELECT action FROM audit ORDER BY id")]
        assert actions[-3:] == ["crisis.declare", "alert.acknowledge", "crisis.end"]
        assert verify_audit(conn)[1] is None


def test_an_alert_the_station_detects_after_the_rooms_acknowledgement_is_acknowledged_too(
    room_ready: RoomDb, tmp_path: Path
) -> None:
    fill(room_ready, 1, [("ana", "operator")])
    fired = time.time() - 120
    with app_conn(room_ready) as conn:
        found = conn.execute(
            "INSERT INTO alerts (kind, topic, ts, window_start, observed, baseline, z, explanation)"
            " VALUES ('spike', 'lumio', %s, %s, 40, 4, 9, 'lumio: 40/min') RETURNING id",
            (fired, fired - 600),
        ).fetchone()  # fmt: skip
        assert found is not None
        RoomAlerts().acknowledge(conn, "ana", int(found[0]))
    config = load_config(room_ready.write_config(tmp_path / "wall-2.toml", station="wall-2"))
    assert config.room is not None
    cache = tmp_path / "wall-2.db"
    writer = StoreWriter(cache, config, maintenance=False).start()
    station = Station(config.room, writer, alerts_recheck_s=0.3).start()
    try:
        # a claim made now shows in the cache only after the station's first copies
        with app_conn(room_ready) as conn:
            RoomQueue().claim(conn, "ana", "demo:q-0")
        wait_until(lambda: local_rows(cache, "SELECT state FROM queue") == [("claimed",)]
                   if cache.exists() else False, 30, "the station's first copies")  # fmt: skip

        def detect(c: sqlite3.Connection) -> int:  # as this station's detection stores it
            cur = c.execute(
                "INSERT INTO alerts (kind, topic, ts, window_start, observed, baseline, z,"
                " explanation) VALUES ('spike', 'lumio', ?, ?, 41, 4, 9, 'lumio: 41/min')",
                (fired + 50, fired - 550),
            )  # fmt: skip
            return int(cur.lastrowid or 0)

        local = writer.call(detect, tables=("alerts",)).result(timeout=30)
        wait_until(lambda: local_rows(cache, f"SELECT state, acked_by FROM alerts WHERE id = {local}")
                   == [("acknowledged", "ana")], 10, "the late alert to be acknowledged")  # fmt: skip
        assert wall_crisis(cache) is None
    finally:
        station.stop()
        writer.close()
