"""The wall's GUI-thread costs on ``wall-3``: refresh time, event-loop stalls, memory growth.

- ``refresh_ms_small`` / ``refresh_ms_large``: one full refresh of the three screens —
  every tile of the scene each shows, its queries plus a synchronous repaint (what one
  refresh tick costs when every tile is concerned) — at 10 thousand and at 10 million
  stored mentions (median of repeats); ``refresh_ratio``. ``every_scene_ms_*``: the same
  for every tile of all seven scenes. Both databases hold mentions at the same rate in
  the hours the wall shows (the small one is a few hours old, the large one a week).
- ``stall_p99_ms`` / ``stall_max_ms``: a 1 ms timer probe on the GUI thread, late by how
  much, while the demo source ingests 2,000 mentions/s through the real poller and writer
  (qasync: the same event loop as ``watchfloor run``) and scenes rotate.
- ``stall_share_pct``: the share of the stall probe's time the GUI loop spent in stalls
  longer than 16 ms (one frame at 60 Hz): each such gap between two probes counts whole;
  ``stall_share_idle_pct`` the same with nothing ingested (the machine's own load).
- ``rss_growth_pct``: resident memory growth after warm-up over an accelerated run: the
  scenes change as often as they would every 5 s for ``--minutes`` (30) minutes, ingest
  going on, compressed by ``--speed``.
- ``soak_rss_mb``: resident memory sampled once a minute over a real-time soak of
  ``--soak-min`` minutes (ingest at 2,000/s, scenes every 5 s); ``soak_slope_mb_per_min``
  (least squares over the samples after the first minute's warm-up) and
  ``soak_growth_pct`` (last sample against the one after warm-up).

Prints one JSON object on its last line. Run offscreen: ``QT_QPA_PLATFORM=offscreen``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import psutil
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from query import WEEK, build  # the 10-million-mention database of bench/query.py

from app.config import Config, load_config, parse_config
from app.layouts import load_layout
from app.resources import demo_config_path
from app.store.db import open_writer
from app.ui.launch import apply_theme, tune_for_gui
from app.ui.tilebase import load_registry
from app.ui.wall import WallWindow
from app.ui.walldata import WallHub


def add_workflow_rows(path: Path, now: float) -> None:
    """Queue rows for mentions that needed a response (the last day's still open), alerts,
    trending terms and source health, so every tile has something to read."""
    conn = open_writer(path)
    conn.execute("BEGIN")
    conn.execute(
        "INSERT OR IGNORE INTO queue (mention_id, priority, state, queued_ts, updated_ts)"
        " SELECT id, priority, CASE WHEN ts > ? THEN 'new' ELSE 'sent' END, ts, ts"
        " FROM mentions WHERE needs_response",
        (now - 86400,),
    )
    for i in range(40):
        conn.execute(
            "INSERT INTO alerts (kind, topic, ts, window_start, observed, baseline, z, explanation,"
            " terms, state) VALUES ('spike', 'lumio', ?, ?, 90, 10, 8, 'lumio: 90/min, 9× the usual',"
            " '[\"battery\"]', 'resolved')",
            (now - i * 3600, now - i * 3600 - 300),
        )
    for scope in ("*", "lumio", "orbitel", "nexa", "industry"):
        for rank in range(1, 16):
            conn.execute(
                "INSERT OR REPLACE INTO trending VALUES (?, ?, ?, ?, ?, ?, ?)",
                (scope, rank, f"term{rank}", 100 - rank, 10.0, 5.0, now),
            )
    conn.execute(
        "INSERT OR REPLACE INTO source_state (name, type, status, last_success, stored_total)"
        " VALUES ('demo', 'demo', 'ok', ?, 1000)",
        (now,),
    )
    conn.execute("COMMIT")
    conn.close()


def make_walls(hub: WallHub) -> list[WallWindow]:
    registry = load_registry()
    windows = []
    colours: dict[str, str] = {}
    for screen in load_layout("wall-3").layout.screens:
        w = WallWindow((screen,), hub, registry, colours=colours)
        w.show()
        w.start()
        windows.append(w)
    return windows


def refresh_ms(app: QApplication, windows: list[WallWindow], *, every_scene: bool) -> float:
    """Tiles' queries plus a synchronous repaint: of the scene each screen shows (what one
    refresh tick costs when every tile is concerned), or of every scene of every screen."""
    total = 0.0
    for w in windows:
        views = list(w.views.values()) if every_scene else [w.views[w.current.key]]
        for view in views:
            w.stack.setCurrentWidget(view)
            app.processEvents()
            t = time.perf_counter()
            for tile in view.tiles:
                tile.refresh()
                tile.widget().repaint()
            total += time.perf_counter() - t
        w.stack.setCurrentWidget(w.views[w.current.key])
    return total * 1000


def measure_refresh(app: QApplication, db: Path, config: Config, repeats: int) -> tuple[float, float]:
    hub = WallHub(db, config)
    windows = make_walls(hub)
    for w in windows:
        w.rotate_timer.stop()
    for _ in range(3):  # warm caches, as a running wall has them
        refresh_ms(app, windows, every_scene=True)
    shown = statistics.median(refresh_ms(app, windows, every_scene=False) for _ in range(repeats))
    every = statistics.median(refresh_ms(app, windows, every_scene=True) for _ in range(repeats))
    for w in windows:
        w.shutdown()
        w.deleteLater()
    app.processEvents()
    hub.close()
    return shown, every


#: a GUI-loop gap longer than this is a stall a viewer can see (one frame at 60 Hz)
STALL_MS = 16.0


def slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of ys over xs (0 with fewer than two points)."""
    if len(xs) < 2:
        return 0.0
    return float(statistics.linear_regression(xs, ys).slope)


def run_live(app: QApplication, db: Path, seconds: float, minutes: float, speed: float,
             soak_min: float, idle_s: float = 10.0) -> dict[str, Any]:  # fmt: skip
    """Ingest 2,000/s through poller and writer under qasync; probe stalls and memory."""
    import qasync

    from app.poller import Poller
    from app.store.writer import StoreWriter

    data = json.loads(json.dumps(load_config(demo_config_path()).model_dump(mode="json")))
    data["sources"] = [{"name": "demo", "type": "demo", "rate_per_minute": 120_000, "interval_s": 0.5,
                        "backfill_min": 0, "seed": 3, "crisis_every_min": 0, "rhythm": False}]  # fmt: skip
    config = parse_config(data, "bench")
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    writer = StoreWriter(db, config).start()
    hub = WallHub(db, config)
    windows = make_walls(hub)
    hub.start()
    tune_for_gui()
    lateness: list[float] = []
    last = [time.perf_counter()]
    stalled_ms = [0.0]

    gc_pauses: list[float] = []
    gc_start = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if not probe_timer.isActive():
            return
        if phase == "start":
            gc_start[0] = time.perf_counter()
        else:
            gc_pauses.append((time.perf_counter() - gc_start[0]) * 1000)

    gc.callbacks.append(on_gc)

    def probe() -> None:
        t = time.perf_counter()
        gap = (t - last[0]) * 1000
        lateness.append(max(0.0, gap - 1.0))
        if gap > STALL_MS:
            stalled_ms[0] += gap
        last[0] = t

    probe_timer = QTimer()
    probe_timer.setInterval(1)
    probe_timer.timeout.connect(probe)
    scene_every_ms = max(20, int(5000 / speed / len(windows)))

    turn = [0]

    def rotate() -> None:
        # each screen keeps its own rhythm, a third of the interval apart (as WallSet staggers them)
        windows[turn[0] % len(windows)].next_scene()
        turn[0] += 1

    rotator = QTimer()
    rotator.setInterval(scene_every_ms)
    rotator.timeout.connect(rotate)
    proc = psutil.Process()
    result: dict[str, Any] = {}

    async def probe_for(seconds: float) -> float:
        """The share of ``seconds`` the GUI loop spent in gaps over STALL_MS."""
        stalled_ms[0] = 0.0
        probe_timer.start()
        last[0] = t0 = time.perf_counter()
        await asyncio.sleep(seconds)
        probe_timer.stop()
        return stalled_ms[0] / ((time.perf_counter() - t0) * 1000) * 100

    async def main() -> None:
        # phase 0: the same probe, scenes rotating, nothing ingested: what the machine's own
        # load (other processes on its cores) costs, apart from the wall's work
        for w in windows:
            w.rotate_timer.stop()
        rotator.setInterval(5000 // len(windows))
        rotator.start()
        result["stall_share_idle_pct"] = await probe_for(idle_s)
        lateness.clear()
        gc_pauses.clear()
        rotator.stop()
        poller = Poller(config, writer)
        task = asyncio.ensure_future(poller.run())
        await asyncio.sleep(3)  # the first pages and the caches settle
        conn_count = writer_stored(db)
        # phase 1: stalls while ingesting and rotating (every 5 s, as configured)
        for w in windows:
            w.rotate_timer.stop()
        rotator.setInterval(5000 // len(windows))
        rotator.start()
        result["stall_share_pct"] = await probe_for(seconds)
        stored = writer_stored(db) - conn_count
        result["ingested_per_s"] = stored / seconds
        # phase 2: memory over an accelerated run
        rotator.setInterval(scene_every_ms)
        changes = int(minutes * 60 / 5) * len(windows)
        warm = max(1, changes // 4)  # page caches and glyph caches fill first
        await asyncio.sleep(warm * scene_every_ms / 1000)
        rss0 = proc.memory_info().rss
        await asyncio.sleep((changes - warm) * scene_every_ms / 1000)
        rss1 = proc.memory_info().rss
        result["rss_mb_after_warmup"] = rss0 / 2**20
        result["rss_mb_end"] = rss1 / 2**20
        result["scene_changes"] = changes
        # phase 3: a real-time soak, memory sampled each minute
        rotator.setInterval(5000 // len(windows))
        samples = [proc.memory_info().rss / 2**20]
        for _ in range(int(soak_min)):
            await asyncio.sleep(60)
            samples.append(proc.memory_info().rss / 2**20)
            print(f"soak minute {len(samples) - 1}: {samples[-1]:.1f} MB resident", flush=True)
        rotator.stop()
        after = samples[1:]  # the first minute is warm-up
        result["soak_rss_mb"] = [round(v, 1) for v in samples]
        result["soak_slope_mb_per_min"] = slope([float(i) for i in range(len(after))], after)
        result["soak_growth_pct"] = (after[-1] - after[0]) / after[0] * 100 if len(after) > 1 else 0.0
        result["soak_stored"] = writer_stored(db)
        await poller.stop()
        await asyncio.wait_for(task, 30)

    with loop:
        loop.run_until_complete(main())
    for w in windows:
        w.shutdown()
    hub.close()
    writer.close()
    gc.callbacks.remove(on_gc)
    result["gc_max_ms"] = max(gc_pauses, default=0.0)
    ordered = sorted(lateness)
    result["stall_p99_ms"] = ordered[int(len(ordered) * 0.99)] if ordered else 0.0
    result["stall_max_ms"] = ordered[-1] if ordered else 0.0
    result["probes"] = len(ordered)
    return result


def writer_stored(db: Path) -> int:
    import sqlite3

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM mentions").fetchone()[0])
    finally:
        conn.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--small", type=int, default=10_000)
    ap.add_argument("--large", type=int, default=10_000_000)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--stall-seconds", type=float, default=30.0)
    ap.add_argument("--minutes", type=float, default=30.0, help="wall time the memory run stands for")
    ap.add_argument("--speed", type=float, default=50.0, help="how much faster than real time")
    ap.add_argument("--keep", metavar="DIR", help="build the databases here and keep them")
    ap.add_argument("--soak-min", type=float, default=2.0,
                    help="minutes of the real-time memory soak (sampled each minute; 30 for the full run)")  # fmt: skip
    args = ap.parse_args()
    app = QApplication([])
    config = load_config(demo_config_path())
    apply_theme(app, "dark")
    now = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        figures: dict[str, float] = {}
        for label, n in (("small", args.small), ("large", args.large)):
            path = folder / f"wall-{label}-{n}.db"
            if not path.exists():
                t = time.perf_counter()
                # the same rate in the hours the wall shows: a young database (its mentions in
                # the last hours) against one that holds a week at a thousand a minute, so
                # the pictures are alike and only what is stored differs
                build(path, n, now, span=min(WEEK, n * 2.0))
                add_workflow_rows(path, now)
                print(f"built {path.name}: {n:,} mentions in {time.perf_counter() - t:.1f} s")
            open_writer(path).close()  # a kept database from an older schema is migrated first
            shown, every = measure_refresh(app, path, config, args.repeats)
            figures[f"refresh_ms_{label}"] = shown
            figures[f"every_scene_ms_{label}"] = every
            print(f"wall-3 at {n:,} mentions: full refresh of the three screens {shown:.2f} ms, "
                  f"of all {sum(len(s.scenes) for s in load_layout('wall-3').layout.screens)} scenes {every:.2f} ms")
        live = run_live(app, Path(tmp) / "live.db", args.stall_seconds, args.minutes, args.speed, args.soak_min)
    growth = (live["rss_mb_end"] - live["rss_mb_after_warmup"]) / live["rss_mb_after_warmup"] * 100
    print(f"ingest during the stall probe: {live['ingested_per_s']:.0f} mentions/s; "
          f"{live['probes']:.0f} probes, p99 late {live['stall_p99_ms']:.2f} ms, max {live['stall_max_ms']:.2f} ms; "
          f"longest garbage collection {live['gc_max_ms']:.2f} ms")  # fmt: skip
    print(f"memory: {live['rss_mb_after_warmup']:.1f} MB after warm-up, {live['rss_mb_end']:.1f} MB after "
          f"{live['scene_changes']:.0f} scene changes ({args.minutes:.0f} min at one per 5 s)")  # fmt: skip
    print(f"GUI loop in stalls over {STALL_MS:.0f} ms: {live['stall_share_pct']:.3f} % of the time "
          f"({live['stall_share_idle_pct']:.3f} % with nothing ingested); "
          f"soak of {args.soak_min:.0f} min: {live['soak_rss_mb']} MB, slope "
          f"{live['soak_slope_mb_per_min']:.2f} MB/min")  # fmt: skip
    print(json.dumps({
        "refresh_ms_small": round(figures["refresh_ms_small"], 3),
        "refresh_ms_large": round(figures["refresh_ms_large"], 3),
        "refresh_ratio": round(figures["refresh_ms_large"] / figures["refresh_ms_small"], 3),
        "every_scene_ms_small": round(figures["every_scene_ms_small"], 3),
        "every_scene_ms_large": round(figures["every_scene_ms_large"], 3),
        "stall_p99_ms": round(live["stall_p99_ms"], 3),
        "stall_max_ms": round(live["stall_max_ms"], 3),
        "rss_growth_pct": round(growth, 2),
        "ingested_per_s": round(live["ingested_per_s"]),
        "stall_share_pct": round(live["stall_share_pct"], 3),
        "stall_share_idle_pct": round(live["stall_share_idle_pct"], 3),
        "soak_min": args.soak_min,
        "soak_rss_mb": live["soak_rss_mb"],
        "soak_slope_mb_per_min": round(live["soak_slope_mb_per_min"], 3),
        "soak_growth_pct": round(live["soak_growth_pct"], 2),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
