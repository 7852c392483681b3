"""What a person changes (a claim, an approval) reaches the wall between its throttled ticks;
the stream of mentions still waits for the tick."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.config import Config
from app.layouts import parse_layout
from app.model import Mention
from app.store import tables as T
from app.store.db import open_writer, transaction
from app.store.writer import IngestBatch, StoreWriter
from app.ui.tilebase import TileFrame, load_registry
from app.ui.wall import WallWindow
from app.ui.walldata import WallHub

#: longer than any test: only the prompt path can bring a change in time
NEVER_MS = 600_000


@pytest.fixture
def scene_db(tmp_path: Path, demo_db: Path) -> Path:
    db = tmp_path / "w.db"
    db.write_bytes(demo_db.read_bytes())
    conn = open_writer(db)
    with transaction(conn):  # a few waiting items, whatever the demo's first seconds queued
        now = time.time()
        conn.execute("INSERT INTO queue (mention_id, priority, state, queued_ts, updated_ts) SELECT id, 2, 'new', ?, ?"
                     " FROM mentions WHERE id NOT IN (SELECT mention_id FROM queue) LIMIT 3", (now - 60, now - 60))  # fmt: skip
    conn.close()
    return db


@pytest.fixture
def wall(qtbot: QtBot, scene_db: Path, wall_config: Config) -> Iterator[tuple[WallHub, WallWindow]]:
    hub = WallHub(scene_db, wall_config, throttle_ms=NEVER_MS)
    screen = {"name": "s", "scenes": [{"name": "q", "grid": [2, 1], "tiles": [
        {"tile": "queue", "at": [0, 0]}, {"tile": "volume", "at": [1, 0]}]}]}  # fmt: skip
    w = WallWindow(parse_layout({"screens": [screen]}).screens, hub, load_registry(), size=(1920, 1080))
    qtbot.addWidget(w, before_close_func=WallWindow.shutdown)
    w.show()
    hub.start()
    w.start()
    hub.refresh_all_visible()
    yield hub, w
    hub.close()


def _tiles(w: WallWindow) -> dict[str, TileFrame]:
    return {type(t).__name__: t for t in w.views[w.current.key].tiles if isinstance(t, TileFrame)}


def test_a_change_a_person_made_shows_before_the_next_tick(
    qtbot: QtBot, wall: tuple[WallHub, WallWindow], scene_db: Path, wall_config: Config
) -> None:
    hub, w = wall
    queue = _tiles(w)["QueueTile"]
    qtbot.waitUntil(lambda: bool(queue.head), timeout=5000)  # type: ignore[attr-defined]
    first = queue.head[0][0].id  # type: ignore[attr-defined]
    with StoreWriter(scene_db, wall_config, maintenance=False) as writer:
        writer.call(
            lambda c: c.execute("UPDATE queue SET state = 'awaiting_approval' WHERE mention_id = ?", (first,)),
            tables=frozenset({T.QUEUE}),
        ).result(30)
    qtbot.waitUntil(
        lambda: any(p.id == first and state == "awaiting_approval" for p, state, _ in queue.head),  # type: ignore[attr-defined]
        timeout=5000,
    )
    assert hub.timer.interval() == NEVER_MS  # the throttled tick had no part in it


def test_new_mentions_wait_for_the_tick(
    qtbot: QtBot, wall: tuple[WallHub, WallWindow], scene_db: Path, wall_config: Config
) -> None:
    hub, w = wall
    volume = _tiles(w)["VolumeTile"]
    post = Mention(network="mastodon", native_id="prompt-1", source="mastodon", text="my Lumio X is great",
                   created_at=datetime.now(UTC))  # fmt: skip
    with StoreWriter(scene_db, wall_config, maintenance=False) as writer:
        writer.submit(IngestBatch("mastodon", "mastodon", [post], {})).result(30)
    hub.prompt()
    assert id(volume) in hub._dirty  # the volume tile knows it has something new …
    assert id(volume) not in hub._urgent  # … and waits for the tick to read it
    assert hub.refresh_due(urgent_only=True) == 0
