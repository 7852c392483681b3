"""Plot ranges that move only when they must, so the axes keep their cached pictures."""

from __future__ import annotations

from widgets.plotting import nice_top, time_window


def test_the_time_window_ends_with_the_current_minute_and_holds_within_it() -> None:
    start, end = time_window(1_000_030.0, 3600)
    assert end % 60 == 0 and 0 <= end - 1_000_030.0 < 60 and end - start == 3600
    assert time_window(1_000_031.0, 3600) == (start, end)  # a second later: the same range
    assert time_window(end + 1, 3600) == (start + 60, end + 60)  # the next minute: one step on


def test_the_top_of_the_y_range_is_round_and_close_above_the_data() -> None:
    for value in (0.3, 1, 1.21, 3.1, 4.2, 5, 6.1, 7, 8.01, 11, 21, 99, 101, 1234, 98_765):
        top = nice_top(value)
        assert value <= top <= value * 1.25 + 1e-9
        assert nice_top(value * 0.99) <= top  # a slightly smaller count keeps the same axis
    assert nice_top(21) == nice_top(22) == nice_top(24.9) == 25
