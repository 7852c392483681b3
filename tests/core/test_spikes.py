"""Spike detection finds injected spikes and stays quiet on flat, noisy series."""

from __future__ import annotations

import random

from app.analysis.spikes import dispersion, ewma, negative_surge, volume_spike

PARAMS = {"window": 5, "alpha": 0.05, "z_threshold": 3.0, "min_count": 20}


def poisson_series(rng: random.Random, lam: float, n: int) -> list[int]:
    out = []
    for _ in range(n):
        # sum of Bernoulli trials: close enough to Poisson for these rates
        out.append(sum(1 for _ in range(int(lam * 10)) if rng.random() < 0.1))
    return out


def test_ewma_of_constant_series() -> None:
    mean, var = ewma([7.0] * 50, 0.1)
    assert mean == 7.0 and var == 0.0


def test_quiet_on_flat_noisy_series() -> None:
    rng = random.Random(1)
    false_alarms = 0
    for _ in range(300):
        series = poisson_series(rng, 10, 185)
        if volume_spike(series, **PARAMS):
            false_alarms += 1
    assert false_alarms <= 3  # z ≥ 3 on a 5-minute mean: rare by construction


def test_finds_injected_spike() -> None:
    rng = random.Random(2)
    series = [*poisson_series(rng, 10, 180), 40, 45, 38, 50, 42]
    finding = volume_spike(series, **PARAMS)
    assert finding is not None
    assert finding.observed == sum(series[-5:]) / 5
    assert 8 <= finding.baseline <= 12
    assert finding.z > 10 and finding.ratio > 3


def test_small_bump_on_quiet_topic_needs_min_count() -> None:
    series = [0] * 180 + [1, 2, 1, 3, 2]
    assert volume_spike(series, **PARAMS) is None
    assert volume_spike(series, **{**PARAMS, "min_count": 5}) is not None


def test_negative_surge() -> None:
    counts = [50] * 185
    negs = [10] * 180 + [30, 32, 28, 35, 31]
    finding = negative_surge(counts, negs, window=5, alpha=0.05, z_threshold=3, min_count=10)
    assert finding is not None
    assert abs(finding.baseline - 0.2) < 1e-9
    assert finding.observed > 0.55


def test_negative_share_steady_is_quiet() -> None:
    rng = random.Random(3)
    counts = [rng.randint(40, 60) for _ in range(185)]
    negs = [round(c * 0.2 + rng.uniform(-2, 2)) for c in counts]
    assert negative_surge(counts, negs, window=5, alpha=0.05, z_threshold=3, min_count=10) is None


def test_a_low_usual_share_needs_the_binomial_tail_not_the_normal_one() -> None:
    # 100 posts a window at a usual 5 % negative: 12 negatives happen 1 window in 230
    counts = [20] * 185
    negs = [1] * 180

    def surge(last: list[int]) -> bool:
        return negative_surge(counts, [*negs, *last], window=5, alpha=0.05, z_threshold=3,
                              min_count=10) is not None  # fmt: skip

    assert not surge([2, 3, 2, 3, 2])  # z = 3.2 without the half-post correction
    assert surge([3, 3, 3, 3, 3])  # 15 of 100: 1 window in 7,400


def test_a_baseline_that_wanders_widens_the_test() -> None:
    rng = random.Random(5)
    counts = [10] * 185
    # calm, but in clumps: 5-minute blocks sit at 10 % or 40 % negative, not at 25 % each
    steady = [sum(rng.random() < 0.25 for _ in range(10)) for _ in range(180)]
    clumped = [
        sum(rng.random() < (0.1 if (i // 5) % 2 else 0.4) for _ in range(10)) for i in range(180)
    ]
    assert dispersion(counts[:180], steady, 5, 0.25) < 1.5
    assert dispersion(counts[:180], clumped, 5, 0.25) > 2.5
    last = [5, 4, 5, 4, 5]  # 46 % of 50: z ≈ 3.3 as binomial draws

    def surge(negs: list[int]) -> bool:
        return negative_surge(counts, [*negs, *last], window=5, alpha=0.05, z_threshold=3,
                              min_count=10) is not None  # fmt: skip

    assert surge(steady) and not surge(clumped)
    # the median reads the spread: a crisis in a few of the baseline's blocks does not hide the next
    crisis = [*steady[:150], *[9] * 15, *steady[165:]]
    assert dispersion(counts[:180], crisis, 5, 0.25) < 1.5


def test_a_spike_back_at_its_usual_rate_is_under_its_threshold() -> None:
    from app.analysis.spikes import current_level

    def kw(counts: list[int], baseline: float) -> tuple[float, bool]:
        return current_level("spike", counts, [0] * len(counts), baseline, window=5, z_threshold=3.0,
                             min_count=20, min_ratio=2.0)  # fmt: skip

    finding = volume_spike([18] * 180 + [66] * 5, **PARAMS)
    assert finding is not None
    level, above = kw([17, 19, 18], finding.baseline)
    assert level == 18 and not above  # the usual rate again: over
    level, above = kw([40, 44, 45], finding.baseline)
    assert level == 43 and above  # still 2.4× the usual: happening
    # a quiet topic: a wobble of a few posts a minute is no spike, whatever its ratio
    assert not kw([2, 3, 3], 0.5)[1]


def test_a_negative_surge_back_at_its_usual_share_is_under_its_threshold() -> None:
    from app.analysis.spikes import NEGATIVE_MIN_LIFT, current_level

    def kw(counts: list[int], negatives: list[int]) -> tuple[float, bool]:
        return current_level("negative_surge", counts, negatives, 0.2, window=5, z_threshold=3.0,
                             min_count=10, min_ratio=NEGATIVE_MIN_LIFT)  # fmt: skip

    level, above = kw([50, 50, 50], [10, 11, 9])
    assert abs(level - 0.2) < 1e-9 and not above
    level, above = kw([50, 50, 50], [30, 31, 29])
    assert abs(level - 0.6) < 1e-9 and above
    # a high share of very few posts is not a surge going on
    assert not kw([2, 1, 1], [2, 1, 1])[1]
