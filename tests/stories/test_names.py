"""A name every post of the moment carries (a trend's, a topic's query term) is no story:
posts that share it and a short word or two more stay apart, and paraphrases still join."""

from __future__ import annotations

from pathlib import Path

from app.config import Config
from app.store.db import open_reader
from app.store.writer import IngestBatch, StoreWriter
from tests.stories.test_detector import groups, mention

#: a trending name (no topic's query term), and what people say about him
TREND = [
    "Chris Davis is putting the team on his back",
    "Chris Davis hits another homer for the Orioles",
    "chris davis for mvp, no question about it",
    "Chris Davis strikes out looking in the ninth",
    "Chris Davis putting the whole team on his back",  # the first, in other words
    # the name is most of what these say, but it is all they share
    "Chris Davis: hot bat lol",
    "Chris Davis is a fan fav",
]


def _stories(db_path: Path, config: Config, texts: list[str]) -> dict[str, int]:
    with StoreWriter(db_path, config, maintenance=False) as w:
        batch = [mention(i, t) for i, t in enumerate(texts)]
        w.submit(IngestBatch("s", "test", batch, {"n": 0})).result(30)
    return groups(open_reader(db_path))


def test_posts_that_share_only_a_trending_name_stay_apart(
    db_path: Path, demo_config: Config
) -> None:
    member = _stories(db_path, demo_config, TREND)
    first = member.get("test:0")
    assert first is not None and member.get("test:4") == first
    hot, fan = member.get("test:5"), member.get("test:6")
    assert first not in (hot, fan)  # (sharing the name, they were three fifths alike)
    assert hot is None or hot != fan


def test_posts_that_share_only_the_topics_query_term_stay_apart(
    db_path: Path, demo_config: Config
) -> None:
    # "lumio" is the demo topic's query: every post of the topic says it
    texts = ["Lumio: big day, wow", "Lumio is a fan fav, so hot",
             "Lumio is a fan fav, so hot!!", "lumio: big day. wow"]  # fmt: skip
    member = _stories(db_path, demo_config, texts)
    assert member.get("test:0") is not None and member.get("test:0") == member.get("test:3")
    assert member.get("test:1") is not None and member.get("test:1") == member.get("test:2")
    assert member["test:0"] != member["test:1"]
