"""normalise → analyse: topics, sentiment, needs-response, trend terms — on the writer thread.

One :class:`Analyzer` is built from the config and reused for every batch; scoring a
whole batch at once keeps the per-mention overhead small.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.analysis.query import Query, parse
from app.analysis.rules import ResponseRules
from app.analysis.sentiment import Scorer, VaderScorer
from app.analysis.tokens import Doc, trend_terms
from app.config import Config
from app.model import Mention, sentiment_label


class Analyzer:
    def __init__(self, config: Config, scorer: Scorer | None = None) -> None:
        self.scorer: Scorer = scorer or VaderScorer()
        self.topics: list[tuple[str, Query]] = [(t.name, parse(t.query)) for t in config.topics]
        self.rules = ResponseRules(
            config.brand, config.rules, {t.name: t.kind for t in config.topics}
        )

    def analyse(self, mentions: Sequence[Mention]) -> None:
        """Fill the analysis fields of every mention in place."""
        texts = [f"{m.title}\n{m.text}" if m.title else m.text for m in mentions]
        scores = self.scorer.score_many(texts)
        topics = self.topics
        judge = self.rules.judge
        for m, text, score in zip(mentions, texts, scores, strict=True):
            doc = Doc.from_text(text)
            m.sentiment = score
            m.sentiment_label = sentiment_label(score)
            m.topics = [name for name, query in topics if query.matches(doc)]
            m.terms = trend_terms(doc)
            judge(m, doc.tokens)

    def excluded_terms(self, topic: str | None) -> frozenset[str]:
        """Terms a topic's own query looks for: always frequent there, never 'trending'."""
        return frozenset(
            term
            for name, query in self.topics
            if topic is None or name == topic
            for term in query.positive_terms()
        )
