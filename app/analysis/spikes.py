"""Spike detection on per-minute series: is the recent window far above its own baseline?

The baseline is an exponentially weighted moving average with a matching variance
estimate over the minutes before the window. Counts are roughly Poisson, so the
variance is never taken below the mean: a flat, quiet series cannot produce a huge z
from a one-post wobble. Negative surges test the window's negative share against the
baseline share with a binomial standard error, widened by how much more the baseline's own
windows wander (:func:`dispersion`).

What drives a spike is read from the spiking window against its own baseline: the terms
whose share of posts rose most (:func:`driver_terms`), and the posts that say most of them
(:func:`typical_posts`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Finding:
    observed: float  # per-minute rate (or negative share) in the recent window
    baseline: float  # expected per-minute rate (or share) from the EWMA
    z: float
    window_count: int  # mentions (or negative mentions) in the window

    @property
    def ratio(self) -> float:
        return self.observed / self.baseline if self.baseline > 0 else math.inf


#: a negative surge is at least this many times the usual negative share
NEGATIVE_MIN_LIFT = 1.5


def ewma(series: Sequence[float], alpha: float) -> tuple[float, float]:
    """Mean and variance of ``series`` under exponential weighting (oldest first)."""
    if not series:
        return 0.0, 0.0
    mean, var = float(series[0]), 0.0
    for x in series[1:]:
        delta = x - mean
        mean += alpha * delta
        var = (1 - alpha) * (var + alpha * delta * delta)
    return mean, var


def volume_spike(
    counts: Sequence[int],
    *,
    window: int,
    alpha: float,
    z_threshold: float,
    min_count: int,
    min_ratio: float = 2.0,
) -> Finding | None:
    """A finding if the last ``window`` minutes of ``counts`` stand ≥ z above the rest.

    ``min_ratio`` keeps a steady daily rise at high volume (significant, but only 1.4× the
    morning's rate) from waking the room: a spike is at least that many times the usual.
    """
    if len(counts) <= window:
        return None
    base, recent = counts[:-window], counts[-window:]
    total = sum(recent)
    if total < min_count:
        return None
    mean, var = ewma(base, alpha)
    observed = total / window
    spread = math.sqrt(max(var, mean, 1.0) / window)
    z = (observed - mean) / spread
    if z < z_threshold or observed < mean * min_ratio:
        return None
    return Finding(observed=observed, baseline=mean, z=z, window_count=total)


#: the median of a chi-square variable with one degree of freedom
_CHI2_1_MEDIAN = 0.4549
#: fewer baseline windows than this say too little of the spread: plain binomial
DISPERSION_MIN_BLOCKS = 8
#: the spread is never read as more than this many times binomial (a baseline of crises)
DISPERSION_MAX = 4.0


def dispersion(counts: Sequence[int], negatives: Sequence[int], window: int, share: float) -> float:
    """How much more the negative share of a ``window``-minute block wanders than a binomial
    draw would (1.0 when it does not, or when the baseline is too short to tell).

    Posts are not independent draws: a viral complaint is quoted, a thread piles on, a
    competitor's bad review is passed around. Tested as binomial, a calm brand's share of
    negatives crosses z = 3 several times a day. The baseline's own blocks (newest first)
    measure the spread; their median Pearson chi-square keeps an earlier crisis among them
    from hiding the next one.
    """
    spread = share * (1 - share)
    chi2: list[float] = []
    for end in range(len(counts), window - 1, -window):
        n = sum(counts[end - window : end])
        if n:
            neg = sum(negatives[end - window : end])
            chi2.append((neg - n * share) ** 2 / (n * spread))
    if len(chi2) < DISPERSION_MIN_BLOCKS:
        return 1.0
    chi2.sort()
    middle = len(chi2) // 2
    median = chi2[middle] if len(chi2) % 2 else (chi2[middle - 1] + chi2[middle]) / 2
    return min(max(median / _CHI2_1_MEDIAN, 1.0), DISPERSION_MAX)


def negative_surge(
    counts: Sequence[int],
    negatives: Sequence[int],
    *,
    window: int,
    alpha: float,
    z_threshold: float,
    min_count: int,
    min_lift: float = NEGATIVE_MIN_LIFT,
) -> Finding | None:
    """A finding if the window's negative share is well above the baseline share.

    ``min_lift`` keeps a statistically significant but tiny rise at high volume (40 % → 42 %)
    from waking the room.
    """
    if len(counts) <= window or len(negatives) != len(counts):
        return None
    n_recent = sum(counts[-window:])
    neg_recent = sum(negatives[-window:])
    if neg_recent < min_count or n_recent == 0:
        return None
    shares = [neg / n for n, neg in zip(counts[:-window], negatives[:-window], strict=True) if n]
    if not shares:
        return None
    base_share, _ = ewma(shares, alpha)
    base_share = min(max(base_share, 0.02), 0.98)
    observed = neg_recent / n_recent
    spread = dispersion(counts[:-window], negatives[:-window], window, base_share)
    # half a post of continuity correction: at a low usual share the binomial's upper tail is
    # far heavier than the normal one (12 negatives of 100 at 5 % is z = 3.2, yet 1 in 230)
    excess = neg_recent - 0.5 - n_recent * base_share
    z = excess / math.sqrt(spread * n_recent * base_share * (1 - base_share))
    if z < z_threshold or observed < base_share * min_lift:
        return None
    return Finding(observed=observed, baseline=base_share, z=z, window_count=neg_recent)


# -- has it subsided? ------------------------------------------------------------------

#: an alert is judged subsided after this many complete minutes back under its threshold
SUBSIDE_MIN = 3

#: when an active alert's level fell back under its threshold (NULL while it is happening),
#: and the level measured at the last check (per-minute rate, or negative share)
ALERT_SUBSIDED_V = """
ALTER TABLE alerts ADD COLUMN subsided_ts REAL;
ALTER TABLE alerts ADD COLUMN now_level REAL;
"""


def current_level(
    kind: str,
    counts: Sequence[int],
    negatives: Sequence[int],
    baseline: float,
    *,
    window: int,
    z_threshold: float,
    min_count: int,
    min_ratio: float,
) -> tuple[float, bool]:
    """The level over the last minutes (``counts``) and whether it is still above what fires.

    The threshold is the detector's own, taken at the alert's baseline: for a spike the rate
    of ``min_ratio`` × usual, ``z_threshold`` Poisson spreads above it and ``min_count`` per
    window, whichever is highest; for a negative surge the share ``min_ratio`` × usual and
    ``z_threshold`` binomial errors above it (and half a post), with ``min_count`` negatives per
    window (the baseline's dispersion is not kept with an alert: judged as if it were none,
    a surge reads "happening" a little longer, never shorter).
    Subsiding compares the same figure the alert reported, so the wall never calls a level
    "over" that would fire the alert again.
    """
    minutes = len(counts)
    total = sum(counts)
    if kind == "spike":
        rate = total / minutes if minutes else 0.0
        spread = math.sqrt(max(baseline, 1.0) / max(minutes, 1))
        threshold = max(baseline * min_ratio, baseline + z_threshold * spread, min_count / window)
        return rate, rate >= threshold
    neg = sum(negatives)
    share = neg / total if total else 0.0
    base = min(max(baseline, 0.02), 0.98)
    error = math.sqrt(base * (1 - base) / total) if total else 0.0
    correction = 0.5 / total if total else 0.0  # the half post the detector's test allows
    above = share >= max(base * min_ratio, base + z_threshold * error + correction)
    return share, above and neg * window >= min_count * minutes


# -- what drives a spike ---------------------------------------------------------------

#: typical posts of an alert (mention ids, most typical first): a column of ``alerts``
ALERT_POSTS_V = """
ALTER TABLE alerts ADD COLUMN posts TEXT NOT NULL DEFAULT '[]';
"""


@dataclass(frozen=True, slots=True)
class DriverTerm:
    """A term far more common in the spiking window than in the baseline before it."""

    term: str
    window_count: int  # posts of the window that hold it
    share: float  # … as a share of the window's posts
    baseline_share: float
    z: float


def driver_terms(
    window: Sequence[Sequence[str]],
    baseline: Sequence[Sequence[str]],
    *,
    limit: int = 5,
    min_count: int = 3,
    min_lift: float = 2.0,
) -> list[DriverTerm]:
    """The terms whose share of posts rose most from ``baseline`` to ``window``.

    Each post is its distinct terms. Shares, not counts: a brand name in every post of a
    topic rises with the topic's volume but keeps its share, so it never "drives" the
    spike; a hashtag in a third of the window's posts and almost none before does. The
    baseline share is smoothed (one post in, one out of the prior), so a term never seen
    before stands out without dividing by zero.
    """
    if not window:
        return []
    n_w, n_b = len(window), len(baseline)
    in_window: Counter[str] = Counter(t for terms in window for t in set(terms))
    in_base: Counter[str] = Counter(t for terms in baseline for t in set(terms))
    found = []
    for term, c in in_window.items():
        if c < min_count:
            continue
        share = c / n_w
        base = (in_base.get(term, 0) + 1) / (n_b + 2)
        if share < base * min_lift:
            continue
        z = (share - base) / math.sqrt(base * (1 - base) / n_w)
        found.append(DriverTerm(term, c, share, in_base.get(term, 0) / n_b if n_b else 0.0, z))
    found.sort(key=lambda d: (-d.z, d.term))
    return found[:limit]


def typical_posts(
    window: Sequence[Sequence[str]],
    texts: Sequence[str],
    drivers: Sequence[DriverTerm],
    limit: int = 3,
) -> list[int]:
    """Indexes of the window's posts that say most of what drives it, one per wording."""
    weight = {d.term: d.z for d in drivers}
    scored = sorted(
        ((sum(weight.get(t, 0.0) for t in set(terms)), i) for i, terms in enumerate(window)),
        key=lambda p: (-p[0], p[1]),
    )
    out: list[int] = []
    seen: set[str] = set()
    for score, i in scored:
        if score <= 0 or len(out) >= limit:
            break
        key = " ".join(texts[i].casefold().split())
        if key not in seen:
            seen.add(key)
            out.append(i)
    return out
