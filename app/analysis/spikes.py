"""Spike detection on per-minute series: is the recent window far above its own baseline?

The baseline is an exponentially weighted moving average with a matching variance
estimate over the minutes before the window. Counts are roughly Poisson, so the
variance is never taken below the mean: a flat, quiet series cannot produce a huge z
from a one-post wobble. Negative surges test the window's negative share against the
baseline share with a binomial standard error.
"""

from __future__ import annotations

import math
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


def negative_surge(
    counts: Sequence[int],
    negatives: Sequence[int],
    *,
    window: int,
    alpha: float,
    z_threshold: float,
    min_count: int,
    min_lift: float = 1.5,
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
    z = (observed - base_share) / math.sqrt(base_share * (1 - base_share) / n_recent)
    if z < z_threshold or observed < base_share * min_lift:
        return None
    return Finding(observed=observed, baseline=base_share, z=z, window_count=neg_recent)
