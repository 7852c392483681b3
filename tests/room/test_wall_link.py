"""A wall PC in a room says when its link to the room is lost, and judges the hub's sources by age."""

from __future__ import annotations

import json
import time
from pathlib import Path

from pytestqt.qtbot import QtBot

from app.config import parse_config
from app.layouts import load_layout
from app.store.db import open_writer
from app.ui.tilebase import load_registry
from app.ui.wall import WallWindow
from app.ui.walldata import WallHub

ROOM = {"brand": {"name": "Lumio"}, "room": {"url": "postgresql://app@db.example/wf",
                                             "sslmode": "disable"}}  # fmt: skip


def cache(path: Path, *, last_success: float, link: dict[str, object]) -> None:
    """A station's cache as its sync leaves it: the hub's source health mirrored, the link."""
    conn = open_writer(path)
    conn.execute("INSERT OR REPLACE INTO source_state (name, type, status, last_success, next_poll)"
                 " VALUES ('demo', 'demo', 'ok', ?, ?)", (last_success, last_success + 1))  # fmt: skip
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('room.link', ?)",
                 (json.dumps(link),))  # fmt: skip
    conn.close()


def test_the_title_bar_says_the_room_link_is_lost_and_the_data_ages(
    qtbot: QtBot, tmp_path: Path
) -> None:
    config = parse_config(ROOM)  # a wall PC's config: [room], no sources of its own
    db = tmp_path / "wall.db"
    lost = time.time() - 600
    cache(
        db, last_success=lost, link={"state": "lost", "since": lost, "error": "connection refused"}
    )
    hub = WallHub(db, config)
    w = WallWindow(
        (load_layout("demo").layout.screens[0],), hub, load_registry(), size=(1920, 1080)
    )
    qtbot.addWidget(w, before_close_func=WallWindow.shutdown)
    try:
        w.show()
        hub.start()
        w.start()
        hub.read_health()
        qtbot.waitUntil(lambda: "ROOM LINK LOST" in w.title.notice, timeout=5000)
        assert time.strftime("%H:%M", time.localtime(lost)) in w.title.notice
        assert "connection refused" in w.title.notice
        assert not hub.freshness.live  # the hub's source, mirrored, is judged by its age
        # the link back and the hub polling: the title bar says nothing any more
        cache(db, last_success=time.time(), link={"state": "up", "since": time.time()})
        hub.read_health()
        qtbot.waitUntil(lambda: w.title.notice == "", timeout=5000)
        assert hub.freshness.live
    finally:
        hub.close()
