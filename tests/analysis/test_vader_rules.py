"""The linear scorer keeps every one of VADER's modifier rules, read only where they can apply.

The care scorer takes a word's lexicon valence as it is unless a modifier stands near it
(boosters, negations, "no", "least", "never so", "without doubt", "so"/"this" before it,
capitals among lower case) or one of VADER's idioms ("the shit", "kind of", "to die for")
stands whole in the piece. Each text here makes one rule apply, or a rule's words stand
without it, and must score exactly as plain VADER scores it.
"""

from __future__ import annotations

import pytest

from app.analysis.sentiment import CareScorer, VaderScorer

TEXTS = [
    # idioms, and their words standing alone beside lexicon words
    "that party was the shit",
    "this album is the bomb, love it",
    "a bad ass ride, awesome",
    "waiting at the bus stop, happy",
    "yeah right, great service",
    "the kiss of death for a good idea",
    "a cake to die for, wonderful",
    "my beating heart is happy",
    "the good, the bad and the ugly",
    "to love for ever, of course good",
    "it was kind of good",
    "it was sort of bad",
    "just enough good",
    "kind people, kind words",
    # boosters and dampeners, one to three words back, and ahead (where they do nothing)
    "very good",
    "very really good",
    "extremely nice but hardly great",
    "good very",
    "VERY good",
    # negations one to three words back, with and without "n't"
    "not good",
    "not very good",
    "not at all very good",
    "isn't good",
    "good, not",
    "never so good",
    "never this bad",
    "without doubt good",
    "without a doubt great",
    "no good",
    "no problem at all",
    "no or nor good",
    "no way, or good",
    "at least good",
    "the least good idea",
    "very least good",
    # "so" and "this" just before a word, capitals, "but", emoticons
    "so good",
    "this good",
    "I am SO HAPPY today",
    "GOOD morning, bad night",
    "ALL CAPS GOOD",
    "it was good but the end was bad",
    "bad but good but bad",
    "nice :) but sad :(",
    "great!!! really?? not bad",
]


@pytest.mark.parametrize("text", TEXTS)
def test_the_linear_reading_scores_as_plain_vader(text: str) -> None:
    assert CareScorer().score(text) == pytest.approx(VaderScorer().score(text), abs=1e-9)


def test_a_rule_only_where_it_stands_changes_a_word() -> None:
    # the idiom's word alone leaves a word as the lexicon says; the whole idiom changes it
    linear = CareScorer()
    assert linear.score("it was the shit man") != linear.score("it was shit man")
    assert linear.score("it was the good man") == linear.score("it was good man")
