"""Figures as a wall shows them: as short as they can be and no more exact than they are."""

from __future__ import annotations

import math

from app.formatting import ago, rise


def test_a_rise_far_above_a_quiet_baseline_is_shown_whole() -> None:
    assert rise(1.44) == "×1.4"
    assert rise(9.9) == "×9.9"
    assert rise(9.97) == "×10"  # never "×10.0"
    assert rise(272.2) == "×272"  # a night's baseline of almost nothing: a tenth means nothing
    assert rise(12_400) == "×12.4k"
    assert rise(None) == rise(math.inf) == "new"


def test_just_now_is_never_now_ago() -> None:
    assert ago(3) == "just now" and ago(125) == "2m ago"
