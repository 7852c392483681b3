"""Ingest throughput and the cost of one long post.

The batch is the 4,200 human-rated tweets shipped with vaderSentiment's source
distribution, repeated with fresh ids to ``--size`` mentions. The pipeline rate covers
normalised mentions → text cap, language, topics, sentiment, needs-response, trend terms →
SQLite with rollups, topic index, queue rows and source cursor, committed. It is measured
twice: with the language each network declares (Mastodon and Bluesky send one: detection
is skipped where the script agrees), and with none (every post goes through detection);
and with plain VADER in place of the care scorer, to show what the care rules cost. Each
is the best of ``--repeat`` runs, taking turns (the machine may be shared).

The cost of one post: the whole analysis of a single mention of 1 KB, 100 KB and 1 MB of
text, the worst of several shapes (prose, one endless word, emoji, "but" after "but" —
what made plain VADER's cost grow with the square of the length), best of three runs each.
Plain VADER on 20 KB is shown for comparison (it grows with the square of the length).

Prints one JSON object on its last line.
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

from app.analysis.pipeline import Analyzer
from app.analysis.sentiment import VaderScorer
from app.config import Config, load_config
from app.model import Mention
from app.resources import demo_config_path
from app.store.writer import IngestBatch, StoreWriter
from tests.datasets import vader_ground_truth

SHAPES = {
    "prose": "My Lumio X got so hot it burned my hand, and support never answered 😡. ",
    "one word": "a",
    "emoji": "😡🔥👍",
    "but": "but not good but bad ",
}


def _mentions(texts: list[str], lang: str | None, tag: str) -> list[Mention]:
    start = datetime.now(UTC) - timedelta(hours=2)
    return [
        Mention(network="bench", native_id=f"{tag}{i}", source="bench", text=text,
                created_at=start + timedelta(milliseconds=150 * i), author=f"@user{i % 997}",
                author_followers=(i * 37) % 50_000, engagement=i % 11, lang=lang)
        for i, text in enumerate(texts)
    ]  # fmt: skip


def pipeline_rate(
    config: Config, texts: list[str], page: int, lang: str | None, analyzer: Analyzer | None = None
) -> float:
    mentions = _mentions(texts, lang, "m")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        writer = StoreWriter(path, config, analyzer=analyzer, maintenance=False).start()
        # warm up: the language models load on first use, once per process
        writer.submit(IngestBatch("bench", "bench", _mentions(texts[:50], None, "w"), {})).result()
        t = time.perf_counter()
        futures = [
            writer.submit(IngestBatch("bench", "bench", mentions[i : i + page], {"n": i}))
            for i in range(0, len(mentions), page)
        ]
        stored = sum(f.result().stored for f in futures)
        elapsed = time.perf_counter() - t
        writer.close()
    assert stored == len(mentions), stored
    return len(mentions) / elapsed


def worst_post_ms(analyzer: Analyzer, size: int) -> tuple[float, str]:
    worst, which = 0.0, ""
    for name, unit in SHAPES.items():
        text = (unit * (size // len(unit) + 1))[:size]
        best = float("inf")
        for _ in range(3):
            m = _mentions([text], None, "x")[0]
            t = time.perf_counter()
            analyzer.analyse([m])
            best = min(best, time.perf_counter() - t)
        if best > worst:
            worst, which = best, name
    return worst * 1000, which


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=42_000)
    ap.add_argument("--page", type=int, default=2_000)
    ap.add_argument(
        "--repeat", type=int, default=3, help="runs of each pipeline (the best is kept)"
    )
    args = ap.parse_args()
    tweets = [text for _, text in vader_ground_truth()]
    texts = [tweets[i % len(tweets)] for i in range(args.size)]
    config = load_config(demo_config_path())
    analyzer = Analyzer(config)

    vader = VaderScorer()
    t = time.perf_counter()
    vader.score_many(texts)
    vader_rate = len(texts) / (time.perf_counter() - t)
    t = time.perf_counter()
    analyzer.scorer.score_many(texts)
    care_rate = len(texts) / (time.perf_counter() - t)

    # the machine is shared: the best of a few runs is the least disturbed one; the three
    # pipelines take turns so that a busy moment does not fall on one of them alone
    vader_analyzer = Analyzer(config, scorer=vader)
    declared = undeclared = with_vader = 0.0
    for _ in range(args.repeat):
        declared = max(declared, pipeline_rate(config, texts, args.page, "en"))
        undeclared = max(undeclared, pipeline_rate(config, texts, args.page, None))
        with_vader = max(with_vader, pipeline_rate(config, texts, args.page, "en", vader_analyzer))

    analyzer.analyse(_mentions(["bonjour tout le monde, ça va bien"], None, "w"))  # models loaded
    costs = {}
    for label, size in (("1KB", 1_000), ("100KB", 100_000), ("1MB", 1_000_000)):
        ms, shape = worst_post_ms(analyzer, size)
        costs[label] = {"ms": round(ms, 2), "shape": shape}
    t = time.perf_counter()
    vader.score((SHAPES["prose"] * 300)[:20_000])
    vader_20kb_ms = (time.perf_counter() - t) * 1000

    print(
        f"{len(texts)} tweets: VADER alone {vader_rate:,.0f}/s, care scorer alone {care_rate:,.0f}/s"
    )
    print(f"pipeline: {declared:,.0f}/s with the declared language, {undeclared:,.0f}/s detecting every post,"
          f" {with_vader:,.0f}/s with plain VADER as the scorer")  # fmt: skip
    print("worst analysis of one post: " + ", ".join(f"{k} {v['ms']} ms ({v['shape']})" for k, v in costs.items())
          + f"; plain VADER on 20 KB: {vader_20kb_ms:,.0f} ms")  # fmt: skip
    print(json.dumps({
        "vader_per_s": round(vader_rate), "care_scorer_per_s": round(care_rate),
        "pipeline_per_s": round(declared), "pipeline_detecting_every_post_per_s": round(undeclared),
        "ratio": round(declared / care_rate, 3),
        "ratio_detecting_every_post": round(undeclared / care_rate, 3),
        "ratio_to_vader": round(declared / vader_rate, 3),
        "pipeline_with_plain_vader_per_s": round(with_vader),
        "worst_post_ms": {k: v["ms"] for k, v in costs.items()},
        "plain_vader_20kb_ms": round(vader_20kb_ms),
        "mentions": len(texts),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
