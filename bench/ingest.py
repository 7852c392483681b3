"""Ingest throughput: bare VADER against the whole pipeline on the same batch.

The batch is the 4,200 human-rated tweets shipped with vaderSentiment's source
distribution, repeated with fresh ids to ``--size`` mentions. The pipeline rate covers
normalised mentions → topics, sentiment, needs-response, trend terms → SQLite with
rollups, topic index, queue rows and source cursor, committed.

Prints one JSON object on its last line: {"vader_per_s", "pipeline_per_s", "ratio"}.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.analysis.sentiment import VaderScorer
from app.config import load_config
from app.model import Mention
from app.resources import demo_config_path
from app.store.writer import IngestBatch, StoreWriter
from tests.datasets import vader_ground_truth


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=42_000)
    ap.add_argument("--page", type=int, default=2_000)
    args = ap.parse_args()
    tweets = [text for _, text in vader_ground_truth()]
    texts = [tweets[i % len(tweets)] for i in range(args.size)]

    scorer = VaderScorer()
    t = time.perf_counter()
    scorer.score_many(texts)
    vader_s = time.perf_counter() - t

    config = load_config(demo_config_path())
    start = datetime.now(UTC) - timedelta(hours=2)
    mentions = [
        Mention(network="bench", native_id=str(i), source="bench", text=text,
                created_at=start + timedelta(milliseconds=150 * i), author=f"@user{i % 997}",
                author_followers=(i * 37) % 50_000, engagement=i % 11)
        for i, text in enumerate(texts)
    ]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        writer = StoreWriter(Path(tmp) / "bench.db", config, maintenance=False).start()
        t = time.perf_counter()
        futures = [
            writer.submit(IngestBatch("bench", "bench", mentions[i : i + args.page], {"n": i}))
            for i in range(0, len(mentions), args.page)
        ]
        stored = sum(f.result().stored for f in futures)
        pipeline_s = time.perf_counter() - t
        writer.close()
    assert stored == len(mentions), stored
    vader = len(texts) / vader_s
    pipeline = len(mentions) / pipeline_s
    print(f"{len(texts)} tweets: VADER alone {vader:,.0f}/s, whole pipeline {pipeline:,.0f}/s")
    print(json.dumps({"vader_per_s": round(vader), "pipeline_per_s": round(pipeline),
                      "ratio": round(pipeline / vader, 3), "mentions": len(mentions)}))  # fmt: skip


if __name__ == "__main__":
    main()
