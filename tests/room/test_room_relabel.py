"""A sentiment correction through the room: held and audited in the room, laid over every
station's cache (its posts and rollups), so each wall's figures follow, also for a station
that was away or starts afterwards."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.analysis.corrections import Relabel
from app.room.desk import RoomDesk
from app.room.queue import RoomQueue, verify_audit
from app.store.schema import ALL, ROLLUP_RES
from app.ui.console import ConsoleWindow
from app.workflow.service import QueueWorkflow
from app.workflow.states import WorkflowError
from tests.room import procs
from tests.room.conftest import RoomDb, wait_until
from tests.room.test_console_room import WAIT, consoles, done, ready  # noqa: F401 (a fixture)
from tests.room.test_queue import app_conn, fill


def seen(cache: Path) -> tuple[str | None, dict[int, tuple[int, int, int]]]:
    """demo:q-0's class in the cache, and per rollup resolution the (neg, neu, pos) of all posts."""
    if not cache.exists():
        return None, {}
    conn = sqlite3.connect(f"file:{cache}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT sentiment_label FROM mentions WHERE id = 'demo:q-0'").fetchone()
        sums = {int(r): (int(n), int(u), int(p)) for r, n, u, p in conn.execute(
            "SELECT res, sum(neg), sum(neu), sum(pos) FROM rollups WHERE topic = ? GROUP BY res",
            (ALL,))}  # fmt: skip
        return (str(row[0]) if row else None), sums
    except sqlite3.OperationalError:  # the schema is not there yet
        return None, {}
    finally:
        conn.close()


def every_res(neg: int, neu: int, pos: int) -> dict[int, tuple[int, int, int]]:
    return dict.fromkeys(ROLLUP_RES, (neg, neu, pos))


def test_a_correction_on_one_console_moves_the_post_in_every_stations_rollups(
    room_ready: RoomDb, tmp_path: Path, room_env: dict[str, str]
) -> None:
    fill(room_ready, 3, [("ana", "operator"), ("vic", "viewer")])
    b_cache = tmp_path / "wall-b.db"
    b = procs.station(room_ready, tmp_path, "wall-b", room_env)
    desk = RoomDesk(QueueWorkflow(), RoomQueue())
    try:
        wait_until(lambda: seen(b_cache) == ("neutral", every_res(0, 3, 0)), 30, "B's cache")
        desk.user, desk.item = "ana", "demo:q-0"
        job = desk.relabel("negative")
        assert job.room  # today's desk refuses it as not shared
        with app_conn(room_ready) as conn:
            done = job.call(conn)
            assert isinstance(done, Relabel) and (done.before, done.after) == ("neutral", "negative")
            assert desk.relabel("negative").call(conn).audit_id == 0  # already so: nothing to audit
            with pytest.raises(WorkflowError, match="unknown sentiment class 'angry'"):
                desk.relabel("angry").call(conn)
            desk.user = "vic"
            with pytest.raises(WorkflowError, match="your role may not correct a sentiment"):
                desk.relabel("positive").call(conn)
        wait_until(lambda: seen(b_cache) == ("negative", every_res(1, 2, 0)), 30,
                   "the correction in B's rollups")  # fmt: skip
    finally:
        assert b.stop() == 0, b.output()
    # corrected again while B is away; C starts afterwards with an empty cache
    with app_conn(room_ready) as conn:
        desk.user = "ana"
        desk.relabel("positive").call(conn)
        audit = conn.execute("SELECT actor, action, target, before ->> 'sentiment_label',"
                             " after ->> 'sentiment_label' FROM audit ORDER BY id").fetchall()  # fmt: skip
        assert audit == [("ana", "mention.relabel", "demo:q-0", "neutral", "negative"),
                         ("ana", "mention.relabel", "demo:q-0", "negative", "positive")]  # fmt: skip
        assert verify_audit(conn) == (2, None)
        assert conn.execute("SELECT label, corrected_by FROM sentiment_corrections").fetchall() == [
            ("positive", "ana")]  # fmt: skip
    b = procs.station(room_ready, tmp_path, "wall-b", room_env)
    c_cache = tmp_path / "wall-c.db"
    c = procs.station(room_ready, tmp_path, "wall-c", room_env)
    try:
        wait_until(lambda: seen(b_cache) == ("positive", every_res(0, 2, 1)), 30, "B back")
        wait_until(lambda: seen(c_cache) == ("positive", every_res(0, 2, 1)), 30, "C's cache")
    finally:
        assert b.stop() == 0, b.output()
        assert c.stop() == 0, c.output()


def test_a_relabel_key_on_one_console_shows_in_the_other_consoles_item(
    qtbot: QtBot, room_ready: RoomDb,
    consoles: Callable[..., ConsoleWindow],  # noqa: F811 (the fixture imported above)
) -> None:  # fmt: skip
    fill(room_ready, 2, [("ana", "operator"), ("ben", "operator")])
    a = consoles(room_ready, "desk-a", "ana", "operator")
    b = consoles(room_ready, "desk-b", "ben", "operator")
    ready(qtbot, a, 2)
    ready(qtbot, b, 2)
    assert a.select("demo:q-1") and b.select("demo:q-1")
    qtbot.waitUntil(lambda: b.detail is not None and b.detail.mention["id"] == "demo:q-1", timeout=WAIT)
    assert b.detail is not None and b.detail.mention["sentiment_label"] == "neutral"
    out = done(qtbot, a, a.relabel("negative"))
    assert isinstance(out, Relabel) and a.error_bar.isHidden(), a.error_bar.text()
    qtbot.waitUntil(lambda: b.detail is not None and b.detail.mention["sentiment_label"] == "negative",
                    timeout=WAIT)  # fmt: skip
