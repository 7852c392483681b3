"""Numbers, ages and deltas as a wall shows them: short enough to read from five metres."""

from __future__ import annotations

import math


def compact(n: float) -> str:
    """1234 → ``1.2k``, 2_500_000 → ``2.5M``; small numbers stay whole."""
    if math.isnan(n):
        return "–"
    sign = "-" if n < 0 else ""
    n = abs(n)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if n >= limit:
            value = n / limit
            text = f"{value:.1f}" if value < 100 else f"{value:.0f}"
            return f"{sign}{text.removesuffix('.0')}{suffix}"
    if n != int(n) and n < 10:
        return f"{sign}{n:.1f}"
    return f"{sign}{n:.0f}"


def age(seconds: float) -> str:
    """How long ago, in the largest unit that is whole: ``now``, ``45s``, ``12m``, ``3h``, ``2d``."""
    s = max(0.0, seconds)
    if s < 10:
        return "now"
    if s < 60:
        return f"{s:.0f}s"
    if s < 3600:
        return f"{s // 60:.0f}m"
    if s < 86400:
        return f"{s // 3600:.0f}h"
    return f"{s // 86400:.0f}d"


def duration(seconds: float) -> str:
    """A wait or a countdown: ``4m``, ``1h 05m``, ``2d 3h``."""
    s = int(max(0.0, seconds))
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{s // 86400}d {s % 86400 // 3600}h"


def delta_pct(now: float, before: float) -> str:
    """The change against the previous period: ``+12%``, ``−40%``, ``new`` (from nothing)."""
    if before <= 0:
        return "new" if now > 0 else "±0%"
    pct = (now - before) / before * 100
    if abs(pct) < 0.5:
        return "±0%"
    sign = "+" if pct > 0 else "−"
    return f"{sign}{compact(abs(pct))}%"


def signed(value: float, digits: int = 2) -> str:
    """A net sentiment as ``+0.31`` / ``−0.12`` (a real minus sign reads better on a wall)."""
    text = f"{abs(value):.{digits}f}"
    if round(value, digits) == 0:
        return f"±{text}"
    return ("+" if value > 0 else "−") + text


def ago(seconds: float) -> str:
    """How long ago as a phrase: ``just now``, ``45s ago``, ``12m ago`` (never "now ago")."""
    text = age(seconds)
    return "just now" if text == "now" else f"{text} ago"


def rise(ratio: float | None) -> str:
    """How many times the usual a term or a story is said: ``×1.4``; whole from ×10 up
    (``×272``, not ``×272.2``: a tenth means nothing that far above a quiet baseline);
    ``new`` when it was not said before."""
    if ratio is None or math.isinf(ratio):
        return "new"
    return f"×{ratio:.1f}" if ratio < 9.95 else f"×{compact(round(ratio))}"
