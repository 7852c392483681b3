"""Plot ranges that move only when they must, so the axes keep their cached pictures."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtWidgets import QGraphicsItem
from pytestqt.qtbot import QtBot

from app.config import Config
from app.layouts import parse_layout
from app.ui.tilebase import load_registry
from app.ui.wall import WallWindow
from app.ui.walldata import WallHub
from widgets.plotting import nice_top, time_window


def test_the_time_window_ends_with_the_current_minute_and_holds_within_it() -> None:
    start, end = time_window(1_000_030.0, 3600)
    assert end % 60 == 0 and 0 <= end - 1_000_030.0 < 60 and end - start == 3600
    assert time_window(1_000_031.0, 3600) == (start, end)  # a second later: the same range
    assert time_window(end + 1, 3600) == (start + 60, end + 60)  # the next minute: one step on


def test_the_top_of_the_y_range_is_round_and_close_above_the_data() -> None:
    for value in (0.3, 1, 1.21, 3.1, 4.2, 5, 6.1, 7, 8.01, 11, 21, 99, 101, 1234, 98_765):
        top = nice_top(value)
        assert value <= top <= value * 1.25 + 1e-9
        assert nice_top(value * 0.99) <= top  # a slightly smaller count keeps the same axis
    assert nice_top(21) == nice_top(22) == nice_top(24.9) == 25


def test_a_volume_line_is_drawn_again_only_when_its_points_change(
    qtbot: QtBot, demo_db: Path, wall_config: Config
) -> None:
    now = time.time()
    hub = WallHub(demo_db, wall_config, clock=lambda: now)  # one moment: the same window each time
    screen = parse_layout({"screens": [{"name": "s", "scenes": [{"name": "v", "tiles": [
        {"tile": "volume", "at": [0, 0], "options": {"window_min": 180}}]}]}]}).screens[0]  # fmt: skip
    w = WallWindow((screen,), hub, load_registry(), size=(1280, 720))
    qtbot.addWidget(w, before_close_func=WallWindow.shutdown)
    w.show()
    w.start()
    try:
        hub.refresh_now()
        (tile,) = w.views[w.current.key].tiles
        curve = next(iter(tile.curves.values())).curve  # type: ignore[attr-defined]
        assert curve.cacheMode() == QGraphicsItem.CacheMode.DeviceCoordinateCache
        changed: list[int] = []
        curve.sigPlotChanged.connect(lambda *_: changed.append(1))
        for _ in range(3):  # nothing new stored: the cached picture stays
            tile.refresh()
        assert changed == []
    finally:
        w.shutdown()
        hub.close()
