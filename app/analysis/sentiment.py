"""Sentiment scoring behind a small interface, so the scorer can change without touching callers.

VADER is tuned for social media (emoticons, capitals, "!!!", slang) and needs no model
download: its lexicon ships inside the package.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class Scorer(Protocol):
    """Scores texts on −1 (most negative) … 1 (most positive)."""

    def score(self, text: str) -> float: ...

    def score_many(self, texts: Sequence[str]) -> list[float]: ...


class VaderScorer:
    """VADER's compound score."""

    def __init__(self) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._analyzer = SentimentIntensityAnalyzer()

    def score(self, text: str) -> float:
        return float(self._analyzer.polarity_scores(text)["compound"])

    def score_many(self, texts: Sequence[str]) -> list[float]:
        polarity = self._analyzer.polarity_scores
        return [float(polarity(t)["compound"]) for t in texts]
