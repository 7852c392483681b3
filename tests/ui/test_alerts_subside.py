"""An unacknowledged alert that is over says so on the wall, and is live again when it rises.

A spike is injected through the real writer (mentions → rollups), the real maintenance
judges each minute as it would live, and a real wall shows the result offscreen.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.config import Config
from app.layouts import parse_layout
from app.model import Mention
from app.store.db import open_reader
from app.store.maintenance import Maintenance
from app.store.writer import IngestBatch, StoreWriter
from app.ui.tilebase import TileFrame, load_registry
from app.ui.wall import WallWindow
from app.ui.walldata import WallHub

#: the story by minute from the start of history: calm, a spike, calm, a second rise
CALM, SPIKE = 8, 60
STORY = [(0, 110, CALM), (110, 115, SPIKE), (115, 120, CALM), (120, 123, SPIKE)]
QUIET_TEXTS = ["my lumio x camera is lovely", "lumio x arrived today", "new case for my lumio"]
HOT_TEXTS = ["lumio battery overheating, burned my hand #lumiorecall", "my lumio is overheating again"]


class Story:
    """The writer, the maintenance and a clock of minutes since the start of history."""

    def __init__(self, db: Path, config: Config) -> None:
        #: history starts two hours and a bit ago, so every minute judged is in the past
        self.start = (int(time.time()) // 60 - 130) * 60
        self.writer = StoreWriter(db, config, maintenance=False).start()
        self.maintenance = Maintenance(config, self.writer.terms, self.writer.analyzer.excluded_terms)
        self.maintenance.started = float(self.start)  # this "process" ran the whole story
        self.n = 0
        #: posted as the config's own source, so the wall reads its data as live
        self.source = config.sources[0]

    def post(self, first: int, last: int, per_min: int, texts: list[str]) -> None:
        mentions = []
        for minute in range(first, last):
            for i in range(per_min):
                self.n += 1
                ts = self.start + minute * 60 + i * 60 / per_min
                mentions.append(Mention(network="test", native_id=str(self.n), source=self.source.name,
                                        text=f"{texts[self.n % len(texts)]} {self.n}", author=f"@u{self.n % 97}",
                                        created_at=datetime.fromtimestamp(ts, UTC)))  # fmt: skip
        self.writer.submit(IngestBatch(self.source.name, self.source.type, mentions, {})).result(60)

    def judge(self, first: int, last: int) -> None:
        """Run the alert check once per minute, as the writer does live."""
        for minute in range(first, last + 1):
            now = self.start + minute * 60 + 1.0
            self.writer.call(functools.partial(self.maintenance.check_alerts, now=now), tables=("alerts",)).result(60)

    def lumio(self, db: Path) -> tuple[float, float | None, float | None]:
        conn = open_reader(db)
        try:
            row = conn.execute("SELECT ts, subsided_ts, now_level FROM alerts WHERE kind = 'spike'"
                               " AND topic = 'lumio' AND state = 'active'").fetchone()  # fmt: skip
        finally:
            conn.close()
        assert row is not None, "the spike raised no active lumio alert"
        return row[0], row[1], row[2]

    def close(self) -> None:
        self.writer.close()


@pytest.fixture
def story(db_path: Path, wall_config: Config) -> Iterator[Story]:
    s = Story(db_path, wall_config)
    yield s
    s.close()


def _hhmm(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%H:%M")


def test_a_spike_that_ends_shows_subsided_and_a_new_rise_is_live_again(
    qtbot: QtBot, story: Story, db_path: Path, wall_config: Config, tmp_path: Path
) -> None:
    for first, last, rate in STORY[:2]:
        story.post(first, last, rate, HOT_TEXTS if rate == SPIKE else QUIET_TEXTS)
    story.judge(100, 115)
    fired, subsided, _ = story.lumio(db_path)
    assert subsided is None  # the spike's last minute is the newest judged: happening

    hub = WallHub(db_path, wall_config)
    screens = parse_layout({"screens": [{"name": "s", "scenes": [
        {"name": "q", "tiles": [{"tile": "alerts", "at": [0, 0]}, {"tile": "kpi", "at": [1, 0], "options": {
            "metric": "mentions", "topic": "lumio", "period_min": 15}}]}]}]}).screens  # fmt: skip
    w = WallWindow((screens[0],), hub, load_registry(), size=(1920, 1080))
    qtbot.addWidget(w, before_close_func=WallWindow.shutdown)
    try:
        w.show()
        hub.start()
        w.start()

        def tile() -> TileFrame:
            """The alerts tile, painted (the key figure beside it is painted with it)."""
            w.hub.refresh_all_visible()
            w.grab()
            alerts, kpi = [t for t in w.views[w.current.key].tiles if isinstance(t, TileFrame)]
            tiles["kpi"], tiles["alerts"] = kpi, alerts
            return alerts

        tiles: dict[str, TileFrame] = {}

        qtbot.waitUntil(lambda: w.title.crisis is not None)
        assert w.title.crisis is not None and "subsided" not in w.title.crisis.reason
        live = " ".join(tile().drawn)
        assert "● lumio · spike" in live and "subsided" not in live
        assert "⚠" in " ".join(tiles["kpi"].drawn)  # the key figure says why it is high

        # calm again: three complete minutes under the threshold after it fired → over
        story.post(*STORY[2][:3], QUIET_TEXTS)
        story.judge(116, 117)
        assert story.lumio(db_path)[1] is None  # two calm minutes are not yet "over"
        story.judge(118, 119)
        _, subsided, level = story.lumio(db_path)
        assert subsided == story.start + 115 * 60  # the first calm minute
        assert level is not None and abs(level - CALM) < 1
        qtbot.waitUntil(lambda: w.title.crisis is not None and "subsided" in w.title.crisis.reason)
        crisis = w.title.crisis
        assert crisis is not None and crisis.active_alerts >= 1  # still unacknowledged, still counted
        over = " ".join(tile().drawn)
        assert f"lumio · spike {_hhmm(fired)}" in over.replace("● ", "") and "● lumio" not in over
        assert f"subsided at {_hhmm(subsided)} · now 8/min (last 3 min) · not yet acknowledged" in over
        assert "…" not in over
        assert tiles["alerts"].subtitle == "all 4 subsided"  # every alert the spike raised is over
        assert "⚠" not in " ".join(tiles["kpi"].drawn)  # nor does a key figure call it the cause now
        w.title.grab()
        assert "subsided" in w.title.shown_text and "unacknowledged" in w.title.shown_text
        if os.environ.get("WATCHFLOOR_SNAPSHOTS"):
            w.grab().save(str(Path(os.environ["WATCHFLOOR_SNAPSHOTS"]) / "subsided.png"))

        # it rises again: live again, the same alert (the cooldown raises no second one)
        story.post(*STORY[3][:3], HOT_TEXTS)
        story.judge(120, 121)
        again_fired, again, _ = story.lumio(db_path)
        assert again is None and again_fired == fired
        qtbot.waitUntil(lambda: w.title.crisis is not None and "subsided" not in w.title.crisis.reason)
        drawn = tile().drawn
        head = drawn.index("● lumio · spike")
        assert drawn[head + 1].startswith(_hhmm(fired)) and "subsided" not in drawn[head + 1]
    finally:
        hub.close()
