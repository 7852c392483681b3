"""The query behind a 24-hour volume tile, at 10 thousand and at 10 million stored mentions.

Both databases hold a week of mentions for the demo's topics (the big one fills every
minute, the small one leaves most minutes empty); the tile asks for the last 24 hours
of every topic in 10-minute buckets. Because tiles read rollups, never raw mentions,
the cost should not depend on how many mentions are stored.

The big database is generated with SQL (a recursive CTE), not through the pipeline,
and its rollups are built with one GROUP BY — the same rows ingest would have written.
Prints one JSON object on its last line: {"query_ms_10k", "query_ms_10m", "query_ratio"}.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import wallquery
from app.store.db import open_reader, open_writer

TOPICS = ["lumio", "orbitel", "nexa", "industry", "lumiox-launch"]
WEEK = 7 * 86400


def build(path: Path, n: int, now: float, span: float = WEEK) -> None:
    """``n`` mentions spread evenly over the ``span`` seconds before ``now``."""
    conn = open_writer(path)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA journal_mode = OFF")
    start = now - span
    step = span / n
    conn.execute("BEGIN")
    conn.execute(
        f"""
        WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < {n - 1})
        INSERT INTO mentions (rowid, id, network, source, author, text, ts, fetched_ts, sentiment,
                              topics, needs_response, priority, reasons)
        SELECT i + 1, 'bench:' || i, 'bench', 'bench', '@user' || (i % 997),
               'post number ' || i || ' about things', {start} + i * {step}, {now},
               ((i * 7919) % 200) / 100.0 - 1.0,
               json_array(CASE i % 5 WHEN 0 THEN 'lumio' WHEN 1 THEN 'orbitel' WHEN 2 THEN 'nexa'
                          WHEN 3 THEN 'industry' ELSE 'lumiox-launch' END),
               i % 50 = 0, 1 + i % 4, '[]'
        FROM seq
        """
    )
    conn.execute(
        "INSERT INTO mention_topics (topic, ts, mention)"
        " SELECT json_extract(topics, '$[0]'), ts, rowid FROM mentions"
    )
    for res in (60, 600, 3600):
        for topic_expr, topic_name in (("json_extract(topics, '$[0]')", None), ("'*'", "*")):
            conn.execute(
                f"""
                INSERT INTO rollups (res, topic, bucket, n, pos, neu, neg, sent_sum, engagement,
                                     needs_response)
                SELECT {res}, {topic_expr}, CAST(ts / {res} AS INT) * {res}, count(*),
                       sum(sentiment >= 0.05), sum(sentiment > -0.05 AND sentiment < 0.05),
                       sum(sentiment <= -0.05), sum(sentiment), sum(engagement), sum(needs_response)
                FROM mentions GROUP BY 2, 3
                """
            )
            del topic_name
    conn.execute("COMMIT")
    conn.close()


def volume_query(conn, now: float) -> dict[str, list[int]]:  # type: ignore[no-untyped-def]
    """What the volume tile reads: every topic's last 24 hours (10-minute rollups)."""
    return {t: wallquery.series(conn, t, now - 86400, now).n for t in TOPICS}


def measure(path: Path, now: float, repeats: int) -> float:
    conn = open_reader(path)
    volume_query(conn, now)  # warm the page cache, as a running wall has it
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        volume_query(conn, now)
        times.append((time.perf_counter() - t) * 1000)
    conn.close()
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--small", type=int, default=10_000)
    ap.add_argument("--large", type=int, default=10_000_000)
    ap.add_argument("--repeats", type=int, default=200)
    ap.add_argument("--keep", metavar="DIR", help="build the databases here and keep them")
    args = ap.parse_args()
    now = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        small, large = folder / "small.db", folder / "large.db"
        for path, n in ((small, args.small), (large, args.large)):
            if not path.exists():
                t = time.perf_counter()
                build(path, n, now)
                print(f"built {path.name}: {n:,} mentions in {time.perf_counter() - t:.1f} s")
        ms_small = measure(small, now, args.repeats)
        ms_large = measure(large, now, args.repeats)
    print(
        f"24-hour volume query: {ms_small:.3f} ms at {args.small:,}, {ms_large:.3f} ms at {args.large:,}"
    )
    print(json.dumps({"query_ms_10k": round(ms_small, 4), "query_ms_10m": round(ms_large, 4),
                      "query_ratio": round(ms_large / ms_small, 3)}))  # fmt: skip


if __name__ == "__main__":
    main()
