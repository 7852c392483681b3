"""A rise in mentions is coloured by the voices it adds: green for a launch, red for a crisis."""

from __future__ import annotations

from app.wallquery import Totals, louder_and_angrier


def _t(n: int, neg: int) -> Totals:
    return Totals(n=n, pos=n - neg, neg=neg)


def test_more_mentions_that_complain_are_bad_news() -> None:
    assert louder_and_angrier(_t(300, 180), _t(100, 10))  # a crisis: 60 % negative from 10 %


def test_more_mentions_in_the_same_mood_are_good_news() -> None:
    assert not louder_and_angrier(_t(300, 33), _t(100, 10))  # a launch: 11 % from 10 %


def test_fewer_mentions_are_never_louder() -> None:
    assert not louder_and_angrier(_t(50, 40), _t(100, 10))


def test_a_first_period_with_nothing_scored_before_compares_with_none() -> None:
    assert louder_and_angrier(_t(30, 20), Totals(n=5, unscored=5))
    assert not louder_and_angrier(Totals(n=30, unscored=30), _t(5, 0))
