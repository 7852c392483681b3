"""Train the care classifier and write ``config/sentiment/model.json``.

    .venv/bin/python scripts/train_sentiment.py [--out PATH]

Trained on labelled posts whose licence allows shipping what is learned from them:

* ``brand_emotions`` — "Judge Emotion About Brands and Products" (CrowdFlower, Public Domain
  on data.world), read from ``.peers/brands/`` or ``$WATCHFLOOR_BRAND_EMOTIONS``;
* ``care_dev`` — the care posts written and labelled for this project (MIT, in the repo).

Each set weighs the same, and inside a set each class does, so 215 care posts count as much
as 8,936 tweets about gadgets and a rare class as much as a common one. The features are the
care rules' reading of each post (:func:`app.analysis.classifier.dense_features`) and the
words and word pairs said in at least two training posts. Full-batch Adam from zero weights:
the same data give the same file. The regularisation was chosen on ``apple_tweets`` (not
trained on, not shipped); ``bench/sentiment.py`` reports every set apart.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.analysis.classifier import CLASSES, DENSE, dense_features, grams, model_path
from app.analysis.sentiment import CareRules, CareScorer, care_rules_path
from tests.analysis.sets import PUBLIC_SETS, care_set, public_path, public_set

TRAIN_SETS = ("brand_emotions", "care_dev")
L2_DENSE = 1e-4
L2_WORDS = 1e-3
EPOCHS = 300
RATE = 0.05
MIN_COUNT = 3
#: a word whose three weights all stay this close to zero says nothing: left out of the file
PRUNE = 0.05


def rows_of(name: str) -> list[tuple[str, str]]:
    if name in PUBLIC_SETS:
        path = public_path(name)
        if path is None:
            raise SystemExit(f"train_sentiment: {name} is not here; {PUBLIC_SETS[name][2]}")
        return public_set(name, path)
    return care_set(name)


def main() -> None:
    parser = argparse.ArgumentParser(description="train the care classifier")
    parser.add_argument("--out", type=Path, default=model_path())
    args = parser.parse_args()
    scorer = CareScorer(CareRules.load(care_rules_path()))  # the rules alone: the model's input
    sets = {name: rows_of(name) for name in TRAIN_SETS}
    labels: list[int] = []
    weights: list[float] = []
    dense: list[list[float]] = []
    said: list[list[str]] = []
    for rows in sets.values():
        counts = Counter(g for g, _ in rows)
        for gold, text in rows:
            score, tokens, valences = scorer.read_rules(text)
            dense.append(dense_features(score, valences, tokens, text))
            said.append(sorted(set(grams(text))))
            labels.append(CLASSES.index(gold))
            weights.append(1.0 / (len(sets) * len(counts) * counts[gold]))
    seen = Counter(g for gs in said for g in gs)
    vocabulary = sorted(g for g, n in seen.items() if n >= MIN_COUNT)
    index = {g: i for i, g in enumerate(vocabulary)}
    rows = np.array([i for i, gs in enumerate(said) for g in gs if g in index], dtype=np.int64)
    cols = np.array([index[g] for gs in said for g in gs if g in index], dtype=np.int64)
    x = np.array(dense)
    y = np.eye(3)[labels]
    w = np.array(weights) / sum(weights)
    wd = np.zeros((len(DENSE), 3))
    ws = np.zeros((len(vocabulary), 3))
    moments = [[np.zeros_like(wd), np.zeros_like(wd)], [np.zeros_like(ws), np.zeros_like(ws)]]
    for step in range(1, EPOCHS + 1):
        z = x @ wd
        np.add.at(z, rows, ws[cols])
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        g = (p - y) * w[:, None]
        gs = np.zeros_like(ws)
        np.add.at(gs, cols, g[rows])
        grads = (x.T @ g + L2_DENSE * wd, gs + L2_WORDS * ws)
        for weight, grad, (m, v) in zip((wd, ws), grads, moments, strict=True):
            m *= 0.9
            m += 0.1 * grad
            v *= 0.999
            v += 0.001 * grad * grad
            weight -= RATE * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
    kept = {
        g: [round(float(v), 4) for v in ws[i]]
        for g, i in index.items()
        if float(np.abs(ws[i]).max()) >= PRUNE
    }
    about = {
        "what": "care classifier: multinomial logistic regression over the care rules' reading"
        " and the words of a post",
        "trained_on": {name: len(rows) for name, rows in sets.items()},
        "sources": {
            "brand_emotions": "Judge Emotion About Brands and Products, CrowdFlower,"
            " data.world crowdflower/brands-and-product-emotions, Public Domain",
            "care_dev": "watchfloor's own labelled care posts (tests/analysis/data), MIT",
        },
        "regularisation": {"dense": L2_DENSE, "words": L2_WORDS, "chosen_on": "apple_tweets"},
        "words": len(kept),
        "written": datetime.now(UTC).strftime("%Y-%m-%d"),
    }
    data = {
        "about": about,
        "classes": list(CLASSES),
        "dense_features": list(DENSE),
        "dense": [[round(float(v), 4) for v in row] for row in wd],
        "words": kept,
    }
    args.out.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"wrote {args.out}: {len(kept):,} words of {len(vocabulary):,} kept")


if __name__ == "__main__":
    main()
