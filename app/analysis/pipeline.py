"""normalise → analyse: topics, language, sentiment, needs-response, trend terms — on the writer thread.

One :class:`Analyzer` is built from the config and reused for every batch.

A post's cost is bounded before anything reads it: its text is cut to
``[sentiment] max_text_chars`` (at a space near the cut, the full length kept in
``text_length``), and the scorer reads at most its head. A post in a language the scorer
cannot read is marked ``unscored``, never silently neutral.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.analysis.classifier import CareModel, model_path
from app.analysis.language import LanguageDetector
from app.analysis.query import Query, parse
from app.analysis.rules import ResponseRules
from app.analysis.sentiment import CareRules, CareScorer, Scorer, brand_weights, care_rules_path
from app.analysis.tokens import Doc, trend_terms
from app.config import Config, Sentiment
from app.model import UNSCORED, Mention

#: how far back from the cut a space is looked for, so a word is not split
_CUT_SLACK = 200


def build_scorer(settings: Sentiment) -> CareScorer:
    """The configured scorer: the care rules plus the brand's own terms and the care
    classifier over them, the rules alone, or VADER alone."""
    if settings.scorer == "vader":
        return CareScorer()
    rules = CareRules.load(care_rules_path())
    weights = brand_weights(settings.negative, settings.positive, settings.terms)
    model = CareModel.load(model_path()) if settings.scorer == "care" else None
    return CareScorer(rules.with_brand(weights) if weights else rules, model)


def cap_text(mention: Mention, limit: int) -> None:
    """Cut an over-long text to ``limit`` characters, keeping its full length."""
    text = mention.text
    if len(text) <= limit:
        return
    cut = text.rfind(" ", limit - _CUT_SLACK, limit)
    mention.text_length = len(text)
    mention.text = text[: cut if cut > 0 else limit]


class Analyzer:
    def __init__(self, config: Config, scorer: Scorer | None = None) -> None:
        settings = config.sentiment
        vocabulary: frozenset[str] = frozenset()
        if scorer is None:
            care = build_scorer(settings)
            scorer, vocabulary = care, care.vocabulary
        self.scorer: Scorer = scorer
        self.max_text = settings.max_text_chars
        self.scored_languages = frozenset(settings.scored_languages)
        self.languages = LanguageDetector(settings.languages, vocabulary)
        self.topics: list[tuple[str, Query]] = [(t.name, parse(t.query)) for t in config.topics]
        self.rules = ResponseRules(
            config.brand, config.rules, {t.name: t.kind for t in config.topics}
        )

    def analyse(self, mentions: Sequence[Mention]) -> None:
        """Fill the analysis fields of every mention in place.

        A post's prepared tokens live only while it is read (language, topics, terms),
        so a batch keeps little alive for the garbage collector to walk; the readable
        posts are then scored together, and triaged with their scores.
        """
        limit = self.max_text
        detect = self.languages.detect
        scored = self.scored_languages
        topics = self.topics
        texts: list[str | None] = []
        tokens: list[list[str]] = []
        for m in mentions:
            if len(m.text) > limit:
                cap_text(m, limit)
            if len(m.title) > limit:
                m.title = m.title[:limit]
            text = f"{m.title}\n{m.text}" if m.title else m.text
            doc = Doc.from_text(text)
            m.language = detect(doc.tokens, m.lang, text)
            m.topics = [name for name, query in topics if query.matches(doc)]
            m.terms = trend_terms(doc)
            texts.append(text if m.language is None or m.language in scored else None)
            tokens.append(doc.tokens)
        scores = iter(self.scorer.score_many([t for t in texts if t is not None]))
        label = self.scorer.label
        judge = self.rules.judge
        for m, readable, words in zip(mentions, texts, tokens, strict=True):
            if readable is not None:
                m.sentiment = next(scores)
                m.sentiment_label = label(m.sentiment)
            else:
                m.sentiment, m.sentiment_label = 0.0, UNSCORED
            judge(m, words)

    def excluded_terms(self, topic: str | None) -> frozenset[str]:
        """Terms a topic's own query looks for: always frequent there, never 'trending'."""
        return frozenset(
            term
            for name, query in self.topics
            if topic is None or name == topic
            for term in query.positive_terms()
        )
