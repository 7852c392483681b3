"""Console benchmark: GUI-thread time to open the queue and to apply a filter.

Builds databases with 1,000 and 100,000 queued items, opens a signed-in console on
each (offscreen), then changes the filters a few times. Reports, per size:

- ``build_ms``: building the window (the same whatever the queue holds);
- ``open_gui_ms``: GUI-thread time from signing in to a painted queue (handing the
  read off, then showing the rows and one repaint), the worker's read excluded;
- ``filter_gui_ms``: GUI-thread time of applying a filter (median over several
  filters: handing the query off, then showing the rows and repainting);
- ``*_latency_ms``: the same, wall-clock, including the worker thread's read.

Last line: one JSON object. The goal is ≤ 100 ms of GUI time at 100,000 items.
"""

from __future__ import annotations

import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtWidgets import QApplication

from app.config import load_config
from app.resources import demo_config_path
from app.store.db import open_writer, transaction
from app.store.writer import StoreWriter
from app.ui.console import ConsoleWindow
from app.ui.launch import apply_theme
from app.workflow.users import User, add_user

TOPICS = ["lumio", "orbitel", "nexa", "industry"]
NETWORKS = ["mastodon", "bluesky", "demo"]


def build(path: Path, n: int) -> None:
    conn = open_writer(path)
    now = time.time()
    with transaction(conn):
        add_user(conn, "olga", "approver", "bench-password")
        conn.executemany(
            "INSERT INTO mentions (id, network, source, author, text, ts, fetched_ts, sentiment,"
            " topics, needs_response, priority, reasons) VALUES (?, ?, 'src', ?, ?, ?, ?, ?, ?, 1, ?, '[]')",
            ((f"{NETWORKS[i % 3]}:{i}", NETWORKS[i % 3], f"@user{i % 5000}",
              f"@lumio post number {i}: the battery drains fast, what should I do?",
              now - i, now, -0.4, json.dumps([TOPICS[i % 4]]), 1 + i % 4) for i in range(n)),
        )  # fmt: skip
        conn.executemany(
            "INSERT INTO queue (mention_id, priority, state, queued_ts, updated_ts, reasons)"
            " VALUES (?, ?, ?, ?, ?, '[]')",
            ((f"{NETWORKS[i % 3]}:{i}", 1 + i % 4, "new" if i % 10 else "claimed", now - i, now)
             for i in range(n)),
        )  # fmt: skip
    conn.close()


class GuiClock:
    """Adds up the GUI-thread time spent in the console's own slots."""

    def __init__(self, window: ConsoleWindow) -> None:
        self.total = 0.0
        self.window = window
        show = window._show

        def timed_show(snap: object) -> None:
            t0 = time.perf_counter()
            show(snap)  # type: ignore[arg-type]
            window.queue_pane.table.viewport().repaint()
            self.total += time.perf_counter() - t0

        window._show = timed_show  # type: ignore[method-assign]


def wait_loads(app: QApplication, window: ConsoleWindow, count: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while window.loads < count:
        if time.monotonic() > deadline:
            raise TimeoutError("the console never showed the queue")
        app.processEvents()
        time.sleep(0.0005)


def measure(app: QApplication, n: int, folder: Path) -> dict[str, float]:
    db = folder / f"console-{n}.db"
    build(db, n)
    config = load_config(demo_config_path())
    writer = StoreWriter(db, config, maintenance=False).start()
    try:
        t0 = time.perf_counter()
        window = ConsoleWindow(config, db, writer)
        clock = GuiClock(window)
        window.resize(1600, 950)
        window.show()
        built = time.perf_counter() - t0
        app.processEvents()
        t0 = time.perf_counter()
        window.sign_in(User("olga", "approver"))
        gui = time.perf_counter() - t0
        wait_loads(app, window, 1)
        open_latency = time.perf_counter() - t0
        open_gui = gui + clock.total
        filters = [
            lambda: window.queue_pane.priority_box.setCurrentIndex(1),
            lambda: window.queue_pane.topic_box.setCurrentIndex(1),
            lambda: window.queue_pane.search.setText("battery"),
            lambda: window.queue_pane.priority_box.setCurrentIndex(0),
            lambda: window.queue_pane.network_box.setCurrentIndex(window.queue_pane.network_box.findData("bluesky")),
            lambda: window.queue_pane.topic_box.setCurrentIndex(0),
        ]
        gui_ms, latency_ms = [], []
        for apply in filters:
            clock.total = 0.0
            before = window.loads
            t0 = time.perf_counter()
            apply()
            handed = time.perf_counter() - t0
            wait_loads(app, window, before + 1)
            latency_ms.append((time.perf_counter() - t0) * 1000)
            gui_ms.append((handed + clock.total) * 1000)
        rows = window.queue_pane.model.rowCount()
        window.close()
    finally:
        writer.close()
    return {
        "build_ms": round(built * 1000, 1),
        "open_gui_ms": round(open_gui * 1000, 1),
        "open_latency_ms": round(open_latency * 1000, 1),
        "filter_gui_ms": round(statistics.median(gui_ms), 1),
        "filter_gui_max_ms": round(max(gui_ms), 1),
        "filter_latency_ms": round(statistics.median(latency_ms), 1),
        "rows_last_filter": rows,
    }


def main() -> None:
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    apply_theme(app, "dark")
    with tempfile.TemporaryDirectory() as tmp:
        small = measure(app, 1_000, Path(tmp))
        large = measure(app, 100_000, Path(tmp))
    for label, figures in (("1,000 items", small), ("100,000 items", large)):
        print(f"{label}: " + ", ".join(f"{k} {v}" for k, v in figures.items()))
    result = {
        "build_ms_100k": large["build_ms"],
        "open_gui_ms_1k": small["open_gui_ms"], "open_gui_ms_100k": large["open_gui_ms"],
        "filter_gui_ms_1k": small["filter_gui_ms"], "filter_gui_ms_100k": large["filter_gui_ms"],
        "filter_gui_max_ms_100k": large["filter_gui_max_ms"],
        "open_latency_ms_100k": large["open_latency_ms"],
        "filter_latency_ms_100k": large["filter_latency_ms"],
        "filter_gui_ratio": round(large["filter_gui_ms"] / max(small["filter_gui_ms"], 0.01), 2),
    }  # fmt: skip
    print(json.dumps(result))
    sqlite3.connect(":memory:").close()


if __name__ == "__main__":
    main()
