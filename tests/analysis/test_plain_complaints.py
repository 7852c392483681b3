"""Complaints said in plain words: something not done, time waited, a "why" question.

Most posts to a care account name a failure without one word of feeling ("the driver never
knocked", "been waiting 3 days"): plain VADER hears nothing in them. These cues must not
turn a plain question, an eager "can't wait" or a quick delivery into a complaint.
"""

from __future__ import annotations

import pytest

from app.analysis.pipeline import build_scorer
from app.analysis.sentiment import CareScorer, VaderScorer
from app.config import Sentiment


@pytest.fixture(scope="module")
def care() -> CareScorer:
    return build_scorer(Sentiment())


PLAIN_COMPLAINTS = [
    ("@parcelgo the driver never knocked, just left a card", "never (not done)"),
    ("@telcom my bill went up and nobody told me", "nobody (not done)"),
    ("@lumio the app didn’t load all day", "didn't (not done)"),  # as phones type it
    ("@bankly been waiting 3 days for a reply", "days (waited)"),
    ("@skyjet sitting at the gate for 90 mins", "mins (waited)"),
    ("@telcom the landline has been out for weeks", "weeks (waited)"),
    ("@lumio why does the screen keep turning on by itself", "why (asks why)"),
]


@pytest.mark.parametrize(("text", "driver"), PLAIN_COMPLAINTS)
def test_a_complaint_in_plain_words_is_negative_and_says_why(
    care: CareScorer, text: str, driver: str
) -> None:
    assert VaderScorer().label(VaderScorer().score(text)) != "negative"  # what VADER misses
    explained = care.explain(text)
    assert explained.label == "negative"
    assert driver in [d.text for d in explained.drivers]


NOT_COMPLAINTS = [
    "@skyjet can't wait for my trip to Lisbon next week!",
    "@parcelgo arrived in 2 days, great service",
    "@bankly do I need to tell you before I travel?",
    "@lumio thanks for sorting my cancelled order so fast",
    "@telcom the new router works, no more worries",
]


@pytest.mark.parametrize("text", NOT_COMPLAINTS)
def test_the_cues_leave_questions_eagerness_and_thanks_alone(care: CareScorer, text: str) -> None:
    assert care.label(care.score(text)) != "negative"


def test_a_care_term_counts_where_vader_only_lets_it_boost(care: CareScorer) -> None:
    # "incredible" is one of VADER's boosters: alone it used to score nothing
    assert care.label(care.score("@lumio the night mode photos are incredible")) == "positive"


def test_ironic_love_of_a_plain_complaint(care: CareScorer) -> None:
    text = '@parcelgo love how my order is still "processing" after 3 weeks'
    assert VaderScorer().label(VaderScorer().score(text)) == "positive"
    assert care.label(care.score(text)) == "negative"


def test_a_handle_names_an_account_and_says_nothing(care: CareScorer) -> None:
    # VADER reads "@united" as the word "united" (+1.8): every post to that account praised it
    text = "@united my flight is delayed again"
    assert VaderScorer().label(VaderScorer().score(text)) == "positive"
    assert care.label(care.score(text)) == "negative"
    assert "@united" not in [d.text for d in care.explain(text).drivers]


def test_a_hashtag_built_on_a_complaint_word_is_against_us(care: CareScorer) -> None:
    assert care.label(care.score("@lumio thanks! #lumiosucks")) == "negative"
    assert care.label(care.score("@lumio #worstservice")) == "negative"
    # a short word inside a name is no complaint
    assert care.label(care.score("@lumio a #hellokitty case for the X please")) != "negative"


def test_the_desk_a_customer_writes_to_is_no_praise(care: CareScorer) -> None:
    assert care.label(care.score("@telcom your customer care team called me back")) == "neutral"


REQUESTS = [
    "@skyjet hi, could you please tell me if flight 318 has wifi? thanks",
    "@parcelgo hi! can you let me know the delivery slot for tomorrow please",
    "@telcom hi there, please DM me the steps to set up the new router",
]


@pytest.mark.parametrize("text", REQUESTS)
def test_manners_in_a_request_are_no_praise(care: CareScorer, text: str) -> None:
    assert VaderScorer().label(VaderScorer().score(text)) == "positive"
    explained = care.explain(text)
    assert explained.label == "neutral"
    assert any(n.startswith("manners in a request count as none") for n in explained.notes)


def test_praise_that_asks_something_stays_praise(care: CareScorer) -> None:
    assert care.label(
        care.score("@lumio love the new camera, thanks! when does the case ship?")
    ) == ("positive")


@pytest.mark.parametrize("face", ["😒", "🤦‍♀️", "💩"])
def test_faces_made_at_a_brand_are_negative(care: CareScorer, face: str) -> None:
    text = f"@parcelgo my parcel is at the depot again {face}"
    assert VaderScorer().label(VaderScorer().score(text)) == "neutral"
    assert care.label(care.score(text)) == "negative"


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("@lumio still not fixed, useless", "useless"),
        ("@bankly it doesn't solve my problem", "problem"),
    ],
)
def test_a_negation_turns_the_first_feeling_word_after_it_only(
    care: CareScorer, text: str, word: str
) -> None:
    # VADER turns every feeling word up to three after "not": "useless" read as praise
    assert VaderScorer().label(VaderScorer().score(text)) != "negative"
    explained = care.explain(text)
    assert explained.label == "negative"
    assert {d.text: d.weight for d in explained.drivers}[word] < 0
