"""On a real wall (offscreen): sentiment figures say how many posts were unscored, and
shares are of the scored posts only."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from pytestqt.qtbot import QtBot

from app.config import Config
from app.layouts import load_layout
from app.model import Mention
from app.store.writer import IngestBatch, StoreWriter
from app.ui.tilebase import TileFrame, load_registry
from app.ui.wall import WallWindow
from app.ui.walldata import WallHub

LAYOUT = """
[[screens]]
name = "one"
  [[screens.scenes]]
  name = "sentiment"
  grid = [2, 1]
  tiles = [
    { tile = "sentiment", at = [0, 0], options = { topic = "lumio", period_min = 60 } },
    { tile = "kpi", at = [1, 0], options = { metric = "negative_share", topic = "lumio", period_min = 60 } },
  ]
"""


def test_the_wall_counts_unscored_posts_apart(qtbot: QtBot, db_path: Path, demo_config: Config,
                                              tmp_path: Path) -> None:  # fmt: skip
    texts = [
        "@lumio my Lumio X won't charge since the update 😡",
        "@lumio the Lumio X camera is stunning, love it",
        "@lumio la batterie de mon Lumio chauffe beaucoup trop, c'est honteux",
        "@lumio mi Lumio no enciende desde ayer y nadie me responde",
    ]
    now = datetime.now(UTC)
    posts = [Mention(network="demo", native_id=str(i), source="demo", text=t, created_at=now,
                     author=f"@u{i}") for i, t in enumerate(texts)]  # fmt: skip
    with StoreWriter(db_path, demo_config, maintenance=False) as writer:
        writer.submit(IngestBatch("demo", "demo", posts, {})).result(60)
    layout = tmp_path / "unscored.toml"
    layout.write_text(LAYOUT, encoding="utf-8")
    hub = WallHub(db_path, demo_config, clock=time.time)
    try:
        w = WallWindow(
            load_layout(str(layout)).layout.screens, hub, load_registry(), size=(1920, 1080)
        )
        qtbot.addWidget(w, before_close_func=WallWindow.shutdown)
        w.show()
        hub.start()
        w.start()
        hub.refresh_all_visible()
        tiles = {
            type(t).__name__: t for t in w.views[w.current.key].tiles if isinstance(t, TileFrame)
        }
        sentiment, kpi = tiles["SentimentTile"], tiles["KpiTile"]
        qtbot.waitUntil(lambda: sentiment.now.n == 4)  # type: ignore[attr-defined]
        assert "2 unscored (other languages)" in sentiment.notes()  # type: ignore[attr-defined]
        assert kpi.value == "50%"  # one of the two scored posts is negative, not one of four
        assert kpi.delta.endswith("· 2 unscored")
    finally:
        hub.close()
