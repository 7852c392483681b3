"""History filled in at start is history: a spike in the minutes before the program ran is
on record as resolved, never a live alert dated before the start."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from app.config import Config
from app.model import Mention
from app.store.db import open_reader
from app.store.writer import IngestBatch, StoreWriter
from tests.analysis.test_spike_drivers import EVERYDAY, SPIKE, WORDS, _post


@pytest.mark.parametrize(("started_ago_s", "state"), [(0, "resolved"), (20 * 60, "active")])
def test_a_spike_before_the_start_is_history(
    started_ago_s: float, state: str, db_path: Path, demo_config: Config
) -> None:
    rnd = random.Random(3)
    newest = int(time.time() // 60) * 60 - 60
    posts: list[Mention] = []
    for minute in range(185, 5, -1):
        for k in range(3):
            text = rnd.choice(EVERYDAY).format(w=rnd.choice(WORDS))
            posts.append(_post(len(posts), newest - minute * 60 + k * 15 + 1, text))
    for minute in range(4, -1, -1):
        for k in range(40):
            posts.append(_post(len(posts), newest - minute * 60 + k + 1, rnd.choice(SPIKE)))
    with StoreWriter(db_path, demo_config) as writer:
        assert writer.maintenance is not None
        writer.maintenance.started -= started_ago_s  # 0: all of it was filled in at start
        for i in range(0, len(posts), 500):
            writer.submit(IngestBatch("demo", "demo", posts[i : i + 500], {})).result(60)
        writer.run_maintenance()
    conn = open_reader(db_path)
    states = {s for (s,) in conn.execute("SELECT state FROM alerts WHERE topic = 'lumio'")}
    assert states == {state}


def test_the_demo_started_now_raises_no_live_alert_dated_before_it(
    db_path: Path, demo_config: Config
) -> None:
    # the demo's own three hours of history, then its first eight minutes (the crisis
    # breaks out six in): whatever fired in the history is on record as resolved
    from app.config import DemoSourceConfig
    from app.sources.base import SourceContext
    from app.sources.demo import DemoSource

    # on a minute's start: the alerts judge complete minutes, so the crisis's two minutes
    # are whole whatever second the test runs at (at 14:41:50 they were one and a sliver)
    now = float(int(time.time() // 60) * 60)
    started = now - 8 * 60
    (source,) = [s for s in demo_config.sources if isinstance(s, DemoSourceConfig)]
    src = DemoSource(source, SourceContext(), started=started)
    history = src.generate(started - 3 * 3600, started, seed=3, counter=0)
    live = src.generate(started, now, seed=3, counter=len(history))
    with StoreWriter(db_path, demo_config) as writer:
        assert writer.maintenance is not None
        writer.maintenance.started = started
        posts = history + live
        for i in range(0, len(posts), 2000):
            writer.submit(IngestBatch("demo", "demo", posts[i : i + 2000], {"n": i})).result(60)
        writer.run_maintenance()
    conn = open_reader(db_path)
    alerts = conn.execute("SELECT topic, ts, state FROM alerts").fetchall()
    assert not [a for a in alerts if a[1] < started and a[2] == "active"], alerts
    # the crisis itself is live: the brand's topic alerts after the start
    assert [a for a in alerts if a[0] == "lumio" and a[1] >= started and a[2] == "active"]
