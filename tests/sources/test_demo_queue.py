"""The demo's queue is a team's work, not the crisis's chatter: most posts about the brand
are not addressed to it, in a crisis too, so what is addressed to it over the first twenty
minutes (a calm start, the crisis, its fade) stays in the tens."""

from __future__ import annotations

from pathlib import Path

from app.config import Config
from app.store.db import open_reader
from app.store.writer import IngestBatch, StoreWriter
from app.workflow.states import OPEN
from tests.sources.test_demo import START, demo


def test_a_crisis_is_mostly_said_to_others(demo_config: Config) -> None:
    src = demo(demo_config)
    src.labels = {}
    posts = src.generate(START, START + 20 * 60, seed=3, counter=0)
    crisis = [m for m in posts if m.id in src.labels]
    assert len(crisis) >= 800
    to_us = [m for m in crisis if m.directed_at_us]
    assert to_us  # some write to the brand
    assert len(to_us) <= 0.08 * len(crisis)  # a few in a hundred, as a real brand sees them
    asking = [m for m in to_us if src.labels[m.id] == "overnight"]
    assert len(asking) >= 0.3 * len(to_us)  # those who do mostly ask it something


def test_what_is_addressed_to_the_brand_stays_in_the_tens_over_twenty_minutes(
    demo_config: Config, db_path: Path
) -> None:
    # the shipped demo keeps the queue as a care team does: what is addressed to its
    # accounts (no topic kind queues a post merely about the brand)
    assert demo_config.rules.queue_kinds == []
    config = demo_config
    src = demo(config)
    history = src.generate(START - 3 * 3600, START, seed=3, counter=0)
    open_by_minute = []
    with StoreWriter(db_path, config, maintenance=False) as w:
        for i in range(0, len(history), 2000):
            w.submit(IngestBatch("demo", "demo", history[i : i + 2000], {"n": i})).result(60)
        conn = open_reader(db_path)
        counter = len(history)
        marks = ",".join("?" * len(OPEN))
        for minute in range(20):
            live = src.generate(START + minute * 60, START + (minute + 1) * 60, seed=3,
                                counter=counter)  # fmt: skip
            counter += len(live)
            w.submit(IngestBatch("demo", "demo", live, {"n": counter})).result(60)
            (n,) = conn.execute(f"SELECT count(*) FROM queue WHERE state IN ({marks})",
                                sorted(OPEN)).fetchone()  # fmt: skip
            open_by_minute.append(n)
    assert open_by_minute[0] < 10  # the history's work was done before the run
    assert open_by_minute[-1] >= 20  # today's questions and complaints do come
    assert max(open_by_minute) < 100, open_by_minute  # tens, not thousands
