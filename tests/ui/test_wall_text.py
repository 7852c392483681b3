"""What the wall says, read as a visitor reads it: nothing cut, no store names, counts that
match what is listed, one figure for one thing, every figure with its window."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from app.config import Config
from app.layouts import load_layout, parse_layout, shipped_layouts
from app.store.db import open_writer, transaction
from app.ui.tilebase import TileFrame, load_registry
from app.ui.wall import WallWindow
from app.ui.walldata import WallHub


@pytest.fixture
def hubs() -> Iterator[list[WallHub]]:
    made: list[WallHub] = []
    yield made
    for hub in made:
        hub.close()


def _window(qtbot: QtBot, hubs: list[WallHub], db: Path, config: Config, screen_data: Mapping[str, Any] | None = None,
            *, layout: str = "", screen: int = 0, size: tuple[int, int] | None = None) -> WallWindow:  # fmt: skip
    hub = WallHub(db, config)
    hubs.append(hub)
    screens = parse_layout({"screens": [screen_data]}).screens if screen_data else load_layout(layout).layout.screens
    w = WallWindow((screens[screen],), hub, load_registry(), size=size)
    qtbot.addWidget(w, before_close_func=WallWindow.shutdown)
    w.show()
    hub.start()
    w.start()
    return w


def _painted(w: WallWindow) -> list[TileFrame]:
    w.hub.refresh_all_visible()
    w.grab()  # paints every tile as the monitor would
    return [t for t in w.views[w.current.key].tiles if isinstance(t, TileFrame)]


def _cells(layout: str) -> list[tuple[str, int, str]]:
    return [(layout, i, scene.name) for i, screen in enumerate(load_layout(layout).layout.screens)
            for scene in screen.scenes]  # fmt: skip


@pytest.mark.parametrize("size", [None, (1280, 720), (1280, 1024)], ids=["1080p", "720p", "5:4"])
@pytest.mark.parametrize(("layout", "screen", "scene"), [c for name in shipped_layouts() for c in _cells(name)])
def test_no_title_count_or_window_on_any_shipped_screen_is_cut(
    qtbot: QtBot, hubs: list[WallHub], demo_db: Path, wall_config: Config, layout: str, screen: int, scene: str,
    size: tuple[int, int] | None,
) -> None:
    w = _window(qtbot, hubs, demo_db, wall_config, layout=layout, screen=screen, size=size)
    ref = w.scene_by_name(scene)
    assert ref is not None
    w.show_scene(ref)
    tiles = _painted(w)
    # the same screen once its data has gone stale (a dead poller): "since when" is whole too
    for tile in tiles:
        tile.set_stale(True, time.time() - 3 * 3600)
    w.grab()
    for tile in tiles:
        cut = [text for text in tile.drawn if "…" in text]
        assert not cut, f"stale {layout}/{scene} {type(tile).__name__}: {cut}"
    for tile in tiles:
        tile.set_stale(False, None)
    w.grab()
    for tile in tiles:
        assert tile.title.upper() in tile.drawn, f"{type(tile).__name__}: title cut: {tile.drawn}"
        shown = [tile.subtitle, *tile.subtitle_short]  # its window or count, in one form or another
        assert not tile.subtitle or set(shown) & set(tile.drawn), f"{layout}/{scene}: {tile.subtitle!r} left out"
        cut = [text for text in tile.drawn if "…" in text]
        assert not cut, f"{layout}/{scene} {type(tile).__name__}: {cut}"
        assert not [t for t in tile.drawn if "−0 " in t or "+0 pts" in t], tile.drawn  # no change is "±0"
        number = getattr(tile, "number", None)  # the sentiment tile's column: legend whole, inside
        if number is not None and tile.now.scored:  # type: ignore[attr-defined]
            assert number.bottom <= number.height() + 1, number.bottom
            entries = tile.legend.entries  # type: ignore[attr-defined]
            assert [e.split()[0] for e in entries] == ["positive", "neutral", "negative"], entries
            legend_w = tile.legend.width()  # type: ignore[attr-defined]
            assert tile.legend.right <= legend_w + 1, f"{layout}/{scene}: legend cut"  # type: ignore[attr-defined]
            assert tile.plot.width() >= legend_w * 0.9  # type: ignore[attr-defined]  # a chart, not a sliver
        legend = getattr(tile, "legend", None)
        if legend is not None and legend.isVisible() and hasattr(legend, "drawn"):
            assert legend.drawn and not [t for t in legend.drawn if "…" in t], legend.drawn


def _alert(conn: object, topic: str, ts: float) -> None:
    conn.execute(  # type: ignore[attr-defined]
        "INSERT INTO alerts (kind, topic, ts, window_start, observed, baseline, z, explanation, terms, state)"
        " VALUES ('spike', ?, ?, ?, 90, 10, 8, ?, '[]', 'active')",
        (topic, ts, ts - 300, f"{topic}: 90 mentions/min over the last 5 min, 9.0× the usual 10.0/min (z = 8.0)"),
    )


def test_the_alerts_count_matches_what_the_tile_lists(qtbot: QtBot, hubs: list[WallHub], db_path: Path,
                                                     wall_config: Config) -> None:  # fmt: skip
    conn = open_writer(db_path)
    with transaction(conn):
        for i, topic in enumerate(("lumio", "orbitel", "nexa", "industry")):
            _alert(conn, topic, time.time() - 60 * i)
    conn.close()
    small = {"name": "s", "scenes": [{"name": "a", "grid": [3, 2], "tiles": [{"tile": "alerts", "at": [0, 0]}]}]}
    w = _window(qtbot, hubs, db_path, wall_config, small, size=(1920, 1080))
    (tile,) = _painted(w)
    assert tile.subtitle == "4 active"
    shown = tile.shown  # type: ignore[attr-defined]
    assert 0 < shown < 4  # a small cell: not all fit
    assert f"+ {4 - shown} more active (see the console)" in tile.drawn


def _queued(conn: object, n: int) -> None:
    """At least ``n`` of the stored posts wait in the queue (whatever the demo queued)."""
    now = time.time()
    conn.execute(  # type: ignore[attr-defined]
        "INSERT INTO queue (mention_id, priority, state, queued_ts, updated_ts) SELECT id, 1, 'new', ?, ?"
        " FROM mentions WHERE id NOT IN (SELECT mention_id FROM queue) LIMIT"
        " max(0, ? - (SELECT count(*) FROM queue))",
        (now - 120, now - 120, n),
    )


def test_queue_rows_name_states_in_words(qtbot: QtBot, hubs: list[WallHub], demo_db: Path, tmp_path: Path,
                                        wall_config: Config) -> None:  # fmt: skip
    db = tmp_path / "q.db"
    db.write_bytes(demo_db.read_bytes())
    conn = open_writer(db)
    with transaction(conn):
        _queued(conn, 4)
    first, second = (row[0] for row in conn.execute(
        "SELECT mention_id FROM queue ORDER BY priority, queued_ts LIMIT 2"))  # fmt: skip
    with transaction(conn):
        # the two oldest of the head (a backfill queues many at the same moment)
        conn.execute("UPDATE queue SET state = 'awaiting_approval', queued_ts = queued_ts - 2 WHERE mention_id = ?",
                     (first,))  # fmt: skip
        conn.execute("UPDATE queue SET state = 'failed', queued_ts = queued_ts - 1 WHERE mention_id = ?", (second,))
    conn.close()
    one = {"name": "s", "scenes": [{"name": "q", "grid": [2, 2], "tiles": [{"tile": "queue", "at": [0, 0, 1, 2]}]}]}
    w = _window(qtbot, hubs, db, wall_config, one, size=(1920, 1080))
    (tile,) = _painted(w)
    assert {"awaiting approval", "send failed"} <= set(tile.drawn)
    assert not [t for t in tile.drawn if t.endswith(" 0m")]  # a wait under a minute is "<1m"
    assert not [t for t in tile.drawn if "_" in t or "[" in t]


def test_a_source_updated_a_moment_ago_says_just_now(qtbot: QtBot, hubs: list[WallHub], db_path: Path,
                                                    wall_config: Config) -> None:  # fmt: skip
    conn = open_writer(db_path)
    with transaction(conn):
        conn.execute("INSERT INTO source_state (name, type, status, last_success) VALUES (?, 'demo', 'ok', ?)",
                     (wall_config.sources[0].name, time.time()))  # fmt: skip
    conn.close()
    one = {"name": "s", "scenes": [{"name": "q", "tiles": [{"tile": "sources", "at": [0, 0]}]}]}
    w = _window(qtbot, hubs, db_path, wall_config, one, size=(1920, 1080))
    (tile,) = _painted(w)
    assert "ok · updated just now" in tile.drawn
    assert not [t for t in tile.drawn if "now ago" in t]


def test_one_rate_for_one_topic_on_every_chart_with_its_window(qtbot: QtBot, hubs: list[WallHub], demo_db: Path,
                                                              wall_config: Config) -> None:  # fmt: skip
    two = {"name": "s", "scenes": [{"name": "v", "grid": [2, 1], "tiles": [
        {"tile": "volume", "at": [0, 0], "options": {"window_min": 180}},
        {"tile": "volume", "at": [1, 0], "options": {"window_min": 1440}}]}]}  # fmt: skip
    w = _window(qtbot, hubs, demo_db, wall_config, two, size=(1920, 1080))
    short, long = _painted(w)
    rates = short.rates  # type: ignore[attr-defined]
    assert rates == long.rates and any(rates.values())  # type: ignore[attr-defined]
    window = wall_config.alerts.window_min
    for tile in (short, long):
        assert tile.legend.drawn[0] == f"per min, last {window} min:"  # type: ignore[attr-defined]


def test_share_of_voice_lines_stay_inside_their_tile(qtbot: QtBot, hubs: list[WallHub], demo_db: Path,
                                                    wall_config: Config) -> None:  # fmt: skip
    small = {"name": "s", "scenes": [{"name": "a", "grid": [2, 2], "tiles": [{"tile": "share_of_voice", "at": [0, 0]}]}]}
    w = _window(qtbot, hubs, demo_db, wall_config, small, size=(1920, 1080))
    (tile,) = _painted(w)
    bottoms = tile.detail_bottoms  # type: ignore[attr-defined]
    assert len(bottoms) == 3 and max(bottoms) <= tile.body_rect().bottom() + 1
    shares = [int(t[:-1]) for t in tile.drawn if t.endswith("%") and t[:-1].isdigit()]
    assert len(shares) == 3 and sum(shares) == 100  # shares of one whole add up
    assert json.dumps(tile.drawn)  # the lines drawn are plain strings


def test_the_sentiment_chart_has_a_legend_naming_each_band(qtbot: QtBot, hubs: list[WallHub], demo_db: Path,
                                                          wall_config: Config) -> None:  # fmt: skip
    one = {"name": "s", "scenes": [{"name": "q", "grid": [2, 2], "tiles": [
        {"tile": "sentiment", "at": [0, 0, 2, 1], "options": {"topic": "lumio"}}]}]}  # fmt: skip
    w = _window(qtbot, hubs, demo_db, wall_config, one, size=(1920, 1080))
    (tile,) = _painted(w)
    legend = tile.legend.entries  # type: ignore[attr-defined]
    assert [entry.split()[0] for entry in legend] == ["positive", "neutral", "negative"]
    assert all(entry.endswith("%") for entry in legend)
    # its shares are of the net's hour, not of the chart's six hours: it names that window
    assert tile.legend.lead == "last 60 min:"  # type: ignore[attr-defined]
    assert "net, last 60 min" in tile.notes()  # type: ignore[attr-defined]
    assert "chart: last 6 h" in tile.subtitle  # and, over a younger record, where it begins


def test_whole_percentages_of_one_whole_add_up_to_a_hundred() -> None:
    from widgets.share_of_voice import whole_percents

    assert whole_percents([2, 2, 2, 1]) == [29, 29, 28, 14]  # rounding each alone says 101 %
    assert whole_percents([0, 0]) == [0, 0]


def test_the_crisis_bar_names_the_topic_of_the_largest_spike(qtbot: QtBot, hubs: list[WallHub], db_path: Path,
                                                            wall_config: Config) -> None:  # fmt: skip
    now = time.time()
    conn = open_writer(db_path)
    with transaction(conn):
        for kind, topic, observed, baseline, z in (
            ("spike", "lumio", 120.0, 20.0, 9.0),  # the brand overheats: 100/min above usual
            ("spike", "*", 300.0, 150.0, 6.0),  # everything, the brand included
            ("negative_surge", "lumiox-launch", 0.4, 0.02, 15.0),
            ("spike", "lumiox-launch", 10.0, 3.0, 4.0),
        ):
            conn.execute(
                "INSERT INTO alerts (kind, topic, ts, window_start, observed, baseline, z, explanation, terms,"
                " state) VALUES (?, ?, ?, ?, ?, ?, ?, 'x', '[]', 'active')",
                (kind, topic, now - 30, now - 330, observed, baseline, z),
            )
    conn.close()
    one = {"name": "s", "scenes": [{"name": "q", "tiles": [{"tile": "alerts", "at": [0, 0]}]}]}
    w = _window(qtbot, hubs, db_path, wall_config, one, size=(1920, 1080))
    crisis = w.title.crisis
    assert crisis is not None and crisis.topic == "lumio"
    assert crisis.reason == "4 unacknowledged alerts (lumio)"


def test_a_key_figure_shows_the_whole_explanation_of_its_spike(qtbot: QtBot, hubs: list[WallHub], db_path: Path,
                                                              wall_config: Config) -> None:  # fmt: skip
    fired = time.time() - 30
    conn = open_writer(db_path)
    with transaction(conn):
        _alert(conn, "lumio", fired)
    conn.close()
    cells = {"name": "s", "scenes": [{"name": "q", "grid": [4, 3], "tiles": [
        {"tile": "kpi", "at": [0, 0], "options": {"metric": "mentions", "topic": "lumio", "period_min": 15}}]}]}  # fmt: skip
    w = _window(qtbot, hubs, db_path, wall_config, cells, size=(1920, 1080))
    (tile,) = _painted(w)
    text = " ".join(tile.drawn)
    assert "…" not in text and text.endswith("(z = 8.0)")
    # a cell too small for the sentence: its gist, whole, with its window
    tiny = {**cells, "scenes": [{**cells["scenes"][0], "grid": [4, 5]}]}  # type: ignore[dict-item]
    w = _window(qtbot, hubs, db_path, wall_config, tiny, size=(1920, 1080))
    (tile,) = _painted(w)
    text = " ".join(tile.drawn)
    at = time.strftime("%H:%M", time.localtime(fired))
    assert "…" not in text and f"lumio at {at}: 90/min, 9.0× the usual (over 5 min)" in text


def test_queue_items_in_a_narrow_cell_are_readable(qtbot: QtBot, hubs: list[WallHub], demo_db: Path, tmp_path: Path,
                                                  wall_config: Config) -> None:  # fmt: skip
    db = tmp_path / "q.db"
    db.write_bytes(demo_db.read_bytes())
    text = "My Lumio X is overheating while charging, it burned my hand and the shop will not help"
    conn = open_writer(db)
    with transaction(conn):
        _queued(conn, 5)
        conn.execute("UPDATE mentions SET text = ? WHERE id IN (SELECT mention_id FROM queue)", (text,))
    conn.close()
    # the cell the crisis scenes give the queue: one column of four, two rows of three
    cell = {"name": "s", "scenes": [{"name": "q", "grid": [4, 3], "tiles": [
        {"tile": "queue", "at": [3, 1, 1, 2], "options": {"show_items": 5}}]}]}  # fmt: skip
    w = _window(qtbot, hubs, db, wall_config, cell, size=(1920, 1080))
    (tile,) = _painted(w)
    rows = tile.rows_drawn  # type: ignore[attr-defined]
    assert len(rows) >= 2, rows  # the head of the queue is listed, not only counted
    for lines in rows:  # a visitor reads what the post says, not a dozen letters of it
        assert " ".join(lines).startswith("My Lumio X is overheating while charging"), lines


def test_a_chart_draws_nothing_before_the_record_begins(qtbot: QtBot, hubs: list[WallHub], demo_db: Path,
                                                        wall_config: Config) -> None:  # fmt: skip
    import numpy as np

    one = {"name": "s", "scenes": [{"name": "v", "grid": [2, 2], "tiles": [
        {"tile": "volume", "at": [0, 0, 2, 1], "options": {"window_min": 1440}}]}]}  # fmt: skip
    w = _window(qtbot, hubs, demo_db, wall_config, one, size=(1920, 1080))
    (tile,) = _painted(w)
    conn = open_writer(demo_db)
    first = conn.execute("SELECT min(ts) FROM mentions").fetchone()[0]
    conn.close()
    assert time.time() - first < 6 * 3600  # the fixture's record: a few hours, not a day
    for curve in tile.curves.values():  # type: ignore[attr-defined]
        xs, ys = curve.getData()
        before = xs < first - 600
        assert before.any() and np.isnan(ys[before]).all()  # no data is not zero mentions a minute
        assert not np.isnan(ys[xs > first + 600]).any()
    began = time.localtime(tile.begins)  # type: ignore[attr-defined]
    # the hour alone today; after midnight the record began yesterday, and the day is named
    at = time.strftime("%H:%M" if began[:3] == time.localtime()[:3] else "%a %d %b %H:%M", began)
    assert tile.subtitle == f"last 24 h · records from {at}"
    assert tile.begins <= first  # type: ignore[attr-defined]


def test_a_day_s_figures_over_a_few_hours_of_record_say_so_and_compare_with_nothing(
        qtbot: QtBot, hubs: list[WallHub], demo_db: Path, wall_config: Config) -> None:  # fmt: skip
    day = {"name": "s", "scenes": [{"name": "v", "grid": [3, 1], "tiles": [
        {"tile": "kpi", "at": [0, 0], "options": {"metric": "mentions", "period_min": 1440}},
        {"tile": "share_of_voice", "at": [1, 0], "options": {"period_min": 1440}},
        {"tile": "sentiment", "at": [2, 0], "options": {"window_min": 1440, "period_min": 720}}]}]}  # fmt: skip
    w = _window(qtbot, hubs, demo_db, wall_config, day, size=(2880, 1080))
    tiles = {type(t).__name__: t for t in _painted(w)}
    kpi, share, sentiment = tiles["KpiTile"], tiles["ShareTile"], tiles["SentimentTile"]
    for tile in (kpi, share):  # the record is a few hours old: "last 24 h" alone would claim a day
        assert tile.subtitle.startswith("last 24 h · records from "), tile.subtitle
    assert sentiment.subtitle.startswith("all mentions · chart: last 24 h · records from "), sentiment.subtitle
    assert not any(" before" in line for line in sentiment.notes())  # type: ignore[attr-defined]
    assert kpi.delta == "no earlier 24 h to compare with"  # type: ignore[attr-defined]
    details = [text for text in share.drawn if text.endswith("mentions") or "pts" in text]
    assert details and not any("pts" in text for text in details)  # no change against a day never recorded


def test_trending_lists_terms_in_the_order_of_the_rise_it_shows(qtbot: QtBot, hubs: list[WallHub], db_path: Path,
                                                                wall_config: Config) -> None:  # fmt: skip
    conn = open_writer(db_path)
    with transaction(conn):  # the analysis ranks by significance: a common word rising less ranks high
        conn.executemany(
            "INSERT INTO trending (scope, rank, term, recent, baseline, score, updated_ts) VALUES ('lumio', ?, ?, ?, ?, ?, ?)",
            [(1, "replacement", 69, 1.0, 60.0, time.time()), (2, "battery", 232, 20.0, 45.0, time.time()),
             (3, "free", 53, 1.0, 44.0, time.time()), (4, "hand", 40, 0.0, 40.0, time.time())],
        )  # fmt: skip
    conn.close()
    one = {"name": "s", "scenes": [{"name": "t", "grid": [4, 3], "tiles": [
        {"tile": "trending", "at": [0, 2], "options": {"topic": "lumio", "limit": 5}}]}]}  # fmt: skip
    w = _window(qtbot, hubs, db_path, wall_config, one, size=(1920, 1080))
    (tile,) = _painted(w)
    assert [t.term for t in tile.rows] == ["hand", "replacement", "free", "battery"]  # type: ignore[attr-defined]


def test_the_crisis_bar_keeps_the_largest_spike_when_only_a_small_surge_is_live(
    qtbot: QtBot, hubs: list[WallHub], db_path: Path, wall_config: Config
) -> None:
    now = time.time()
    conn = open_writer(db_path)
    with transaction(conn):
        for kind, topic, observed, baseline, z, subsided in (
            ("spike", "lumio", 220.0, 22.0, 21.0, now - 200),  # the brand's crisis, over now
            ("negative_surge", "lumio", 0.3, 0.04, 18.0, now - 200),
            ("negative_surge", "industry", 0.48, 0.2, 3.2, None),  # a small surge, happening
        ):
            conn.execute(
                "INSERT INTO alerts (kind, topic, ts, window_start, observed, baseline, z, explanation, terms,"
                " state, subsided_ts) VALUES (?, ?, ?, ?, ?, ?, ?, 'x', '[]', 'active', ?)",
                (kind, topic, now - 900, now - 1200, observed, baseline, z, subsided),
            )
    conn.close()
    one = {"name": "s", "scenes": [{"name": "q", "tiles": [{"tile": "alerts", "at": [0, 0]}]}]}
    w = _window(qtbot, hubs, db_path, wall_config, one, size=(1920, 1080))
    crisis = w.title.crisis
    assert crisis is not None and crisis.topic == "lumio"
    assert crisis.reason == "3 unacknowledged alerts (lumio, subsided) · live: industry"


def test_a_hashtag_or_handle_is_never_broken_after_its_sign(qtbot: QtBot) -> None:
    from PySide6.QtGui import QFontMetrics

    from app.ui.theme import scale_for
    from app.ui.tilebase import wrap_lines

    font = scale_for(1080).body
    for text in ("it burned my hand 😤 #LumioRecall now", "so hot it burned, ask @techdaily why"):
        sign = text.index("#") if "#" in text else text.index("@")
        width = QFontMetrics(font).horizontalAdvance(text[: sign + 1]) + 2  # room for the sign, not its word
        lines = wrap_lines(text, font, width, 3)
        assert not [line for line in lines if line.endswith(("#", "@"))], lines
        assert " ".join(lines).replace("…", "").split()[-1] in text.split()  # words whole, no joiner left
        assert "\u2060" not in "".join(lines)


def test_a_line_after_an_emoji_breaks_between_words(qtbot: QtBot) -> None:
    from PySide6.QtGui import QFontMetrics

    from app.ui.theme import scale_for
    from app.ui.tilebase import wrap_lines

    font = scale_for(1080).body
    text = "Right, unboxing the #LumioX 🎉 that video stabilisation though. 😡👍🏽 love it, clear maps"
    words = text.split()
    for cut in range(4, len(words)):  # every width at which a line could end
        width = QFontMetrics(font).horizontalAdvance(" ".join(words[:cut])) + 4
        lines = wrap_lines(text, font, width, 8)
        assert " ".join(lines) == text, lines  # each emoji is one character, not two: no word cut
        assert lines[0] == " ".join(words[:cut]), lines


def test_a_subsided_alert_in_a_narrow_cell_says_it_whole(qtbot: QtBot, hubs: list[WallHub], db_path: Path,
                                                         wall_config: Config) -> None:  # fmt: skip
    now = time.time()
    conn = open_writer(db_path)
    with transaction(conn):
        _alert(conn, "lumio", now - 700)
        conn.execute("UPDATE alerts SET subsided_ts = ?, now_level = 32", (now - 300,))
    conn.close()
    cell = {"name": "s", "scenes": [{"name": "a", "grid": [4, 3], "tiles": [{"tile": "alerts", "at": [0, 0, 1, 2]}]}]}
    w = _window(qtbot, hubs, db_path, wall_config, cell, size=(1280, 1024))
    (tile,) = _painted(w)
    assert not [t for t in tile.drawn if "…" in t], tile.drawn
    assert "not yet acknowledged" in " ".join(tile.drawn)


def test_the_crisis_bar_is_whole_on_a_narrow_screen(qtbot: QtBot, hubs: list[WallHub], db_path: Path,
                                                    wall_config: Config) -> None:  # fmt: skip
    now = time.time()
    conn = open_writer(db_path)
    with transaction(conn):
        for topic, subsided in (("lumio", now - 100), ("lumio", now - 100), ("lumio", now - 100),
                                ("lumio", now - 100), ("industry", None)):  # fmt: skip
            _alert(conn, topic, now - 600)
            conn.execute("UPDATE alerts SET subsided_ts = ?, kind = ? WHERE id = (SELECT max(id) FROM alerts)",
                         (subsided, "negative_surge" if subsided is None else "spike"))  # minute 20 of the demo
        conn.execute("INSERT OR REPLACE INTO source_state (name, type, status, last_success) VALUES (?, 'demo', 'ok', ?)",
                     (wall_config.sources[0].name, now))  # a live poller: the bar is about the crisis alone
    conn.close()
    one = {"name": "s", "scenes": [{"name": "q", "tiles": [{"tile": "alerts", "at": [0, 0]}]}]}
    w = _window(qtbot, hubs, db_path, wall_config, one, size=(1280, 1024))
    w.grab()
    assert w.title.crisis is not None and "live: industry" in w.title.crisis.reason
    assert "…" not in w.title.shown_text and w.title.shown_text.endswith(time.strftime("%H:%M", time.localtime(now - 600)))
    assert not w.title.dated  # the date gave way, not what is happening
