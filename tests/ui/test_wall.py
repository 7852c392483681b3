"""The wall window: scenes rotate, a crisis takes over until acknowledged, the console steers.

Every shipped layout renders every tile, on an empty database and on demo data.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app import wallcontrol
from app.config import Config
from app.layouts import Screen, load_layout, parse_layout, shipped_layouts
from app.store.db import open_writer, transaction
from app.ui.snapshot import render_snapshot
from app.ui.tilebase import TileFrame, load_registry
from app.ui.wall import WallWindow
from app.ui.walldata import WallHub


def _screen(**scene_durations: float) -> Screen:
    data = {"screens": [{
        "name": "main", "crisis_scene": "crisis",
        "scenes": [
            *({"name": n, "duration_s": d, "grid": [2, 1], "tiles": [
                {"tile": "kpi", "at": [0, 0]}, {"tile": "feed", "at": [1, 0]}]}
              for n, d in scene_durations.items()),
            {"name": "crisis", "crisis_only": True, "tiles": [{"tile": "alerts", "at": [0, 0]}]},
        ],
    }]}  # fmt: skip
    return parse_layout(data).screens[0]


@pytest.fixture
def hub(db_path: Path, config: Config, qtbot: QtBot):  # type: ignore[no-untyped-def]
    open_writer(db_path).close()
    h = WallHub(db_path, config, throttle_ms=50)
    yield h
    h.close()


@pytest.fixture
def window(hub: WallHub, qtbot: QtBot):  # type: ignore[no-untyped-def]
    w = WallWindow((_screen(first=1, second=1),), hub, load_registry(), size=(1280, 720))
    qtbot.addWidget(w, before_close_func=WallWindow.shutdown)  # stop it while its hub exists
    w.show()
    w.start()
    hub.start()
    yield w


def _write(db_path: Path, sql: str, params: tuple[object, ...] = ()) -> None:
    conn = open_writer(db_path)
    with transaction(conn):
        conn.execute(sql, params)
    conn.close()


def test_scenes_rotate_in_order_and_wrap(window: WallWindow, qtbot: QtBot) -> None:
    seen: list[str] = []
    window.scene_shown.connect(seen.append)
    assert window.current.scene.name == "first"
    qtbot.waitUntil(lambda: len(seen) >= 3, timeout=6000)
    assert seen[:3] == ["main/second", "main/first", "main/second"]
    assert "crisis" not in " ".join(seen)  # a crisis-only scene is not in the rotation


def test_an_alert_takes_the_wall_to_the_crisis_scene_until_acknowledged(
    window: WallWindow, hub: WallHub, db_path: Path, qtbot: QtBot
) -> None:
    _write(db_path, "INSERT INTO alerts (kind, topic, ts, window_start, observed, baseline, z,"
           " explanation) VALUES ('spike', 'lumio', ?, ?, 90, 10, 8, 'lumio: 90/min, 9× the usual')",
           (time.time(), time.time() - 300))  # fmt: skip
    qtbot.waitUntil(lambda: window.current.scene.name == "crisis", timeout=3000)
    assert window.title.crisis is not None and "1 unacknowledged alert" in window.title.crisis.reason
    # the rotation is paused during a crisis: no turn is due, and a turn that fires anyway
    # (a timer already queued) keeps the crisis scene
    assert not window.rotate_timer.isActive()
    window.next_scene()
    assert window.current.scene.name == "crisis"
    _write(db_path, "UPDATE alerts SET state = 'acknowledged', acked_by = 'ana', acked_ts = ?", (time.time(),))
    qtbot.waitUntil(lambda: window.current.scene.name != "crisis", timeout=3000)
    assert window.title.crisis is None


def test_a_declared_crisis_also_switches_and_ending_it_restores(
    window: WallWindow, db_path: Path, qtbot: QtBot
) -> None:
    _write(db_path, "INSERT INTO crises (topic, reason, declared_by, started_ts) VALUES"
           " ('lumio', 'battery overheating reports', 'ana', ?)", (time.time(),))  # fmt: skip
    qtbot.waitUntil(lambda: window.current.scene.name == "crisis", timeout=3000)
    assert window.title.crisis is not None and window.title.crisis.reason == "battery overheating reports"
    _write(db_path, "UPDATE crises SET ended_ts = ?, ended_by = 'ana'", (time.time(),))
    qtbot.waitUntil(lambda: window.current.scene.name in {"first", "second"}, timeout=3000)


def test_console_commands_switch_scene_and_spotlight(
    hub: WallHub, db_path: Path, qtbot: QtBot, config: Config
) -> None:
    layout = parse_layout({"screens": [{"name": "main", "scenes": [
        {"name": "a", "duration_s": 600, "tiles": [{"tile": "kpi", "at": [0, 0]}]},
        {"name": "b", "duration_s": 600, "tiles": [{"tile": "kpi", "at": [0, 0]}]},
        {"name": "spot", "duration_s": 600, "tiles": [{"tile": "spotlight", "at": [0, 0]}]},
    ]}]})  # fmt: skip
    w = WallWindow(tuple(layout.screens), hub, load_registry(), size=(1280, 720))
    qtbot.addWidget(w, before_close_func=WallWindow.shutdown)  # stop it while its hub exists
    w.show()
    w.start()
    hub.start()
    conn = open_writer(db_path)
    with transaction(conn):
        conn.execute(
            "INSERT INTO mentions (id, network, source, text, ts, fetched_ts, sentiment, topics,"
            " needs_response, priority, reasons) VALUES ('demo:1', 'demo', 'demo', 'hello wall',"
            " ?, ?, 0.5, '[]', 0, 4, '[]')", (time.time(), time.time()))  # fmt: skip
        wallcontrol.issue(conn, "scene", {"screen": "main", "scene": "b"}, by="ana")
    qtbot.waitUntil(lambda: w.current.scene.name == "b", timeout=3000)
    with transaction(conn):
        wallcontrol.issue(conn, "scene", {"screen": "elsewhere", "scene": "a"}, target="elsewhere")
        wallcontrol.issue(conn, "spotlight", {"mention_id": "demo:1"}, by="ana")
    qtbot.waitUntil(lambda: w.current.scene.name == "spot", timeout=3000)
    spot = w.views["main/spot"].tiles[0]
    qtbot.waitUntil(lambda: getattr(spot, "post", None) is not None and spot.chosen, timeout=3000)  # type: ignore[attr-defined]
    assert spot.post.text == "hello wall"  # type: ignore[attr-defined]
    conn.close()
    w.shutdown()


def test_hidden_tiles_do_not_refresh(window: WallWindow, hub: WallHub, qtbot: QtBot) -> None:
    calls: dict[int, int] = {}
    for tile in window.all_tiles:
        original = tile.refresh

        def counting(tile=tile, original=original) -> None:  # type: ignore[no-untyped-def]
            calls[id(tile)] = calls.get(id(tile), 0) + 1
            original()

        tile.refresh = counting  # type: ignore[method-assign]
    window.rotate_timer.stop()
    hub.refresh_all_visible()
    visible = {id(t) for t in window.views[window.current.key].tiles}
    assert visible and set(calls) == visible


@pytest.mark.parametrize("name", shipped_layouts())
def test_every_layout_renders_every_tile_empty_and_with_demo_data(
    name: str, tmp_path: Path, demo_db: Path, wall_config: Config, qtbot: QtBot
) -> None:
    loaded = load_layout(name)
    for db, label in ((tmp_path / "empty.db", "empty"), (demo_db, "demo")):
        for screen in loaded.layout.screens:
            for scene in screen.scenes:
                out = tmp_path / label / scene.name
                paths = render_snapshot(wall_config, db, out, layout=name, scene=scene.name)
                assert out / f"{screen.name}.png" in paths
                size = _png_size(out / f"{screen.name}.png")
                assert size == tuple(screen.size)


def test_empty_tiles_say_so(tmp_path: Path, config: Config, qtbot: QtBot) -> None:
    db = tmp_path / "empty.db"
    open_writer(db).close()
    hub = WallHub(db, config)
    screen = load_layout("demo").layout.screens[0]
    w = WallWindow((screen,), hub, load_registry())
    qtbot.addWidget(w, before_close_func=WallWindow.shutdown)  # stop it while its hub exists
    w.show()
    w.start()
    hub.refresh_all_visible()
    tiles = [t for t in w.views[w.current.key].tiles if isinstance(t, TileFrame)]
    texts = {type(t).__name__: t.empty_text for t in tiles}
    assert texts["VolumeTile"].startswith("No mentions in the last")
    assert texts["AlertsTile"] == "All quiet — no alerts"
    w.shutdown()
    hub.close()


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def test_a_failing_tile_does_not_stop_the_others(window: WallWindow, hub: WallHub, qtbot: QtBot,
                                                 caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    tiles = window.views[window.current.key].tiles
    broken, healthy = tiles[0], tiles[1]
    window.rotate_timer.stop()

    def boom() -> None:
        raise ValueError("a bug in one tile")

    broken.refresh = boom  # type: ignore[method-assign]
    refreshed: list[int] = []
    original = healthy.refresh
    healthy.refresh = lambda: (refreshed.append(1), original())  # type: ignore[method-assign, func-returns-value]
    with caplog.at_level("ERROR"):
        hub.refresh_all_visible()
        hub.refresh_all_visible()
    assert refreshed == [1, 1]
    assert sum("failed to refresh" in r.message for r in caplog.records) == 1  # logged once, not every second


def test_the_picture_moves_a_few_pixels_for_burn_in_care(window: WallWindow) -> None:
    title_at = []
    for _ in range(4):
        window.shift_pixels()
        window.layout().activate()  # type: ignore[union-attr]
        title_at.append(window.title.mapTo(window, window.title.rect().topLeft()).toTuple())
    d = window.shift_px
    assert d > 0 and sorted(title_at) == sorted([(d, 0), (d, d), (0, d), (0, 0)])
