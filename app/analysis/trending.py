"""Trending terms: what rose most against its *own* baseline, not what is merely frequent.

Terms are counted per 10-minute bucket and scope (every mention, and each topic). A
term's score is how far its recent count stands above what its history predicts, in
Poisson standard deviations, so a brand name that is always frequent does not trend
while a new hashtag does.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

TERM_BUCKET_S = 600


@dataclass(frozen=True, slots=True)
class Trend:
    term: str
    recent: int
    baseline: float  # the count its history predicts for the recent window
    score: float

    @property
    def rise(self) -> float:
        return self.recent / self.baseline if self.baseline > 0 else math.inf


class TermCounter:
    """Term counts of mentions seen since the last flush, per (scope, bucket)."""

    def __init__(self) -> None:
        self._counts: defaultdict[tuple[str, int], Counter[str]] = defaultdict(Counter)

    def add(self, scopes: Iterable[str], ts: float, terms: Iterable[str]) -> None:
        bucket = int(ts // TERM_BUCKET_S) * TERM_BUCKET_S
        terms = tuple(terms)
        for scope in scopes:
            self._counts[scope, bucket].update(terms)

    def drain(self) -> list[tuple[str, int, str, int]]:
        rows = [
            (scope, bucket, term, n)
            for (scope, bucket), counter in self._counts.items()
            for term, n in counter.items()
        ]
        self._counts.clear()
        return rows


def rising_terms(
    recent: Mapping[str, int],
    history_per_bucket: Mapping[str, float],
    recent_buckets: float,
    *,
    exclude: frozenset[str] = frozenset(),
    min_count: int = 3,
    min_rise: float = 2.0,
    limit: int = 15,
) -> list[Trend]:
    """The ``limit`` terms whose recent count rose most above their history's prediction.

    A term trends only if it at least ``min_rise``-folds its usual count: at high volume
    an everyday word that grows with the conversation (``delivery`` ×1.4 while everyone
    talks about a recall) is statistically significant but tells the room nothing.
    """
    trends = []
    for term, n in recent.items():
        if n < min_count or term in exclude:
            continue
        expected = history_per_bucket.get(term, 0.0) * recent_buckets
        if n < expected * min_rise:
            continue
        score = (n - expected) / math.sqrt(expected + 1.0)
        if score > 0:
            trends.append(Trend(term=term, recent=n, baseline=expected, score=score))
    trends.sort(key=lambda t: (-t.score, t.term))
    return trends[:limit]
