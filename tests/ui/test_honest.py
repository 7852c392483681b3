"""The wall never looks live when it is not: stale by age, dimmed tiles, a title bar that
says so, a wall with no poller at all, a damaged cache."""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.config import Config
from app.layouts import load_layout
from app.store.db import open_writer
from app.ui.tilebase import TileFrame, load_registry, stale_clock
from app.ui.wall import WallWindow
from app.ui.walldata import WallHub
from tests.ui.conftest import demo_filled


@pytest.fixture(scope="module")
def polled(tmp_path_factory: pytest.TempPathFactory, wall_config: Config) -> Path:
    """A database a real poller filled, then stopped writing to (as if it died)."""
    return demo_filled(tmp_path_factory.mktemp("honest") / "polled.db", wall_config, seconds=2.0)


@pytest.fixture
def open_wall(qtbot: QtBot, wall_config: Config) -> Iterator[Callable[..., tuple[WallWindow, WallHub]]]:
    hubs: list[WallHub] = []

    def make(db: Path, *, later_s: float = 0.0, screen: int = 0, layout: str = "demo",
             size: tuple[int, int] = (1920, 1080)) -> tuple[WallWindow, WallHub]:  # fmt: skip
        hub = WallHub(db, wall_config, clock=lambda: time.time() + later_s)
        hubs.append(hub)
        w = WallWindow((load_layout(layout).layout.screens[screen],), hub, load_registry(), size=size)
        qtbot.addWidget(w, before_close_func=WallWindow.shutdown)
        w.show()
        hub.start()
        w.start()
        hub.refresh_all_visible()
        return w, hub

    yield make
    for hub in hubs:
        hub.close()


def _tiles(w: WallWindow) -> dict[str, TileFrame]:
    return {type(t).__name__: t for t in w.views[w.current.key].tiles if isinstance(t, TileFrame)}


def test_a_live_wall_says_nothing_about_staleness(open_wall: Callable[..., tuple[WallWindow, WallHub]],
                                                 polled: Path, tmp_path: Path) -> None:  # fmt: skip
    db = tmp_path / "live.db"
    shutil.copy(polled, db)
    conn = open_writer(db)  # the poller's last write was just now
    conn.execute("UPDATE source_state SET last_success = ?", (time.time(),))
    conn.close()
    w, hub = open_wall(db)
    assert hub.freshness.live
    assert w.title.notice == ""
    assert not any(t.stale for t in _tiles(w).values())


def test_a_poller_that_stopped_writing_turns_the_wall_stale_by_age(
    open_wall: Callable[..., tuple[WallWindow, WallHub]], polled: Path
) -> None:
    # ten minutes after the last write, with no error recorded anywhere
    w, _ = open_wall(polled, later_s=600)
    row = sqlite3.connect(polled).execute("SELECT max(last_success), min(status) FROM source_state").fetchone()
    last, status = row
    assert status == "ok"  # the source itself never reported a problem
    since = stale_clock(last, time.time() + 600)
    assert w.title.notice == f"NO LIVE DATA · nothing new since {since}"
    tiles = _tiles(w)
    volume, kpi = tiles["VolumeTile"], tiles["KpiTile"]
    for tile in (volume, kpi):
        assert tile.stale and tile.stale_text() == f"no new data since {since}"
        assert tile._veil is not None and tile._veil.isVisible()  # dimmed, plots included
        assert tile._veil.geometry().bottom() >= tile.height() - 1 and tile._veil.width() == tile.width()
    w2, hub2 = open_wall(polled, later_s=600, screen=2)
    response = w2.scene_by_name("response")
    assert response is not None
    w2.show_scene(response)
    hub2.refresh_all_visible()
    sources = _tiles(w2)["SourcesTile"]
    assert sources.subtitle == "1 of 1 not live"
    assert sources.judged[0].late  # type: ignore[attr-defined]


def test_a_wall_with_no_poller_anywhere_says_so(open_wall: Callable[..., tuple[WallWindow, WallHub]],
                                               tmp_path: Path) -> None:  # fmt: skip
    db = tmp_path / "empty.db"
    open_writer(db).close()
    w, _ = open_wall(db)
    assert w.title.notice == "NO LIVE DATA · no source has reported: is a poller running?"
    assert _tiles(w)["VolumeTile"].stale_text() == "no data received yet"


def test_a_damaged_cache_says_so_on_screen(open_wall: Callable[..., tuple[WallWindow, WallHub]],
                                          polled: Path, tmp_path: Path, qtbot: QtBot) -> None:  # fmt: skip
    db = tmp_path / "damaged.db"
    shutil.copy(polled, db)
    page = sqlite3.connect(db).execute("PRAGMA page_size").fetchone()[0]
    data = bytearray(db.read_bytes())
    for start in range(4 * page, len(data), 2 * page):  # every other page after the first few
        data[start : start + page] = b"\x5a" * page
    db.write_bytes(bytes(data))
    w, hub = open_wall(db)
    assert w.title.notice.startswith("DATABASE PROBLEM · ") and "damaged" in w.title.notice
    assert w.isVisible()  # the wall stays up to say so; tiles show an empty picture
    # IT puts a good file in its place: the wall reads it without a restart
    shutil.copy(polled, db)
    hub._reopen_at = 0.0
    reopened: list[bool] = []
    hub.reopened.connect(lambda: reopened.append(True))
    hub.read_health()
    assert reopened and hub.problem == "" and hub.conn.execute("SELECT count(*) FROM mentions").fetchone()[0] > 0


def test_a_stale_picture_in_a_crisis_says_both_whole(open_wall: Callable[..., tuple[WallWindow, WallHub]],
                                                    polled: Path, tmp_path: Path) -> None:  # fmt: skip
    db = tmp_path / "crisis.db"
    shutil.copy(polled, db)
    fired = time.time()
    conn = open_writer(db)
    conn.execute("UPDATE alerts SET state = 'resolved'")
    conn.execute(
        "INSERT INTO alerts (kind, topic, ts, window_start, observed, baseline, z, explanation, terms, state)"
        " VALUES ('spike', 'lumio', ?, ?, 90, 10, 8, 'x', '[]', 'active')", (fired, fired - 300))
    conn.close()
    w, _ = open_wall(db, later_s=600)
    w.title.grab()  # paints the title bar
    shown = w.title.shown_text
    assert shown.startswith("NO LIVE DATA since ") and shown.endswith("1 unacknowledged alert (lumio) · since "
                                                                      + time.strftime("%H:%M", time.localtime(fired)))  # fmt: skip
    assert "…" not in shown


def test_a_stale_source_says_since_when_whole_in_a_narrow_cell(
    open_wall: Callable[..., tuple[WallWindow, WallHub]], polled: Path
) -> None:
    # three hours and more without a write: "stale since 14:41 — nothing new for 3 h 12 min"
    # does not fit a 5:4 workstation's cell; its shorter form does, never cut
    w, _ = open_wall(polled, later_s=3 * 3600 + 720, layout="workstation", size=(1280, 1024))
    sources = _tiles(w)["SourcesTile"]
    assert sources.judged[0].late  # type: ignore[attr-defined]
    w.grab()
    lines = [t for t in sources.drawn if "stale since" in t]
    assert lines and not [t for t in sources.drawn if "…" in t], sources.drawn
