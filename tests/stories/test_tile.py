"""The ``stories`` wall tile: a topic's top stories of the window, counts and rise, offscreen."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from app.config import Config
from app.store.db import open_reader
from app.store.writer import StoreWriter
from app.ui.theme import Scale
from app.ui.tilebase import TileContext, load_registry
from tests.stories.test_detector import BURNED, CHATTER, CRASHING, T0, ingest
from widgets.stories import StoriesOptions, StoriesTile


def test_the_tile_lists_the_window_top_stories_with_counts_and_rise(
    db_path: Path, demo_config: Config, qtbot: QtBot
) -> None:
    with StoreWriter(db_path, demo_config, maintenance=False) as w:
        # 20 minutes ago: two crashing posts; now: the burned story and one more crash
        ingest(w, CRASHING[:2], seconds=0)
        ingest(w, BURNED, start=10, seconds=20 * 60)
        ingest(w, CRASHING[2:] + CHATTER, start=40, seconds=20 * 60 + 30)
    now = T0.timestamp() + 21 * 60
    ctx = TileContext(open_reader(db_path), demo_config, Scale(1.0), clock=lambda: now)
    assert "stories" in load_registry()
    tile = StoriesTile(StoriesOptions(topic="lumio", window_min=15), ctx, None)
    qtbot.addWidget(tile)
    tile.resize(900, 700)
    tile.refresh()
    assert [(r.label in BURNED, r.count, r.rise) for r in tile.rows] == [
        (True, len(BURNED), None),  # new in this window
        (False, 1, 0.5),  # one crash now against two in the window before
    ]
    assert tile.rows[1].size == len(CRASHING)
    assert tile.subtitle == "lumio · posts in the last 15 min" and tile.empty_text == ""
    assert not tile.grab().toImage().isNull()

    quiet = StoriesTile(StoriesOptions(topic="nexa"), ctx, None)
    qtbot.addWidget(quiet)
    quiet.refresh()
    assert quiet.rows == [] and quiet.empty_text == "No story repeated in this window"
