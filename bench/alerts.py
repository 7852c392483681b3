"""Alerts: how often a calm demo day wakes the room, and how fast its crisis does.

The demo source, through the real store writer, writes a day of calm posts (its daily
rhythm on, no crisis) and, apart, a run whose crisis breaks out six minutes in. Every
minute of every scope (all mentions and each topic of the shipped demo config) is then
judged the way maintenance judges it, by the shipped test and by the plain one it replaced
(a binomial z of the window's negative share, no continuity correction, no dispersion),
both in this run. The figures: negative-surge and volume-spike findings a calm day raises
(a finding counted once per 30 minutes of cooldown, as alerts are), and the minutes from
the outbreak to the first surge of the brand's topic. The demo is our own simulator and the
thresholds were set looking at it: it is the set tuned on.

Prints one JSON object on its last line.
"""

from __future__ import annotations

import argparse
import json
import math
import sqlite3
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.analysis.spikes import NEGATIVE_MIN_LIFT, Finding, ewma, negative_surge, volume_spike
from app.config import Config
from app.demorun import run_demo
from app.resources import demo_config_path

Surge = Callable[..., Finding | None]


def plain_surge(counts: Sequence[int], negatives: Sequence[int], *, window: int, alpha: float,
                z_threshold: float, min_count: int) -> Finding | None:  # fmt: skip
    """The negative-surge test before dispersion and continuity correction: the baseline."""
    n_recent, neg_recent = sum(counts[-window:]), sum(negatives[-window:])
    if neg_recent < min_count or n_recent == 0:
        return None
    shares = [g / n for n, g in zip(counts[:-window], negatives[:-window], strict=True) if n]
    if not shares:
        return None
    base = min(max(ewma(shares, alpha)[0], 0.02), 0.98)
    observed = neg_recent / n_recent
    z = (observed - base) / math.sqrt(base * (1 - base) / n_recent)
    if z < z_threshold or observed < base * NEGATIVE_MIN_LIFT:
        return None
    return Finding(observed=observed, baseline=base, z=z, window_count=neg_recent)


def config(backfill_min: int, crisis: bool) -> Config:
    data = tomllib.loads(demo_config_path().read_text(encoding="utf-8"))
    source = data["sources"][0]
    source["backfill_min"] = backfill_min
    if not crisis:
        source["crisis_every_min"] = 0
    return Config.model_validate(data)


def series(db: Path) -> dict[str, tuple[int, list[int], list[int]]]:
    """Per scope: the first minute, and its per-minute counts and negatives."""
    conn = sqlite3.connect(db)
    try:
        out: dict[str, tuple[int, list[int], list[int]]] = {}
        scopes = [r[0] for r in conn.execute("SELECT DISTINCT topic FROM rollups WHERE res = 60")]
        for scope in scopes:
            rows = conn.execute("SELECT bucket, n, neg FROM rollups WHERE res = 60 AND topic = ?"
                                " ORDER BY bucket", (scope,)).fetchall()  # fmt: skip
            first, last = rows[0][0], rows[-1][0]
            size = (last - first) // 60 + 1
            counts, negs = [0] * size, [0] * size
            for bucket, n, neg in rows:
                counts[(bucket - first) // 60], negs[(bucket - first) // 60] = n, neg
            out[scope] = (first, counts, negs)
        return out
    finally:
        conn.close()


def findings(cfg: Config, first: int, counts: list[int], negs: list[int], surge: Surge,
             kind: str, cooldown_min: int = 30) -> list[float]:  # fmt: skip
    """The minutes (their timestamps) a finding would raise an alert, cooldown applied."""
    a = cfg.alerts
    span = a.baseline_min + a.window_min
    judged_from = a.baseline_min // 2  # as maintenance: half a baseline of real history first
    raised: list[float] = []
    for end in range(max(span, judged_from + 1), len(counts) + 1):
        c, g = counts[max(0, end - span) : end], negs[max(0, end - span) : end]
        if kind == "spike":
            found = volume_spike(c, window=a.window_min, alpha=a.ewma_alpha, z_threshold=a.z,
                                 min_count=a.min_count, min_ratio=a.min_ratio)  # fmt: skip
        else:
            found = surge(c, g, window=a.window_min, alpha=a.ewma_alpha, z_threshold=a.negative_z,
                          min_count=a.negative_min_count)  # fmt: skip
        minute = first + (end - 1) * 60
        if found and (not raised or minute - raised[-1] >= cooldown_min * 60):
            raised.append(minute)
    return raised


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=24.0, help="calm hours judged")
    args = parser.parse_args()
    # a fixed local day, so the daily rhythm is the same whenever the bench runs
    end = datetime.now().replace(hour=23, minute=59, second=0, microsecond=0).timestamp() - 86400
    result: dict[str, object] = {"tuned_on": True}
    with tempfile.TemporaryDirectory() as tmp:
        calm_cfg = config(int(args.hours * 60) + 180, crisis=False)
        calm_db = Path(tmp) / "calm.db"
        t0 = time.perf_counter()
        run_demo(calm_cfg, calm_db, 0, now=end)
        calm = series(calm_db)
        result["calm"] = {
            "hours": args.hours,
            "scopes": len(calm),
            "mentions": sum(calm["*"][1]),
            "negative_surges": {
                name: sum(
                    len(findings(calm_cfg, f, c, g, surge, "surge")) for f, c, g in calm.values()
                )
                for name, surge in (("plain", plain_surge), ("shipped", negative_surge))
            },
            "volume_spikes": sum(
                len(findings(calm_cfg, f, c, g, negative_surge, "spike"))
                for f, c, g in calm.values()
            ),
            "seconds": round(time.perf_counter() - t0, 1),
        }
        crisis_cfg = config(180, crisis=True)
        crisis_db = Path(tmp) / "crisis.db"
        started = run_demo(crisis_cfg, crisis_db, 14, now=end)
        outbreak = started + crisis_cfg.sources[0].crisis_first_min * 60  # type: ignore[union-attr]
        first, counts, negs = series(crisis_db)["lumio"]
        lags: dict[str, float | None] = {}
        for name, surge in (("plain", plain_surge), ("shipped", negative_surge)):
            after = [
                m
                for m in findings(crisis_cfg, first, counts, negs, surge, "surge")
                if m >= outbreak
            ]
            lags[name] = round((after[0] + 60 - outbreak) / 60, 1) if after else None
        result["crisis_minutes_to_surge"] = lags
    print(json.dumps(result))


if __name__ == "__main__":
    main()
