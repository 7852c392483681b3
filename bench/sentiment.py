"""Sentiment and triage quality: the care scorer beside plain VADER on every set at hand.

Sets (see ``tests/analysis/sets.py``):

* ``care_dev`` — customer-care posts addressed to brands, labelled by hand for this project
  (215: 100 first, then 115 written the way people write to care accounts — waiting times,
  polite complaints, requests and replies). **The care rules are tuned on it, and the care
  classifier is trained on it.**
* ``brand_emotions`` — 8,936 tweets about Apple and Google products labelled by Crowdflower
  contributors (data.world, Public Domain). **The care classifier is trained on it.**
* ``apple_tweets`` — 3,804 tweets with ``#AAPL`` or ``@apple`` labelled by Crowdflower
  contributors (licence not stated: read here, never shipped). **The rules added with the
  classifier, its regularisation and where it may overrule the rules were chosen on it.**
* ``care_check`` — written and labelled the same way at the same time, never tuned on.
* VADER's four human-rated sets from the ``vaderSentiment==3.3.2`` source distribution (MIT):
  tweets, Amazon review snippets, movie review snippets, NYT editorial snippets (mean rating
  −4…4; ≥ 0.5 positive, ≤ −0.5 negative, else neutral). Never tuned on.
* ``care_fresh`` — 66 more care posts to other brands, written before the triage ladder and
  the rule changes after it, never tuned on (its figures, like every set's here, were printed
  after each later change; no change was chosen or dropped for them).
* ``airline_tweets`` — the Twitter US Airline Sentiment set (14,640 tweets to six US airlines
  labelled by Crowdflower contributors; CC BY-NC-SA 4.0, so read here and never shipped).
  Not in the repository: the bench reads it from ``$WATCHFLOOR_AIRLINE_TWEETS`` or
  ``.peers/airline/Tweets.csv`` and says where to get it when it is missing. Never tuned on.

Three scorers: plain VADER (the baseline), the care rules alone (``scorer = "rules"``) and the
shipped care scorer (the rules and the care classifier over them, ``scorer = "care"``).
The two public sets above, like the airline tweets, are read from ``.peers/`` or their
environment variables (``tests/analysis/sets.py``) and reported missing when absent.

For each set and scorer: macro-F1 over negative/neutral/positive, the share of negatives
scored positive, and Pearson r against the mean rating where there is one. Triage: the
pairwise AUC that a negative post addressed to us gets a more urgent queue priority than a
positive one (ties count half), through the real analysis pipeline. The care scorer is
measured with the shipped rules alone, as every brand starts (no ``[sentiment]`` terms).

Prints one JSON object on its last line.
"""

from __future__ import annotations

import json
import statistics
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.analysis.pipeline import Analyzer
from app.analysis.sentiment import Scorer, VaderScorer
from app.config import Sentiment, load_config
from app.model import Mention
from app.resources import demo_config_path
from tests.analysis.sets import (
    CARE_SETS,
    PUBLIC_SETS,
    VADER_SETS,
    care_set,
    public_path,
    public_set,
    rated_label,
    vader_rated,
)

CLASSES = ("negative", "neutral", "positive")
TUNED_ON = ("care_dev", "brand_emotions", "apple_tweets")


def macro_f1(gold: list[str], pred: list[str]) -> float:
    scores = []
    for c in CLASSES:
        tp = sum(g == c and p == c for g, p in zip(gold, pred, strict=True))
        fp = sum(g != c and p == c for g, p in zip(gold, pred, strict=True))
        fn = sum(g == c and p != c for g, p in zip(gold, pred, strict=True))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        scores.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return sum(scores) / len(scores)


def evaluate(
    scorer: Scorer, texts: list[str], gold: list[str], ratings: list[float] | None
) -> dict[str, float | None]:
    scores = scorer.score_many(texts)
    pred = [scorer.label(s) for s in scores]
    negatives = [p for g, p in zip(gold, pred, strict=True) if g == "negative"]
    return {
        "macro_f1": round(macro_f1(gold, pred), 3),
        "neg_as_pos": round(sum(p == "positive" for p in negatives) / len(negatives), 3),
        "pearson_r": round(statistics.correlation(ratings, scores), 3) if ratings else None,
    }


def triage_auc(analyzer: Analyzer, rows: list[tuple[str, str]]) -> float:
    """P(a negative post to us is more urgent than a positive one), ties half."""
    now = datetime.now(UTC)
    mentions = [Mention(network="bench", native_id=str(i), source="bench", text=text, created_at=now,
                        author="@customer", lang="en", directed_at_us=True)
                for i, (_, text) in enumerate(rows)]  # fmt: skip
    analyzer.analyse(mentions)
    prio = [m.priority if m.needs_response else 9 for m in mentions]
    neg = [p for p, (g, _) in zip(prio, rows, strict=True) if g == "negative"]
    pos = [p for p, (g, _) in zip(prio, rows, strict=True) if g == "positive"]
    wins = sum((a < b) + 0.5 * (a == b) for a in neg for b in pos)
    return round(wins / (len(neg) * len(pos)), 3)


def main() -> None:
    # the shipped scorer as every brand starts with it (no brand's own terms)
    config = load_config(demo_config_path()).model_copy(update={"sentiment": Sentiment()})
    care = Analyzer(config)
    rules_only = config.model_copy(update={"sentiment": Sentiment(scorer="rules")})
    rules = Analyzer(rules_only)
    plain = Analyzer(config, scorer=VaderScorer())
    scorers = {"vader": plain, "rules": rules, "care": care}
    sets: dict[str, dict[str, object]] = {}
    auc: dict[str, dict[str, float]] = {}
    missing: dict[str, str] = {}
    here: dict[str, list[tuple[str, str]]] = {}
    for name in PUBLIC_SETS:
        path = public_path(name)
        rows = public_set(name, path) if path is not None else []
        if len({g for g, _ in rows}) == 3:
            here[name] = rows
            continue
        # a copy re-saved with other separators reads as no labelled rows: not a set of no negatives
        where = "not here" if path is None else f"{path} holds no labelled rows of the original export"
        missing[name] = PUBLIC_SETS[name][2]
        print(f"{name}: {where}; {missing[name]}", flush=True)
    names = (*CARE_SETS, *here, *VADER_SETS)
    for name in names:
        addressed_set = name in CARE_SETS or name in here
        if addressed_set:
            rows = care_set(name) if name in CARE_SETS else here[name]
            ratings = None
            gold = [g for g, _ in rows]
            texts = [t for _, t in rows]
        else:
            rated = vader_rated(name)
            ratings = [r for r, _ in rated]
            gold = [rated_label(r) for r in ratings]
            texts = [t for _, t in rated]
        sets[name] = {
            "n": len(texts),
            "tuned_on": name in TUNED_ON,
            **{k: evaluate(a.scorer, texts, gold, ratings) for k, a in scorers.items()},
        }
        if addressed_set or name == "tweets":
            # posts addressed to us: the care and public sets are about brands; tweets made so
            addressed = [
                (g, t if addressed_set else f"@lumio {t}") for g, t in zip(gold, texts, strict=True)
            ]
            auc[name] = {k: triage_auc(a, addressed) for k, a in scorers.items()}
        s = sets[name]
        print(f"{name:22} n={len(texts):5}  {'(tuned on)' if name in TUNED_ON else '':10}"
              f" VADER {s['vader']}  rules {s['rules']}  care {s['care']}", flush=True)  # fmt: skip
    for name, a in auc.items():
        print(f"triage AUC {name:14} VADER {a['vader']:.3f}  rules {a['rules']:.3f}"
              f"  care {a['care']:.3f}")  # fmt: skip
    held = [n for n in sets if n not in TUNED_ON]
    print(json.dumps({"tuned_on": [n for n in TUNED_ON if n in sets], "not_tuned_on": held,
                      "sets": sets, "triage_auc": auc, "missing": missing}))  # fmt: skip


if __name__ == "__main__":
    main()
