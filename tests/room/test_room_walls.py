"""Wall commands through the room: given on workstation A, shown by wall PC B's walls.

The wall PC is a process of its own (:mod:`tests.room.wall_proc`: its station, its cache,
the wall windows reading that cache as they read a command given on their own machine).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from app import wallcontrol
from app.room.desk import RoomDesk
from app.room.queue import RoomQueue, verify_audit
from app.ui.console import ConsoleWindow
from app.workflow.service import QueueWorkflow
from app.workflow.states import WorkflowError
from tests.room import procs
from tests.room.conftest import RoomDb, wait_until
from tests.room.test_console_room import consoles, done, ready  # noqa: F401 (a fixture)
from tests.room.test_queue import app_conn, fill


def said(proc: procs.Proc, heard: dict[str, float] | None = None) -> list[dict[str, Any]]:
    """What the wall process said (``heard``: when each command was read, by its words)."""
    out = []
    for line in proc.out.read_text().splitlines():
        if line.startswith("{"):
            what = json.loads(line)
            at = what.pop("at", None)
            if heard is not None and at is not None:
                heard[json.dumps(what, sort_keys=True)] = float(at)
            out.append(what)
    return out


def cache_commands(cache: Path) -> list[tuple[str, str, str]]:
    conn = sqlite3.connect(f"file:{cache}?mode=ro", uri=True)
    try:
        return [(str(c), str(a), str(b)) for c, a, b in conn.execute(
            "SELECT command, args, issued_by FROM wall_commands ORDER BY id")]  # fmt: skip
    finally:
        conn.close()


def spotlight_of(cache: Path) -> str | None:
    conn = sqlite3.connect(f"file:{cache}?mode=ro", uri=True)
    try:
        return wallcontrol.current_spotlight(conn)
    finally:
        conn.close()


def test_a_spotlight_and_a_scene_given_on_a_console_show_on_another_wall_pc(
    qtbot: QtBot, room_ready: RoomDb, tmp_path: Path, room_env: dict[str, str],
    consoles: Callable[..., ConsoleWindow],  # noqa: F811 (the fixture imported above)
) -> None:  # fmt: skip
    fill(room_ready, 2, [("ana", "approver"), ("otto", "operator")])
    wall = procs.wall_pc(room_ready, tmp_path, "wall-b", room_env)
    try:
        wait_until(lambda: {"ready": True} in said(wall), 60, "wall PC B to catch up")
        a = consoles(room_ready, "desk-a", "ana", "approver")
        ready(qtbot, a, 2)
        assert a.select("demo:q-1")
        assert done(qtbot, a, a.spotlight()) is not None and a.error_bar.isHidden()
        assert done(qtbot, a, a.switch_scene("overview", "response")) is not None
        assert a.error_bar.isHidden(), a.error_bar.text()
        wait_until(lambda: {"command": "scene", "args": {"screen": "overview", "scene": "response"},
                            "by": "ana"} in said(wall), 30, "B's walls to read the scene command")  # fmt: skip
        heard: dict[str, float] = {}
        lines = said(wall, heard)
        assert {"command": "spotlight", "args": {"mention_id": "demo:q-1"}, "by": "ana"} in lines
        # the wall switched to the scene it was told, after it heard the command
        scene = {"command": "scene", "args": {"screen": "overview", "scene": "response"}, "by": "ana"}
        told = lines.index(scene)
        with app_conn(room_ready) as conn:
            issued = dict(conn.execute("SELECT command, ts FROM wall_commands").fetchall())
        late_ms = 1000 * (heard[json.dumps(scene, sort_keys=True)] - issued["scene"])
        print(f"\nscene given on A read by B's walls {late_ms:.0f} ms after the time the room holds for it")
        spot = lines.index({"command": "spotlight", "args": {"mention_id": "demo:q-1"}, "by": "ana"})
        # each shown at once: the spotlight's scene, then the scene asked for
        assert lines[spot + 1] == {"scene": "conversation/conversation"}
        wait_until(lambda: said(wall)[told + 1:told + 2] == [{"scene": "competitors/response"}],
                   10, "the scene on B's wall")  # fmt: skip
        assert spotlight_of(tmp_path / "wall-b.db") == "demo:q-1"
        # an operator may spotlight a post but not switch the walls' scenes
        desk = RoomDesk(QueueWorkflow(), RoomQueue())
        desk.user, desk.item = "otto", "demo:q-0"
        with app_conn(room_ready) as conn:
            with pytest.raises(WorkflowError, match="your role may not send scene"):
                desk.switch_scene("overview", "crisis").call(conn)
            desk.spotlight().call(conn)
            audit = conn.execute("SELECT actor, action, target FROM audit ORDER BY id").fetchall()
            assert audit == [("ana", "wall.spotlight", "*"), ("ana", "wall.scene", "overview"),
                             ("otto", "wall.spotlight", "*")]  # fmt: skip
            assert verify_audit(conn)[1] is None
        wait_until(lambda: spotlight_of(tmp_path / "wall-b.db") == "demo:q-0", 30,
                   "otto's spotlight on B")  # fmt: skip
    finally:
        wall.stop()
    assert wall.popen.returncode == 0, wall.output()
    # a wall PC started now takes the spotlight standing, not yesterday's scene switches
    late = procs.wall_pc(room_ready, tmp_path, "wall-c", room_env)
    try:
        wait_until(lambda: {"ready": True} in said(late), 60, "wall PC C to catch up")
        assert cache_commands(tmp_path / "wall-c.db") == [
            ("spotlight", '{"mention_id": "demo:q-0"}', "otto")]  # fmt: skip
        assert not [line for line in said(late) if "command" in line]
        with app_conn(room_ready) as conn:
            desk.user = "ana"
            desk.wall("clear_spotlight", {}).call(conn)
        wait_until(lambda: {"command": "clear_spotlight", "args": {}, "by": "ana"} in said(late), 30,
                   "C's walls to read the clear")  # fmt: skip
        assert spotlight_of(tmp_path / "wall-c.db") is None
    finally:
        late.stop()
    assert late.popen.returncode == 0, late.output()
