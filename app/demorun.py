"""The demo, run for a number of minutes in simulated time, into a database.

``watchfloor snapshot --demo-minute 8`` draws the wall as it stands eight minutes into a
demo run. Nothing is staged for the picture: a simulated clock starts ``minutes`` ago and
the program's own parts run on it. At the start, the demo source's history is stored as a
starting wall stores its backfill; then the clock moves on a poll at a time, each poll's
posts go through the real pipeline (analysis, stories, the queue, rollups), and the
store's maintenance runs on the same clock (alerts judged as each minute completes, live
only after the start; trending refreshed each minute). So a queued post has waited since
it came, a history spike is history, and the run ends now: every "ago" on the picture
is true of the picture.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from app.config import Config, DemoSourceConfig
from app.sources.base import SourceContext
from app.sources.demo import DemoSource
from app.store.writer import IngestBatch, StoreWriter

#: the simulated poll: the demo's own interval, at least this (a second's poll of one
#: post would only make the run slower, not truer)
MIN_POLL_S = 5.0
#: history stored at the start in pages of this many posts, as the poller's backfill pages
HISTORY_PAGE = 2000


class _Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@contextmanager
def simulated_time(start: float) -> Iterator[_Clock]:
    """``time.time()`` reads a clock this process moves, until the block ends.

    Only for a process that does nothing else meanwhile (the snapshot command before it
    draws): every part of the program that asks the time gets the simulated one.
    """
    real = time.time
    clock = _Clock(start)
    time.time = clock
    try:
        yield clock
    finally:
        time.time = real


@dataclass
class _Run:
    """One demo source's place in the simulated run: what it has posted up to when."""

    source: DemoSource
    seed: int
    counter: int
    until: float
    poll_s: float


def demo_sources(config: Config) -> list[DemoSourceConfig]:
    return [s for s in config.sources if isinstance(s, DemoSourceConfig) and s.enabled]


def run_demo(config: Config, db_path: Path, minutes: float, *, now: float | None = None) -> float:
    """Fill ``db_path`` with a demo run that began ``minutes`` before ``now``; return its start."""
    if minutes < 0:
        raise ValueError("a demo minute is not negative")
    sources = demo_sources(config)
    if not sources:
        raise ValueError("the config has no enabled demo source to run")
    now = time.time() if now is None else now
    started = now - minutes * 60
    with simulated_time(started) as clock:
        writer = StoreWriter(db_path, config).start()  # its maintenance starts at the start
        try:
            runs = []
            for cfg in sources:
                source = DemoSource(cfg, SourceContext(), started=started)
                seed = cfg.seed if cfg.seed is not None else 0
                history = source.generate(started - cfg.backfill_min * 60, started, seed=seed, counter=0)
                for i in range(0, len(history), HISTORY_PAGE):
                    page = history[i : i + HISTORY_PAGE]
                    cursor = {"seed": seed, "until": started, "n": i + len(page)}
                    writer.submit(IngestBatch(source.name, source.type, page, cursor)).result(120)
                runs.append(_Run(source, seed, len(history), started, max(cfg.interval_s, MIN_POLL_S)))
            writer.flush(120)
            while clock.now < now:
                clock.now = min(now, clock.now + min(r.poll_s for r in runs))
                for run in runs:
                    posts = run.source.generate(run.until, clock.now, seed=run.seed, counter=run.counter)
                    run.counter += len(posts)
                    run.until = clock.now
                    cursor = {"seed": run.seed, "until": run.until, "n": run.counter}
                    writer.submit(IngestBatch(run.source.name, run.source.type, posts, cursor)).result(120)
                writer.flush(120)  # maintenance ran on this poll's clock before it moves on
            writer.run_maintenance(timeout=120)
        finally:
            writer.close()
    return started
