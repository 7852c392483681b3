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
