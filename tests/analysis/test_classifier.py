"""The care classifier: where the rules are unsure it names the class, and says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.analysis.classifier import DENSE, CareModel, model_path
from app.analysis.pipeline import build_scorer
from app.analysis.sentiment import CareScorer
from app.config import Sentiment
from tests.analysis.sets import CARE_SETS, care_set


@pytest.fixture(scope="module")
def care() -> CareScorer:
    return build_scorer(Sentiment())


@pytest.fixture(scope="module")
def rules() -> CareScorer:
    return build_scorer(Sentiment(scorer="rules"))


def test_a_complaint_in_plain_words_the_rules_miss_is_read_as_one(
    care: CareScorer, rules: CareScorer
) -> None:
    text = "@mobix your app says I owe money I already paid"  # care_check: never trained on
    assert rules.label(rules.score(text)) == "neutral"
    why = care.explain(text)
    assert why.label == "negative" and why.score <= -0.05
    note = why.notes[-1]
    assert note.startswith("read as negative (") and "the rules alone: neutral" in note
    assert "“money”" in note and "“my”" not in note  # words an operator can weigh, not "my"


def test_a_question_with_a_kind_word_is_no_praise(care: CareScorer, rules: CareScorer) -> None:
    text = "@voltphone which charger do you recommend for the 12 Pro?"
    assert rules.label(rules.score(text)) == "positive"
    assert care.label(care.score(text)) == "neutral"


def test_the_rules_keep_a_post_with_a_word_of_complaint(care: CareScorer) -> None:
    # a question mark is what the brand tweets call neutral; "lost" makes this a complaint
    for text in ("@lumio my phone lost all my photos today, what can I do?",
                 "anyone else's Lumio X overheating on the charger?"):  # fmt: skip
        why = care.explain(text)
        assert why.label == "negative" and not any(n.startswith("read as") for n in why.notes)


def test_every_score_names_its_class_by_the_one_boundary(care: CareScorer) -> None:
    texts = [t for name in CARE_SETS for _, t in care_set(name)]
    for text, score in zip(texts, care.score_many(texts), strict=True):
        assert care.explain(text).label == care.label(score)
        assert -1.0 <= score <= 1.0


def test_a_brand_term_still_moves_a_post_the_model_would_read(care: CareScorer) -> None:
    brand = build_scorer(Sentiment(negative=["runs warm"]))
    text = "@lumio my new phone runs warm"
    assert care.label(care.score(text)) != "negative"
    assert brand.label(brand.score(text)) == "negative"


def test_the_shipped_model_names_its_sources_and_a_foreign_file_is_refused(tmp_path: Path) -> None:
    data = json.loads(model_path().read_text(encoding="utf-8"))
    assert set(data["about"]["trained_on"]) == {"brand_emotions", "care_dev"}
    assert "Public Domain" in data["about"]["sources"]["brand_emotions"]
    assert data["dense_features"] == list(DENSE)
    data["dense_features"] = data["dense_features"][:-1]
    other = tmp_path / "model.json"
    other.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match="dense features"):
        CareModel.load(other)


def test_a_post_reads_the_same_on_every_machine() -> None:
    """Two processes (two stations of a room) give a post the same score, to the last bit,
    and the same words in the same order: set order changes with each process's hash seed."""
    import os
    import subprocess
    import sys

    script = (
        "from app.analysis.pipeline import build_scorer\n"
        "from app.config import Sentiment\n"
        "s = build_scorer(Sentiment())\n"
        "for t in ['My phone apps dies faster than ever, look what you did', "
        "'what you look at is what you get, what a day', '@mobix your app says I owe money I already paid']:\n"
        "    e = s.explain(t)\n"
        "    print(repr(e.score), e.notes)\n"
    )
    def run(seed: str) -> str:
        env = {**os.environ, "PYTHONHASHSEED": seed}
        return subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env, timeout=120
        ).stdout

    outs = {run(seed) for seed in ("1", "2", "3")}
    assert len(outs) == 1, outs
    assert "read as" in next(iter(outs))  # the classifier spoke: its words are what is compared
