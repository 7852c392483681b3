"""The demo, run for a number of minutes in simulated time, into a database.

``watchfloor snapshot --demo-minute 8`` draws the wall as it stands eight minutes into a
demo run. Nothing is staged for the picture: the demo source generates what it would have
posted since a start ``minutes`` ago (its history before that start, then the live run),
the real pipeline analyses and stores it page by page, and maintenance judges each minute
against the minutes before it, as a wall running since then would have. The run ends now,
so every "ago" on the picture is true of the picture.
"""

from __future__ import annotations

import time
from pathlib import Path

from app.config import Config, DemoSourceConfig
from app.sources.base import SourceContext
from app.sources.demo import DemoSource
from app.store.writer import IngestBatch, StoreWriter

#: a page of simulated time: what one poll of a running demo would have fetched
PAGE_S = 60.0


def demo_sources(config: Config) -> list[DemoSourceConfig]:
    return [s for s in config.sources if isinstance(s, DemoSourceConfig) and s.enabled]


def run_demo(config: Config, db_path: Path, minutes: float, *, now: float | None = None) -> float:
    """Fill ``db_path`` with a demo run that began ``minutes`` before ``now``; return its start.

    The database must not hold mentions yet: a picture of minute 8 on top of another
    run's posts would show neither run.
    """
    if minutes < 0:
        raise ValueError("a demo minute is not negative")
    sources = demo_sources(config)
    if not sources:
        raise ValueError("the config has no enabled demo source to run")
    now = time.time() if now is None else now
    started = now - minutes * 60
    writer = StoreWriter(db_path, config).start()
    try:
        if writer.maintenance is not None:  # minutes after the simulated start are live
            writer.maintenance.started = started
        for source_config in sources:
            source = DemoSource(source_config, SourceContext(), started=started)
            seed = source_config.seed if source_config.seed is not None else 0
            t = started - source_config.backfill_min * 60
            counter = 0
            while t < now:
                end = min(now, t + PAGE_S)
                posts = source.generate(t, end, seed=seed, counter=counter)
                counter += len(posts)
                cursor = {"seed": seed, "until": end, "n": counter}
                writer.submit(IngestBatch(source.name, source.type, posts, cursor)).result(120)
                t = end
        writer.run_maintenance(timeout=120)
    finally:
        writer.close()
    return started
