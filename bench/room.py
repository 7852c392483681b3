"""The room: a station's catch-up rate after time offline, and change propagation over NOTIFY.

Starts a throwaway PostgreSQL from the distribution's package (as the tests do), makes
the room as docs/IT.md says (an owner migrates, the application role has its grants),
and publishes mentions from the demo simulator, analysed by the same analyser the hub
runs, the way the hub does (gap-free sequence, change-log row, NOTIFY).

- catch-up: a station syncs, goes offline, ``--offline`` mentions are published, and it
  comes back: the rate is those mentions over the seconds until its SQLite cache has
  committed the last one (same writer: rollups, topic index, queue rows).
  Beside it, the same mentions stored by the local writer alone (no room): what the
  cache's own bookkeeping costs.
- propagation: with the station caught up and listening, ``--samples`` commits of one
  mention each; the time from the start of the room's COMMIT to the commit of that
  mention in the station's cache (seen by the writer's change listener).
- retention: the ``--offline`` mentions published again into a fresh room as if forty days
  old, then dropped by the hub's pruning rounds (30 days kept): the rate, beside publishing
  the same rows in the same run, what stays as the care record, and an idle round's cost.
- console → wall repaint, end to end, two paths in the same run (``--wall-samples``
  each): a console-style claim or release of one queue item, and a wall in another
  process (bench/_wallprobe.py: the product's WallHub and queue tile, offscreen) that
  prints when its tile painted the item's new state. (a) the room: the transition in
  PostgreSQL → NOTIFY → the wall's station mirrors it into its SQLite cache → the hub's
  change-log read → repaint; (b) today's one machine: the transition through the
  console's store writer into a shared SQLite file → the wall's change-log read on its
  timer (``data_version`` says whether to read) → repaint. Times from ``time.monotonic``
  (one clock for every process on this machine), from just before the console's call
  to the paint. Measured at the wall's default refresh tick and at ``--fast-tick-ms``;
  each commit waits a random part of a tick first, so commits fall at every phase of it.

Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg

from app.analysis.pipeline import Analyzer
from app.config import DemoSourceConfig, Room, load_config
from app.model import Mention
from app.poller import source_context
from app.resources import demo_config_path
from app.room.mentions import body_from_mention, mention_from_body
from app.room.publish import insert_mentions, log_change, prune_mentions
from app.room.schema import grant, migrate
from app.room.station import Station
from app.sources.demo import DemoSource
from app.store.writer import Change, IngestBatch, StoreWriter
from tests.room import cluster as pg

PAGE = 5000


def make_bodies(n: int, start: float, counter: int) -> dict[str, dict[str, Any]]:
    """``n`` analysed demo mentions as room bodies (seeded: the same every run)."""
    config = load_config(demo_config_path())
    demo = DemoSourceConfig(type="demo", name="demo", rate_per_minute=60_000, rhythm=False,
                            crisis_every_min=0)  # fmt: skip
    source = DemoSource(demo, source_context(config))
    mentions: list[Mention] = []
    span = 1.0
    while len(mentions) < n:
        mentions += source.generate(start, start + span, seed=11, counter=counter + len(mentions))
        start += span
    mentions = mentions[:n]
    Analyzer(config).analyse(mentions)
    return {m.id: body_from_mention(m) for m in mentions}


def publish(conn: psycopg.Connection[Any], bodies: dict[str, dict[str, Any]]) -> None:
    items = list(bodies.items())
    for i in range(0, len(items), PAGE):
        page = dict(items[i : i + PAGE])
        with conn.transaction():
            new = insert_mentions(conn, page)
            log_change(conn, ["mentions"], new, {t for b in page.values() for t in b["topics"]})


def prune_rate(cluster: pg.Cluster, bodies: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The room's retention: ``bodies`` published as if forty days old (those that need a
    response queued, the care record), then pruned by the hub's rounds until none is left;
    beside it, publishing the same rows in the same run."""
    db = cluster.create_database()
    with psycopg.connect(cluster.url(db, pg.OWNER), password=pg.OWNER_PASSWORD, autocommit=True) as owner:
        migrate(owner)
        grant(owner, pg.APP)
    # one post in fifty queued (the demo's history is answered already): the care record kept
    old = {mid: {**b, "ts": b["ts"] - 40 * 86_400, "needs_response": b["needs_response"] or i % 50 == 0}
           for i, (mid, b) in enumerate(bodies.items())}  # fmt: skip
    with psycopg.connect(cluster.url(db), password=pg.APP_PASSWORD, autocommit=True,
                         options="-c search_path=watchfloor") as conn:  # fmt: skip
        t0 = time.perf_counter()
        publish(conn, old)
        publish_s = time.perf_counter() - t0
        cutoff = time.time() - 30 * 86_400
        t0, gone, rounds, more = time.perf_counter(), 0, 0, True
        while more:
            n, more = prune_mentions(conn, cutoff)
            gone, rounds = gone + n, rounds + 1
        prune_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        prune_mentions(conn, cutoff)  # the round every ten minutes after: nothing left to drop
        idle_ms = (time.perf_counter() - t0) * 1000
        (kept,) = conn.execute("SELECT count(*) FROM mentions").fetchone() or (0,)
    return {"published": len(old), "publish_per_s": round(len(old) / publish_s), "pruned": gone,
            "kept_care_record": kept, "prune_per_s": round(gone / prune_s), "rounds": rounds,
            "idle_round_ms": round(idle_ms, 1)}  # fmt: skip


def claim_rate(cluster: pg.Cluster, stations: int, items: int) -> dict[str, Any]:
    """Claims a second with ``stations`` processes racing claim-next for ``items`` items."""
    import subprocess

    from app.model import Mention as M
    from app.room.queue import verify_audit
    from tests.room.racer import START_LOCK

    db = cluster.create_database()
    owner = psycopg.connect(cluster.url(db, pg.OWNER), password=pg.OWNER_PASSWORD,
                            autocommit=True, options="-c search_path=watchfloor")  # fmt: skip
    migrate(owner)
    grant(owner, pg.APP)
    start = time.time() - 3600
    from datetime import UTC, datetime

    mentions = [M(network="demo", native_id=f"q-{n}", source="demo", text="@lumio help",
                  created_at=datetime.fromtimestamp(start + n, tz=UTC), needs_response=True,
                  priority=1 + n % 4) for n in range(items)]  # fmt: skip
    with owner.transaction():
        insert_mentions(owner, {m.id: body_from_mention(m) for m in mentions})
        for s in range(stations):
            owner.execute("INSERT INTO users (name, role, password, created_ts)"
                          " VALUES (%s, 'operator', 'unused', 0)", (f"op{s}",))  # fmt: skip
    owner.execute("SELECT pg_advisory_lock(%s)", (START_LOCK,))
    env = {**os.environ, "WATCHFLOOR_TEST_ROOM_PASSWORD": pg.APP_PASSWORD}
    attempts = str(items)  # each races until the queue is empty
    racers = [subprocess.Popen([sys.executable, "-m", "tests.room.racer", cluster.url(db),
                                f"op{s}", attempts], stdout=subprocess.PIPE, text=True, env=env)
              for s in range(stations)]  # fmt: skip
    while owner.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                        " AND NOT granted").fetchone() != (stations,):  # fmt: skip
        time.sleep(0.02)
    owner.execute("SELECT pg_advisory_unlock(%s)", (START_LOCK,))
    results = [json.loads(r.communicate(timeout=600)[0]) for r in racers]
    claimed = [i for r in results for i in r["claimed"]]
    assert len(claimed) == len(set(claimed)) == items, "an item was claimed twice or never"
    rows, broken = verify_audit(owner)
    assert broken is None and rows == items, "the audit chain does not hold"
    owner.close()
    span = max(r["ended"] for r in results) - min(r["started"] for r in results)
    return {"stations": stations, "claims": items, "claims_per_s": round(items / span),
            "per_station": sorted(len(r["claimed"]) for r in results)}  # fmt: skip


WALL_USER = "op0"
WALL_PASSWORD = "bench-wall-propagation-7"


def wall_item(now: float) -> Mention:
    """The one queue item the console moves and the wall's tile shows (the most urgent)."""
    from datetime import UTC, datetime

    return Mention(network="demo", native_id="wall-probe", source="demo", text="@lumio help",
                   created_at=datetime.fromtimestamp(now - 600, tz=UTC), needs_response=True,
                   priority=1)  # fmt: skip


class Probe:
    """A wall process (bench/_wallprobe.py) and the paints it reports."""

    def __init__(self, args: list[str]) -> None:
        import queue
        import subprocess

        script = Path(__file__).resolve().parent / "_wallprobe.py"
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
        self.proc = subprocess.Popen([sys.executable, str(script), *args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=env)  # fmt: skip
        self.paints: queue.Queue[tuple[float, str]] = queue.Queue()

        def read() -> None:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                ts, state = line.split()
                self.paints.put((float(ts), state))

        threading.Thread(target=read, daemon=True).start()

    def wait_for(self, state: str, timeout: float) -> float:
        """The monotonic time of the first paint of ``state`` from now on."""
        deadline = time.monotonic() + timeout
        while True:
            ts, got = self.paints.get(timeout=max(0.0, deadline - time.monotonic()))
            if got == state:
                return ts

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(60)


def to_wall(probe: Probe, act: Any, samples: int, tick_s: float, seed: int) -> dict[str, Any]:
    """``samples`` claims and releases in turn: ms from the console's call to the repaint."""
    import random

    rng = random.Random(seed)
    probe.wait_for("new", 120)
    latencies = []
    for i in range(samples):
        target = "claimed" if i % 2 == 0 else "new"
        time.sleep(rng.uniform(0, tick_s))  # a random phase of the wall's tick
        t0 = time.monotonic()
        act(target)
        latencies.append((probe.wait_for(target, 30) - t0) * 1000)
    latencies.sort()
    return {"samples": len(latencies), "p50_ms": round(statistics.median(latencies), 1),
            "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 1),
            "max_ms": round(latencies[-1], 1)}  # fmt: skip


def room_to_wall(cluster: pg.Cluster, tmp: Path, samples: int, ticks: list[int]) -> dict[str, Any]:
    """(a) console claim in PostgreSQL → NOTIFY → the wall PC's cache → its tile repainted."""
    from app.room.queue import RoomQueue

    db = cluster.create_database()
    owner = psycopg.connect(cluster.url(db, pg.OWNER), password=pg.OWNER_PASSWORD,
                            autocommit=True, options="-c search_path=watchfloor")  # fmt: skip
    migrate(owner)
    grant(owner, pg.APP)
    owner.execute("INSERT INTO users (name, role, password, created_ts)"
                  " VALUES (%s, 'operator', 'unused', 0)", (WALL_USER,))  # fmt: skip
    owner.close()
    conn = psycopg.connect(cluster.url(db), password=pg.APP_PASSWORD, autocommit=True,
                           options="-c search_path=watchfloor")  # fmt: skip
    item = wall_item(time.time())
    publish(conn, {item.id: body_from_mention(item)})
    rq = RoomQueue()

    def act(target: str) -> None:
        (rq.claim if target == "claimed" else rq.release)(conn, WALL_USER, item.id)

    out = {}
    for n, tick in enumerate(ticks):
        probe = Probe([str(tmp / f"wall-room-{n}.db"), item.id, "--room", cluster.url(db),
                       "--password-env", "WATCHFLOOR_BENCH_ROOM_PASSWORD",
                       "--throttle-ms", str(tick)])  # fmt: skip
        try:
            out[f"tick_{tick}ms"] = to_wall(probe, act, samples, tick / 1000, 100 + n)
        finally:
            probe.close()
        if samples % 2:
            act("new")
    conn.close()
    return out


def file_to_wall(tmp: Path, samples: int, ticks: list[int]) -> dict[str, Any]:
    """(b) console claim into the one shared SQLite file → the wall's poll → repaint."""
    from app.ui.console import WORKFLOW_TABLES
    from app.workflow.service import QueueWorkflow
    from app.workflow.users import add_user

    config = load_config(demo_config_path())
    path = tmp / "shared.db"
    writer = StoreWriter(path, config).start()
    item = wall_item(time.time())
    writer.submit(IngestBatch(source="demo", source_type="demo", mentions=[item], cursor={},
                              analysed=True)).result(60)  # fmt: skip
    writer.call(lambda c: add_user(c, WALL_USER, "operator", WALL_PASSWORD),
                tables=("users", "audit")).result(60)  # fmt: skip
    wf = QueueWorkflow()

    def act(target: str) -> None:
        step = wf.claim if target == "claimed" else wf.release
        writer.call(lambda c: step(c, WALL_USER, item.id), tables=WORKFLOW_TABLES,
                    ids=(item.id,)).result(30)  # fmt: skip

    out = {}
    try:
        for n, tick in enumerate(ticks):
            probe = Probe([str(path), item.id, "--throttle-ms", str(tick)])
            try:
                out[f"tick_{tick}ms"] = to_wall(probe, act, samples, tick / 1000, 200 + n)
            finally:
                probe.close()
            if samples % 2:
                act("new")
    finally:
        writer.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--offline", type=int, default=72_000,
                    help="mentions published while the station is away (an hour at 20/s)")  # fmt: skip
    ap.add_argument("--samples", type=int, default=300)
    ap.add_argument("--claims", type=int, default=3000, help="queue items raced for, per run")
    ap.add_argument("--wall-samples", type=int, default=150,
                    help="console actions timed to the wall's repaint, per path and tick")  # fmt: skip
    ap.add_argument("--fast-tick-ms", type=int, default=100,
                    help="a second, shorter wall refresh tick measured beside the default")  # fmt: skip
    args = ap.parse_args()
    config = load_config(demo_config_path())
    t = time.time() - 7200
    before = make_bodies(1000, t, 0)
    away = make_bodies(args.offline, t + 60, 1000)
    live = make_bodies(args.samples, t + 3600, 1000 + args.offline)
    with pg.cluster() as cluster, tempfile.TemporaryDirectory() as tmp:
        db = cluster.create_database()
        owner = psycopg.connect(cluster.url(db, pg.OWNER), password=pg.OWNER_PASSWORD,
                                autocommit=True)  # fmt: skip
        migrate(owner)
        grant(owner, pg.APP)
        owner.close()
        os.environ["WATCHFLOOR_BENCH_ROOM_PASSWORD"] = pg.APP_PASSWORD
        room = Room(url=cluster.url(db), password_env="WATCHFLOOR_BENCH_ROOM_PASSWORD",
                    sslmode="disable", station="bench")  # fmt: skip
        conn = psycopg.connect(cluster.url(db), password=pg.APP_PASSWORD, autocommit=True,
                               options="-c search_path=watchfloor")  # fmt: skip
        publish(conn, before)
        writer = StoreWriter(Path(tmp) / "station.db", config).start()
        station = Station(room, writer).start()
        assert station.caught_up.wait(60), "the station never caught up"
        station.stop()
        # offline: the room moves on
        publish(conn, away)
        station = Station(room, writer)
        t0 = time.perf_counter()
        station.start()
        assert station.caught_up.wait(600), "the station never caught up"
        catch_up_s = time.perf_counter() - t0
        received = station.status.received
        # live: one mention a commit, commit → the station's cache
        arrived = threading.Event()

        def heard(change: Change) -> None:
            if "mentions" in change.tables:
                arrived.set()

        writer.add_listener(heard)
        latencies = []
        for mid, body in live.items():
            arrived.clear()
            conn.execute("BEGIN")
            new = insert_mentions(conn, {mid: body})
            log_change(conn, ["mentions"], new, body["topics"])
            t1 = time.perf_counter()
            conn.execute("COMMIT")
            assert arrived.wait(10), "a mention never reached the station"
            latencies.append((time.perf_counter() - t1) * 1000)
        station.stop()
        writer.close()
        conn.close()
        claims = [claim_rate(cluster, n, args.claims) for n in (1, 3, 10)]
        pruning = prune_rate(cluster, away)
        import inspect

        from app.ui.walldata import WallHub

        default_tick = int(inspect.signature(WallHub).parameters["throttle_ms"].default)
        ticks = [default_tick, args.fast_tick_ms]
        wall_room = room_to_wall(cluster, Path(tmp), args.wall_samples, ticks)
    with tempfile.TemporaryDirectory() as tmp:
        wall_file = file_to_wall(Path(tmp), args.wall_samples, ticks)
    # the same mentions into a fresh cache with no room at all: what the local writer costs
    with tempfile.TemporaryDirectory() as tmp:
        mentions = [mention_from_body(dict(b)) for b in away.values()]
        writer = StoreWriter(Path(tmp) / "alone.db", config).start()
        t0 = time.perf_counter()
        futures = [writer.submit(IngestBatch(source="room", source_type="room",
                                             mentions=mentions[i : i + PAGE], cursor={},
                                             analysed=True))
                   for i in range(0, len(mentions), PAGE)]  # fmt: skip
        for f in futures:
            f.result()
        writer_s = time.perf_counter() - t0
        writer.close()
    latencies.sort()
    result = {
        "catch_up_mentions": received,
        "catch_up_s": round(catch_up_s, 3),
        "catch_up_per_s": round(received / catch_up_s),
        "local_writer_only_per_s": round(len(away) / writer_s),
        "notify_samples": len(latencies),
        "notify_p50_ms": round(statistics.median(latencies), 2),
        "notify_p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 2),
        "claim_next": claims,
        "prune": pruning,
        "console_to_wall_repaint": {
            "wall_default_tick_ms": default_tick,
            "room_notify": wall_room,
            "shared_sqlite_file": wall_file,
        },
        "postgresql": "15 (Debian package), loopback",
    }
    print(
        f"catch-up: {received} mentions in {catch_up_s:.2f} s; "
        f"propagation p50 {result['notify_p50_ms']} ms, p99 {result['notify_p99_ms']} ms"
    )
    for name, path in (("room", wall_room), ("shared file", wall_file)):
        for tick, r in path.items():
            print(
                f"console → wall repaint, {name}, {tick}: p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms"
            )
    print(f"room retention: {pruning['pruned']} of {pruning['published']} forty-day-old mentions dropped at"
          f" {pruning['prune_per_s']:,}/s (published at {pruning['publish_per_s']:,}/s),"
          f" {pruning['kept_care_record']} kept as the care record; an idle round {pruning['idle_round_ms']} ms")  # fmt: skip
    print(json.dumps(result))


if __name__ == "__main__":
    main()
