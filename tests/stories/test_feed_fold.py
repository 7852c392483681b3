"""Feed tiles fold repeats: one post stands for its story, "and N more like this"."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from app.config import Config
from app.store.db import open_reader
from app.store.writer import StoreWriter
from app.ui.theme import Scale
from app.ui.tilebase import TileContext
from tests.stories.test_detector import BURNED, CHATTER, T0, ingest
from widgets.feed import FeedOptions, FeedTile


def test_a_feed_shows_one_post_a_story_and_how_many_more(
    db_path: Path, demo_config: Config, qtbot: QtBot
) -> None:
    with StoreWriter(db_path, demo_config, maintenance=False) as w:
        ids = ingest(w, BURNED + CHATTER)
    now = T0.timestamp() + 600
    ctx = TileContext(open_reader(db_path), demo_config, Scale(1.0), clock=lambda: now)
    folded = FeedTile(FeedOptions(topic="lumio"), ctx, None)
    plain = FeedTile(FeedOptions(topic="lumio", fold=False), ctx, None)
    for tile in (folded, plain):
        qtbot.addWidget(tile)
        tile.resize(900, 900)
        tile.refresh()
    lumio = [i for i in ids if i in {p.id for p in plain.posts}]
    story = [p.id for p in folded.posts if p.id in ids[: len(BURNED)]]
    assert len(story) == 1  # the story once
    assert folded.more == {story[0]: len(BURNED) - 1}
    chatter = set(ids[len(BURNED) :]) & set(lumio)
    assert chatter and chatter <= {p.id for p in folded.posts}  # lone posts stay
    assert len(plain.posts) == len(lumio) > len(folded.posts)
    assert not folded.grab().toImage().isNull()
