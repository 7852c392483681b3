"""The care classifier: a linear model over the care rules' reading and the post's own words.

The rules know what a complaint sounds like in words a lexicon scores; people who label
posts also hear what no lexicon scores ("another software update? really?", "make some
better chargers"). A multinomial logistic regression, trained by
``scripts/train_sentiment.py`` on labelled posts whose licence allows shipping, weighs both:
a few figures of the rules' reading (:func:`dense_features`) and the post's words and word
pairs. Where the rules are unsure it names the class; :func:`place` puts the score inside
that class's interval, so ``sentiment_label(score)`` — the one boundary every view uses —
is the class it chose.

The weights ship in ``config/sentiment/model.json``; nothing is downloaded, and reading a
post costs a dictionary look-up per word.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

#: the classes in the order of the model's weights
CLASSES = ("negative", "neutral", "positive")
#: how much of the score's place inside its class comes from the rules' score (the rest from
#: the model's positive-minus-negative probability): the rules keep the intensity a reader
#: hears, the model the class
RULES_SHARE = 0.7
#: the model names the class only where the rules are unsure: their score within ±this, and
#: no word of complaint in a post they read as negative ("lost all my photos, what can I
#: do?" is a complaint, whatever a question mark suggests) …
RULES_SURE = 0.3
#: … and, where it disagrees with the rules, only with at least this probability
MODEL_SURE = 0.5
#: the edge of the neutral class (:func:`app.model.sentiment_label`)
_CUT = 0.05
_NEUTRAL_EDGE = 0.049

_LINK_OR_HANDLE = re.compile(r"https?://\S+|www\.\S+|@\w+")
_WORD = re.compile(r"[a-z0-9']+|[!?]")
#: words too common to tell an operator why ("the", "my"): weighed, never named
_UNTOLD = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "at",
        "be",
        "for",
        "i",
        "in",
        "is",
        "it",
        "me",
        "my",
        "of",
        "on",
        "so",
        "the",
        "this",
        "to",
        "was",
        "we",
        "you",
        "your",
    ]
)
#: the names of :func:`dense_features`, in order (the model file must list the same)
DENSE = (
    "rules_score",
    "praise",
    "complaint",
    "rules_positive",
    "rules_negative",
    "question",
    "exclamations",
    "link",
    "length",
    "plain_complaint",
    "bias",
)


def dense_features(
    score: float, valences: Sequence[float], shown: Sequence[str], text: str
) -> list[float]:
    """What the rules read in a post, as the model's dense inputs (see :data:`DENSE`).

    ``score`` is the rules' calibrated score, ``valences`` the valence of each token read,
    ``shown`` the tokens as an explanation shows them (a cue reads "didn't (not done)").
    """
    praise = sum(v for v in valences if v > 0)
    complaint = sum(v for v in valences if v < 0)
    return [
        score,
        praise / 4,
        complaint / 4,
        float(score >= _CUT),
        float(score <= -_CUT),
        float("?" in text),
        min(text.count("!"), 3) / 3,
        float("http" in text or "www." in text),
        min(text.count(" ") + 1, 40) / 40,
        float(any(t.endswith(")") and " (" in t for t in shown)),
        1.0,
    ]


def grams(text: str) -> list[str]:
    """The words and word pairs the model weighs: lower case, links and handles left out."""
    words = _WORD.findall(_LINK_OR_HANDLE.sub(" ", text.lower()))
    return words + [f"{a} {b}" for a, b in pairwise(words)]


@dataclass(frozen=True, slots=True)
class Reading:
    """The model's view of one post."""

    #: P(negative), P(neutral), P(positive)
    probabilities: tuple[float, float, float]
    #: the words and pairs that pushed towards the chosen class, strongest first
    words: list[tuple[str, float]]

    @property
    def label(self) -> str:
        p = self.probabilities
        return CLASSES[max(range(3), key=p.__getitem__)]


class CareModel:
    """Weights of the care classifier: per dense feature and per word, one for each class."""

    def __init__(
        self,
        dense: Sequence[Sequence[float]],
        words: dict[str, Sequence[float]],
        about: dict[str, object],
    ) -> None:
        if len(dense) != len(DENSE) or any(len(w) != 3 for w in dense):
            raise ValueError(f"the model has {len(dense)} dense weights; {len(DENSE)} expected")
        self._dense = [(float(w[0]), float(w[1]), float(w[2])) for w in dense]
        self._words = {g: (float(w[0]), float(w[1]), float(w[2])) for g, w in words.items()}
        self.about = about

    @classmethod
    def load(cls, path: Path) -> CareModel:
        """The model of a JSON file written by ``scripts/train_sentiment.py``."""
        data = json.loads(path.read_text(encoding="utf-8"))
        if list(data.get("dense_features", [])) != list(DENSE):
            raise ValueError(f"{path}: its dense features are not this program's {DENSE}")
        return cls(data["dense"], data["words"], data.get("about", {}))

    def read(self, dense: Sequence[float], text: str, explain: bool = False) -> Reading:
        """P(class) of a post from its dense features and its text."""
        z = [0.0, 0.0, 0.0]
        for x, w in zip(dense, self._dense, strict=True):
            if x:
                z[0] += x * w[0]
                z[1] += x * w[1]
                z[2] += x * w[2]
        weights = self._words
        found: list[tuple[str, tuple[float, float, float]]] = []
        for g in dict.fromkeys(grams(text)):  # each once, in the text's order: the same sum and ties on every machine
            gw = weights.get(g)
            if gw is not None:
                z[0] += gw[0]
                z[1] += gw[1]
                z[2] += gw[2]
                if explain:
                    found.append((g, gw))
        top = max(z)
        e = [math.exp(v - top) for v in z]
        total = sum(e)
        p = (e[0] / total, e[1] / total, e[2] / total)
        words: list[tuple[str, float]] = []
        if explain:
            c = max(range(3), key=p.__getitem__)
            # how much more a word says for the chosen class than for the other two
            margins = [
                (g, w[c] - max(w[k] for k in range(3) if k != c))
                for g, w in found
                if g not in _UNTOLD and not all(part in _UNTOLD for part in g.split())
            ]
            words = sorted(((g, round(m, 2)) for g, m in margins if m > 0), key=lambda x: -x[1])
        return Reading(p, words)


def place(reading: Reading, rules_score: float) -> float:
    """A score inside the chosen class's interval: ≤ −0.05, within ±0.049, or ≥ 0.05.

    Its place inside the interval blends the rules' score with P(positive) − P(negative),
    so a fierce complaint still scores lower than a mild one and scores keep their order
    with the human ratings (Pearson r on VADER's tweets is measured by the benchmark).
    """
    p = reading.probabilities
    v = RULES_SHARE * rules_score + (1 - RULES_SHARE) * (p[2] - p[0])
    label = reading.label
    if label == "positive":
        return _CUT + (1 - _CUT) * min(max(v, 0.0), 1.0)
    if label == "negative":
        return -_CUT - (1 - _CUT) * min(max(-v, 0.0), 1.0)
    return _NEUTRAL_EDGE * max(-1.0, min(1.0, v))


def model_path() -> Path:
    from app.resources import data_dir

    return data_dir("config") / "sentiment" / "model.json"
