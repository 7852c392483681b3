"""VADER through our scorer interface against 4,200 human-rated tweets (Pearson r ≥ 0.85)."""

from __future__ import annotations

import statistics

from app.analysis.sentiment import VaderScorer
from tests.datasets import vader_ground_truth


def test_pearson_against_human_ratings() -> None:
    rows = vader_ground_truth()
    assert len(rows) == 4200
    scores = VaderScorer().score_many([text for _, text in rows])
    r = statistics.correlation([rating for rating, _ in rows], scores)
    assert r >= 0.85, f"Pearson r = {r:.3f}"


def test_scores_are_bounded_and_signed() -> None:
    scorer = VaderScorer()
    assert scorer.score("I love this phone, it is great!!! :)") > 0.5
    assert scorer.score("Worst service ever, I hate it") < -0.5
    assert -0.05 < scorer.score("The store opens at nine") < 0.05
    assert all(-1 <= s <= 1 for s in scorer.score_many(["", "!!!", "😡" * 50]))


def test_the_pipeline_scorer_is_bounded_signed_and_reads_emoji() -> None:
    from app.analysis.pipeline import build_scorer
    from app.config import Sentiment

    scorer = build_scorer(Sentiment())
    assert scorer.score("I love this phone, it is great!!! :)") > 0.5
    assert scorer.score("Worst service ever, I hate it") < -0.5
    assert scorer.label(scorer.score("The store opens at nine")) == "neutral"
    assert scorer.score("😡 🤬 😤") < -0.5  # plain VADER finds no scored word in their names
    assert VaderScorer().score("😡 🤬 😤") > -0.05
    assert all(-1 <= s <= 1 for s in scorer.score_many(["", "!!!", "😡" * 50, "no " * 10_000]))
