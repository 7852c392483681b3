"""Layouts: every shipped one is valid, errors name the file and key, screens are placed."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.layouts import (
    LayoutError,
    LoadedLayout,
    Monitor,
    check_layout_against_screens,
    check_tiles,
    load_layout,
    parse_layout,
    place_screens,
    shipped_layouts,
)
from app.ui.tilebase import load_registry, option_models


def test_the_four_promised_layouts_ship_and_are_valid() -> None:
    assert {"demo", "wall-3", "exec", "workstation"} <= set(shipped_layouts())
    options = option_models(load_registry())
    for name in shipped_layouts():
        loaded = load_layout(name)
        assert check_tiles(loaded, options) == [], name


def test_registry_has_every_tile_with_an_options_schema() -> None:
    registry = load_registry()
    assert set(registry) >= {
        "volume", "sentiment", "share_of_voice", "feed", "queue", "trending", "kpi", "alerts",
        "sources", "spotlight",
    }  # fmt: skip
    for tile_id, spec in registry.items():
        assert spec.id == tile_id
        spec.options.model_validate({})  # every option has a default


def test_layout_errors_name_file_key_and_expectation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        """
[[screens]]
name = "a"
crisis_scene = "nope"
  [[screens.scenes]]
  name = "s"
  grid = [2, 2]
  duration_s = "long"
  tiles = [ { tile = "kpi", at = [1, 1, 2, 1] } ]
"""
    )
    with pytest.raises(LayoutError) as err:
        load_layout(str(bad))
    text = str(err.value)
    assert str(bad) in text
    assert "screens[0].scenes[0].duration_s" in text


def test_overlapping_and_oversized_tiles_are_refused() -> None:
    base = {"screens": [{"name": "a", "scenes": [{"name": "s", "grid": [2, 2], "tiles": []}]}]}
    scene = base["screens"][0]["scenes"][0]  # type: ignore[index]
    scene["tiles"] = [{"tile": "kpi", "at": [0, 0, 2, 1]}, {"tile": "kpi", "at": [1, 0]}]
    with pytest.raises(LayoutError, match="overlaps"):
        parse_layout(base)
    scene["tiles"] = [{"tile": "kpi", "at": [1, 1, 2, 1]}]
    with pytest.raises(LayoutError, match="does not fit"):
        parse_layout(base)


def test_unknown_tiles_and_options_are_named(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text(
        '[[screens]]\nname = "a"\n[[screens.scenes]]\nname = "s"\ntiles = ['
        '{ tile = "kpi", at = [0, 0], options = { metric = "vibes" } },'
        '{ tile = "weather", at = [1, 0] },'
        '{ tile = "feed", at = [2, 0], options = { topik = "x" } } ]\n'
    )
    problems = check_tiles(load_layout(str(path)), option_models(load_registry()))
    assert any(p.startswith("screens[0].scenes[0].tiles[0].options.metric") for p in problems)
    assert any("tiles[1].tile: unknown tile 'weather'" in p for p in problems)
    assert any("tiles[2].options.topik: unknown key" in p for p in problems)


def _monitors(n: int) -> list[Monitor]:
    return [Monitor(f"m{i}", 1920 * i, 0, 1920, 1080) for i in range(n)]


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_wall_3_on_any_number_of_monitors_drops_no_scene(n: int) -> None:
    layout = load_layout("wall-3").layout
    placements, orphans = place_screens(layout, _monitors(n))
    assert len(placements) == min(n, 3)
    shown = [s.name for p in placements for s in p.screens]
    assert sorted(shown) == sorted(s.name for s in layout.screens)
    assert len(orphans) == max(0, 3 - n)
    # left to right: the first layout screen is on the leftmost monitor
    assert placements[0].monitor.name == "m0" and placements[0].screens[0].name == "overview"


def test_screens_are_matched_by_name_then_index_then_position() -> None:
    layout = parse_layout({"screens": [
        {"name": "a", "scenes": [{"name": "s"}]},
        {"name": "b", "match": "HDMI-2", "scenes": [{"name": "s"}]},
        {"name": "c", "index": 0, "scenes": [{"name": "s"}]},
    ]})  # fmt: skip
    monitors = [Monitor("HDMI-1", 0, 0, 1920, 1080), Monitor("HDMI-2", 1920, 0, 1920, 1080),
                Monitor("DP-1", 3840, 0, 1920, 1080)]  # fmt: skip
    placements, orphans = place_screens(layout, monitors)
    where = {p.screens[0].name: p.monitor.name for p in placements}
    assert where == {"b": "HDMI-2", "c": "HDMI-1", "a": "DP-1"}
    assert orphans == []


def test_doctor_says_when_monitors_are_missing() -> None:
    loaded = load_layout("wall-3")
    one = [{"name": "HDMI-1", "x": 0, "y": 0, "width": 1920, "height": 1080}]
    problems, notes = check_layout_against_screens(loaded, one)
    assert problems == [] and len(notes) == 2
    assert all("rotate on HDMI-1" in n for n in notes)
    three = [dict(one[0], name=f"m{i}", x=1920 * i) for i in range(3)]
    assert check_layout_against_screens(loaded, three) == ([], [])
    pinned = parse_layout({"screens": [{"name": "a", "match": "DP-9", "scenes": [{"name": "s"}]}]})
    problems, _ = check_layout_against_screens(LoadedLayout("p", Path("p.toml"), pinned), one)
    assert problems and "'DP-9', which is not attached" in problems[0]


def test_queue_counts_follow_every_queue_change(tmp_path: Path) -> None:
    """The wall's queue figures come from trigger-kept counts: they must match the queue."""
    import time

    from app import wallquery
    from app.store.db import open_writer, transaction

    conn = open_writer(tmp_path / "q.db")
    now = time.time()
    with transaction(conn):
        for i in range(30):
            conn.execute(
                "INSERT INTO queue (mention_id, priority, state, queued_ts, updated_ts) VALUES (?, ?, 'new', ?, ?)",
                (f"m{i}", 1 + i % 4, now - i * 600, now),
            )
        conn.execute("UPDATE queue SET state = 'claimed' WHERE mention_id IN ('m0', 'm1')")
        conn.execute("UPDATE queue SET state = 'sent' WHERE mention_id IN ('m2', 'm3', 'm4')")
        conn.execute("UPDATE queue SET priority = 1 WHERE mention_id = 'm5'")
        conn.execute("DELETE FROM queue WHERE mention_id = 'm6'")
    summary = wallquery.queue_summary(conn, now, {1: 15, 2: 60, 3: 240, 4: 1440})
    truth = dict(conn.execute(
        "SELECT priority, count(*) FROM queue WHERE state NOT IN ('sent', 'dismissed') GROUP BY 1"
    ).fetchall())  # fmt: skip
    assert summary.waiting == truth and summary.total == 30 - 3 - 1
    late_p1 = conn.execute(
        "SELECT count(*) FROM queue WHERE priority = 1 AND state NOT IN ('sent', 'dismissed') AND queued_ts < ?",
        (now - 15 * 60,),
    ).fetchone()[0]
    assert summary.breached[1] == late_p1 > 0
    conn.close()
