"""Stories: how well posts are grouped, and what grouping costs the ingest rate.

Grouping quality, on three kinds of set:

* **demo crisis** (labelled): the crisis of the demo source, about 1,300 posts in their own
  words, each labelled by the generator with the story it tells (burned, overheating,
  recall, overnight, press, replacement). Pairwise precision and recall and the adjusted
  Rand index over the crisis posts (a post left alone is its own cluster). The labels come
  from our own simulator, not from people, and the thresholds were chosen looking at it:
  it is the set we tuned on.
* **public tweets** (unlabelled, not tuned on): the 4,200 human-rated tweets of
  vaderSentiment 3.3.2's source distribution (MIT), all different posts by different
  people. No labels say which are the same story, so the figure is a bound on false
  grouping: the share of tweets put in a story, and the largest story.
* **public pairs** (labelled by people, not tuned on; never shipped, see
  ``bench/_pairs.py`` for the sets, their labels and where to get them): PIT-2015's
  Twitter Paraphrase Corpus (dev and test; train too when at hand) and the Twitter URL
  Corpus's test set, read from ``.peers/`` or the paths in ``$WATCHFLOOR_PIT2015`` and
  ``$WATCHFLOOR_TWITTER_URL``; ``--pairs FILE`` and ``--clusters FILE`` add others. The
  distinct sentences of a set go through the real writer in the file's order, one stream;
  a pair is called the same story when both land in one. Precision, recall and F1 of that
  on the labelled pairs (debatable ones dropped), beside the same rule on the pair alone
  (the detector's features and thresholds, no stream) and plain MinHash-Jaccard of the
  lower-cased words at the detector's threshold. A cluster file gives the adjusted Rand
  index and pairwise precision and recall, as the demo crisis does. Where a set names what
  both posts of a pair are about (PIT-2015: the trend), ``false_same_sharing_only_topic``
  counts the pairs wrongly put in one story that share no stem but that name's. For scale, on PIT-2015's
  test the reference systems' outputs in its repository score F1 0.266 (random), 0.589
  (logistic regression on word overlap), 0.536 (WTMF) and 0.696 (MultiP), all but random
  trained on its train set; the detector is not trained and sees each post once.

Ingest: the bench batch of ``bench/ingest.py`` (those tweets repeated with fresh ids, so
four posts in five are copies of an earlier one) through the real store writer, with
stories on and off, alternating, best of ``--runs``; and, steadier on a shared machine, the
share of the stories-on run spent grouping.
Beside it, the cost of one post's MinHash and LSH query+insert in rensa (what runs) and
in datasketch (the library first considered), on the same shingles.

Prints one JSON object on its last line.
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.analysis.tokens import Doc, trend_terms
from app.config import Config, DemoSourceConfig, load_config
from app.model import Mention
from app.resources import demo_config_path
from app.sources.base import SourceContext
from app.sources.demo import DemoSource
from app.store.db import open_reader
from app.store.writer import IngestBatch, StoreWriter
from app.stories.detector import BANDS, NUM_PERM, SEED, StoryParams
from app.stories.features import Shingler
from bench._pairs import Pair, public_sets, read_clusters, read_pairs
from tests.datasets import vader_ground_truth

START = 1_780_000_000.0


def _mentions(texts: list[str], tag: str) -> list[Mention]:
    start = datetime.now(UTC) - timedelta(hours=2)
    return [
        Mention(network="bench", native_id=f"{tag}{i}", source="bench", text=text,
                created_at=start + timedelta(milliseconds=150 * i), author=f"@user{i % 997}",
                author_followers=(i * 37) % 50_000, engagement=i % 11)
        for i, text in enumerate(texts)
    ]  # fmt: skip


def _groups(config: Config, mentions: list[Mention], page: int = 2000) -> dict[str, int]:
    """Store ``mentions`` through the real writer; the story of each grouped one."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "stories.db"
        with StoreWriter(db, config, maintenance=False) as w:
            for i in range(0, len(mentions), page):
                w.submit(IngestBatch("bench", "bench", mentions[i : i + page], {"n": i})).result()
        conn = open_reader(db)
        out = dict(conn.execute("SELECT mention_id, story_id FROM story_members").fetchall())
        conn.close()
    return out


def _pair_counts(labels: list[str], predicted: list[str]) -> tuple[int, int, int, int]:
    """Pairs together in both, in the truth only, in the prediction only, and all pairs."""
    both = truth = pred = 0
    n = len(labels)
    for i, j in combinations(range(n), 2):
        t, p = labels[i] == labels[j], predicted[i] == predicted[j]
        both += t and p
        truth += t
        pred += p
    return both, truth, pred, n * (n - 1) // 2


def adjusted_rand(labels: list[str], predicted: list[str]) -> float:
    """Hubert and Arabie's adjusted Rand index from the contingency table."""

    def c2(x: int) -> float:
        return x * (x - 1) / 2

    n = len(labels)
    cells = Counter(zip(labels, predicted, strict=True))
    a = Counter(labels)
    b = Counter(predicted)
    index = sum(c2(v) for v in cells.values())
    sa, sb = sum(c2(v) for v in a.values()), sum(c2(v) for v in b.values())
    expected = sa * sb / c2(n)
    top = (sa + sb) / 2
    return (index - expected) / (top - expected) if top != expected else 1.0


def demo_crisis(config: Config) -> dict[str, float]:
    (src_config,) = [s for s in config.sources if isinstance(s, DemoSourceConfig)]
    src = DemoSource(src_config, SourceContext(), started=START)
    src.labels = {}
    end = START + (src_config.crisis_first_min + src_config.crisis_length_min) * 60
    posts = src.generate(START - 3600, end, seed=5, counter=0)
    grouped = _groups(config, posts)
    ids = sorted(src.labels)
    labels = [src.labels[i] for i in ids]
    predicted = [str(grouped[i]) if i in grouped else f"alone:{i}" for i in ids]
    both, truth, pred, _ = _pair_counts(labels, predicted)
    crisis_stories = {grouped[i] for i in ids if i in grouped}
    calm_in_crisis_stories = sum(
        1 for m in posts if m.id not in src.labels and grouped.get(m.id) in crisis_stories
    )
    sizes = Counter(grouped[i] for i in ids if i in grouped)
    return {
        "posts": len(ids),
        "true_stories": len(set(labels)),
        "pair_precision": round(both / pred, 3) if pred else 0.0,
        "pair_recall": round(both / truth, 3) if truth else 0.0,
        "adjusted_rand": round(adjusted_rand(labels, predicted), 3),
        "grouped_share": round(sum(1 for i in ids if i in grouped) / len(ids), 3),
        "stories_for_90pct": _stories_for(sizes, 0.9 * len(ids)),
        "calm_posts_in_crisis_stories": calm_in_crisis_stories,
    }


def _stories_for(sizes: Counter[int], target: float) -> int:
    total = 0
    for k, (_, n) in enumerate(sizes.most_common(), start=1):
        total += n
        if total >= target:
            return k
    return len(sizes)


def public_tweets(config: Config) -> dict[str, float]:
    tweets = [text for _, text in vader_ground_truth()]
    grouped = _groups(config, _mentions(tweets, "t"))
    sizes = Counter(grouped.values())
    return {
        "tweets": len(tweets),
        "grouped_share": round(len(grouped) / len(tweets), 4),
        "stories": len(sizes),
        "largest_story": max(sizes.values(), default=0),
    }


def _prf(truth: list[bool], said: list[bool]) -> dict[str, float]:
    tp = sum(t and s for t, s in zip(truth, said, strict=True))
    called, real = sum(said), sum(truth)
    precision = tp / called if called else 0.0
    recall = tp / real if real else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3)}


def _words(text: str) -> list[str]:
    return sorted(set(re.findall(r"\w+", text.lower())))


def _alike(a: list[str], b: list[str], threshold: float) -> bool:
    """Estimated Jaccard of two feature sets (96 hash minima, as the detector) at a threshold."""
    from rensa import RMinHash

    if not a or not b:
        return False
    ma, mb = RMinHash(num_perm=NUM_PERM, seed=SEED), RMinHash(num_perm=NUM_PERM, seed=SEED)
    ma.update(a)
    mb.update(b)
    return bool(ma.jaccard(mb) >= threshold)


def pair_quality(config: Config, pairs: list[Pair], tag: str) -> dict[str, object]:
    """Same story or not, against people's paraphrase labels, three ways (module docstring)."""
    texts = list(dict.fromkeys(t for p in pairs for t in (p.a, p.b)))
    mentions = _mentions(texts, tag)
    grouped = _groups(config, mentions)
    story = {t: grouped.get(m.id) for t, m in zip(texts, mentions, strict=True)}
    truth = [p.same for p in pairs]
    streamed = [p.a == p.b or (story[p.a] is not None and story[p.a] == story[p.b])
                for p in pairs]  # fmt: skip
    params = StoryParams()
    shingler = Shingler()
    features: dict[str, tuple[list[str], bool]] = {}
    for t in texts:
        sh = shingler.shingles(trend_terms(Doc.from_text(t)))
        features[t] = (sh, shingler.last_stems < params.short_stems)
    alone = []
    for p in pairs:
        (fa, short_a), (fb, short_b) = features[p.a], features[p.b]
        limit = params.short_threshold if short_a or short_b else params.threshold
        alone.append(p.a == p.b or _alike(fa, fb, limit))
    plain = [p.a == p.b or _alike(_words(p.a), _words(p.b), params.threshold) for p in pairs]
    out: dict[str, object] = {
        "pairs": len(pairs),
        "paraphrases": sum(truth),
        "sentences": len(texts),
        "grouped_share": round(sum(1 for t in texts if story[t] is not None) / len(texts), 3),
        "stream": _prf(truth, streamed),
        "pair_alone": _prf(truth, alone),
        "plain_minhash": _prf(truth, plain),
    }
    if any(p.topic for p in pairs):
        wrong = [p for p, t, s in zip(pairs, truth, streamed, strict=True) if s and not t]
        import Stemmer

        stem = Stemmer.Stemmer("english").stemWords
        out["false_same_sharing_only_topic"] = sum(_only_topic_shared(p, stem) for p in wrong)
        out["false_same"] = len(wrong)
    return out


def _only_topic_shared(pair: Pair, stem: Callable[[list[str]], list[str]]) -> bool:
    """Do the two posts share no stem but those of what they are about (a trend's name)?"""

    def stems(text: str) -> set[str]:
        return set(stem([t.lstrip("#") for t in trend_terms(Doc.from_text(text))]))

    return stems(pair.a) & stems(pair.b) <= stems(pair.topic)


def cluster_quality(config: Config, posts: list[tuple[str, str]], tag: str) -> dict[str, object]:
    """Adjusted Rand index and pairwise precision and recall on a labelled cluster file."""
    mentions = _mentions([text for _, text in posts], tag)
    grouped = _groups(config, mentions)
    labels = [cluster for cluster, _ in posts]
    predicted = [str(grouped[m.id]) if m.id in grouped else f"alone:{m.id}" for m in mentions]

    def pairs(counts: Counter[object]) -> int:
        return sum(n * (n - 1) // 2 for n in counts.values())

    both = pairs(Counter(zip(labels, predicted, strict=True)))
    truth, pred = pairs(Counter(labels)), pairs(Counter(predicted))
    return {
        "posts": len(posts),
        "true_clusters": len(set(labels)),
        "pair_precision": round(both / pred, 3) if pred else 0.0,
        "pair_recall": round(both / truth, 3) if truth else 0.0,
        "adjusted_rand": round(adjusted_rand(labels, predicted), 3),
        "grouped_share": round(len(set(grouped) & {m.id for m in mentions}) / len(posts), 3),
    }


def public_labelled(
    config: Config, pair_files: list[Path], cluster_files: list[Path]
) -> dict[str, object]:
    """Every public labelled set at hand; where to get the ones that are not, under "missing"."""
    found, missing = public_sets()
    out: dict[str, object] = {}
    for k, path in enumerate([*found.values(), *pair_files]):
        name = next((n for n, p in found.items() if p == path), f"pairs:{path.name}")
        out[name] = pair_quality(config, read_pairs(path), f"p{k}-")
        print(f"{name} (labelled by people; not tuned on):", out[name], file=sys.stderr)
    for k, path in enumerate(cluster_files):
        name = f"clusters:{path.name}"
        out[name] = cluster_quality(config, read_clusters(path), f"c{k}-")
        print(f"{name}:", out[name], file=sys.stderr)
    for name, where in missing.items():
        print(f"{name}: not here; {where}", file=sys.stderr)
    if missing:
        out["missing"] = missing
    return out


def ingest_rate(
    config: Config, texts: list[str], page: int, stories: bool, tag: str
) -> tuple[float, float]:
    """Mentions a second through the real writer, and the share of that time in stories."""
    mentions = _mentions(texts, tag)
    spent = [0.0]
    with tempfile.TemporaryDirectory() as tmp:
        writer = StoreWriter(Path(tmp) / "bench.db", config, maintenance=False).start()
        if not stories:
            writer.stories = None
        else:
            assert writer.stories is not None
            add = writer.stories.add

            def timed(conn: sqlite3.Connection, batch: Sequence[Mention]) -> set[int]:
                t0 = time.perf_counter()
                try:
                    return add(conn, batch)
                finally:
                    spent[0] += time.perf_counter() - t0

            writer.stories.add = timed  # type: ignore[method-assign, assignment]
        # warm up: the language models load on first use, once per process
        writer.submit(IngestBatch("bench", "bench", _mentions(texts[:50], "w" + tag), {})).result()
        spent[0] = 0.0
        t = time.perf_counter()
        futures = [
            writer.submit(IngestBatch("bench", "bench", mentions[i : i + page], {"n": i}))
            for i in range(0, len(mentions), page)
        ]
        stored = sum(f.result().stored for f in futures)
        elapsed = time.perf_counter() - t
        writer.close()
    assert stored == len(mentions), stored
    return len(mentions) / elapsed, spent[0] / elapsed


def per_post_us(texts: list[str]) -> dict[str, float]:
    """MinHash + LSH query and insert of one post, rensa against datasketch."""
    from datasketch import MinHash, MinHashLSH  # type: ignore[import-untyped]
    from rensa import RMinHash, RMinHashLSH

    sh = Shingler()
    sets = [s for s in (sh.shingles(trend_terms(Doc.from_text(t))) for t in texts) if s]
    p = StoryParams()
    t = time.perf_counter()
    lsh = RMinHashLSH(threshold=p.threshold, num_perm=NUM_PERM, num_bands=BANDS)
    for k, s in enumerate(sets):
        m = RMinHash(num_perm=NUM_PERM, seed=SEED)
        m.update(s)
        lsh.query(m)
        lsh.insert(k, m)
    rensa_us = (time.perf_counter() - t) / len(sets) * 1e6
    few = sets[:1000]
    t = time.perf_counter()
    dlsh = MinHashLSH(threshold=p.threshold, num_perm=NUM_PERM)
    for k, s in enumerate(few):
        dm = MinHash(num_perm=NUM_PERM)
        dm.update_batch([x.encode() for x in s])
        dlsh.query(dm)
        dlsh.insert(str(k), dm)
    datasketch_us = (time.perf_counter() - t) / len(few) * 1e6
    return {"rensa_us": round(rensa_us, 1), "datasketch_us": round(datasketch_us, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=20_000)
    ap.add_argument("--page", type=int, default=2_000)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--pairs", type=Path, action="append", default=[],
                    help="another labelled pair file (a<TAB>b<TAB>label)")  # fmt: skip
    ap.add_argument("--clusters", type=Path, action="append", default=[],
                    help="a labelled cluster file (cluster<TAB>text)")  # fmt: skip
    ap.add_argument("--quality-only", action="store_true", help="no ingest runs")
    args = ap.parse_args()
    config = load_config(demo_config_path())
    crisis = demo_crisis(config)
    print("demo crisis (labelled by the simulator; tuned on):", crisis, file=sys.stderr)
    public = public_tweets(config)
    print("public tweets (no labels; not tuned on):", public, file=sys.stderr)
    labelled = public_labelled(config, args.pairs, args.clusters)
    if args.quality_only:
        print(json.dumps({"demo_crisis": crisis, "public_tweets": public,
                          "public_labelled": labelled}))  # fmt: skip
        return
    tweets = [text for _, text in vader_ground_truth()]
    texts = [tweets[i % len(tweets)] for i in range(args.size)]
    on: list[float] = []
    off: list[float] = []
    share: list[float] = []
    for run in range(args.runs):
        off.append(ingest_rate(config, texts, args.page, False, f"off{run}-")[0])
        rate, part = ingest_rate(config, texts, args.page, True, f"on{run}-")
        on.append(rate)
        share.append(part)
        print(f"run {run}: off {off[-1]:.0f}/s, on {on[-1]:.0f}/s, {part:.1%} of it in stories",
              file=sys.stderr)  # fmt: skip
    cost = per_post_us(tweets)
    result = {
        "demo_crisis": crisis,
        "public_tweets": public,
        "public_labelled": labelled,
        "ingest_off_per_s": round(max(off)),
        "ingest_on_per_s": round(max(on)),
        "ratio": round(max(on) / max(off), 3),
        # the same, steadier on a shared machine: 1 − the share of the on-run spent in stories
        "stories_share_of_ingest": round(min(share), 3),
        "ratio_from_share": round(1 - min(share), 3),
        "mentions": args.size,
        "per_post": cost,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
