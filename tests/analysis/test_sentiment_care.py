"""The care scorer: complaints read as complaints, in linear time, with the brand's own words."""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest

from app.analysis.pipeline import Analyzer, build_scorer
from app.analysis.sentiment import MAX_SCORED_CHARS, CareScorer, VaderScorer
from app.config import Config, Sentiment, load_config
from tests.analysis.sets import care_set, vader_rated


@pytest.fixture(scope="module")
def care() -> CareScorer:
    return build_scorer(Sentiment())


@pytest.fixture(scope="module")
def vader() -> VaderScorer:
    return VaderScorer()


COMPLAINTS = [
    "@lumio battery got so hot it burned my hand. #LumioRecall now!",
    "@skyjet thanks for nothing, 4 hours on hold and then they hung up",
    "@skyjet great, another delay",
    "@telcom I was charged twice this month, please fix this",
    "@lumio my phone won't turn on after the update 😡",
    "@telcom your customer service is a joke 🤬",
    "@lumio my Lumio X is overheating while charging 😤",
    "@parcelgo still waiting for my parcel, please help",
    "@lumio the charger stopped working, thanks a lot",
]


@pytest.mark.parametrize("text", COMPLAINTS)
def test_complaints_that_plain_vader_misreads_are_negative(
    text: str, care: CareScorer, vader: VaderScorer
) -> None:
    assert care.label(care.score(text)) == "negative", care.explain(text)
    # plain VADER reads each of these as neutral or positive: the rules are what changed it
    assert vader.label(vader.score(text)) != "negative"


def test_praise_and_questions_keep_their_class(care: CareScorer) -> None:
    assert (
        care.label(care.score("@skyjet thank you for the upgrade, the crew was amazing!"))
        == "positive"
    )
    assert care.label(care.score("@parcelgo package arrived a day early, great job")) == "positive"
    assert care.label(care.score("@lumio does the Lumio X support wireless charging?")) == "neutral"


def test_negation_and_emoji(care: CareScorer) -> None:
    assert care.score("@lumio the phone is not good") < 0
    assert care.score("@lumio the phone is not bad at all") > 0
    # a face means what it shows, even after a negation
    assert care.score("@lumio support never answered 😡") < -0.3


def test_explanation_names_the_words_that_drove_the_score(care: CareScorer) -> None:
    why = care.explain("@skyjet thanks for nothing, 4 hours on hold")
    assert why.label == "negative"
    texts = [d.text for d in why.drivers]
    assert texts[:2] == ["thanks for nothing", "on hold"]
    assert all(d.weight < 0 for d in why.drivers)
    ironic = care.explain("@skyjet great, another delay")
    assert any("irony" in n for n in ironic.notes)
    assert "great (ironic)" in [d.text for d in ironic.drivers]
    # a hashtag that calls for action against the brand counts, and shows as written
    tagged = care.explain("Time to act. #LumioRecall")
    assert [(d.text, d.weight < 0) for d in tagged.drivers] == [("#LumioRecall", True)]
    assert care.score("Time to act. #LumioRecall") < 0 == care.score("Time to act. #LumioLaunch")


def test_care_sets_beat_plain_vader(care: CareScorer, vader: VaderScorer) -> None:
    for name in ("care_dev", "care_check"):
        rows = care_set(name)
        negatives = [t for g, t in rows if g == "negative"]
        ours = sum(care.label(s) == "positive" for s in care.score_many(negatives)) / len(negatives)
        theirs = sum(vader.label(s) == "positive" for s in vader.score_many(negatives)) / len(
            negatives
        )
        assert ours <= 0.15 and ours < theirs, (name, ours, theirs)


def test_pearson_on_vader_tweets_stays_high(care: CareScorer) -> None:
    rows = vader_rated("tweets")
    r = statistics.correlation([g for g, _ in rows], care.score_many([t for _, t in rows]))
    assert r >= 0.85, r


def test_linear_vader_agrees_with_plain_vader_on_short_posts(vader: VaderScorer) -> None:
    rows = vader_rated("tweets")[:400]
    linear = CareScorer()
    for _, text in rows:
        assert linear.score(text) == pytest.approx(vader.score(text), abs=1e-9), text


def test_a_long_post_is_read_in_linear_time_and_only_its_head(care: CareScorer) -> None:
    unit = "the battery got so hot but support never answered and I am not happy. "
    # what bounds the cost is what is read (bench/ingest.py measures the time)
    why = care.explain(unit * 20_000)
    assert why.scored_chars == MAX_SCORED_CHARS
    assert f"read the first {MAX_SCORED_CHARS:,} of {len(unit) * 20_000:,} characters" in why.notes
    assert why.label == "negative"


def test_a_brand_rule_changes_a_score(tmp_path: Path, demo_config: Config) -> None:
    text = "@lumio my new Lumio X gets really hot in the evening"
    plain = Analyzer(demo_config.model_copy(update={"sentiment": Sentiment()}))
    path = tmp_path / "brand.toml"
    path.write_text(
        '[brand]\nname = "Lumio"\n[sentiment]\nnegative = ["hot"]\npositive = ["all day battery"]\n'
        'terms = { "runs warm" = -2.5 }\n',
        encoding="utf-8",
    )
    branded = Analyzer(load_config(path))
    before, after = plain.scorer.score(text), branded.scorer.score(text)
    assert before >= 0 > after
    assert branded.scorer.label(after) == "negative"
    assert (
        branded.scorer.score("the Lumio X runs warm")
        < 0
        < plain.scorer.score("the Lumio X runs warm")
    )
    assert branded.scorer.score("an all day battery") > plain.scorer.score("an all day battery")


def test_a_bad_brand_weight_is_a_config_error(tmp_path: Path) -> None:
    from app.config import ConfigError

    path = tmp_path / "bad.toml"
    path.write_text('[brand]\nname = "X"\n[sentiment]\nterms = { hot = -9 }\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"sentiment\.terms\.hot"):
        load_config(path)


def test_scores_are_calibrated_to_the_one_class_boundary_every_view_uses(care: CareScorer) -> None:
    from app.model import sentiment_label

    # raw VADER reads -0.08 (negative by the ±0.05 cut); the care class boundary is wider,
    # and the score itself says so, so the feed's mark, the rollups and the label agree
    raw = CareScorer().score("meh, it works")
    ours = care.score("meh, it works")
    assert sentiment_label(raw) == "negative"
    assert -0.05 < ours < 0 and care.label(ours) == sentiment_label(ours) == "neutral"
    # the order of scores is kept: calibration never turns a stronger reading into a weaker one
    texts = ["awful", "bad", "meh", "fine", "good", "great", "amazing!!!", "not bad"]
    linear = CareScorer()
    assert sorted(texts, key=linear.score) == sorted(texts, key=care.score)
