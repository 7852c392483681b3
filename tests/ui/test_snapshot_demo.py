"""``snapshot --demo-minute``: the wall of a demo run that far in, simulated, not staged."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from app.config import Config
from app.demorun import run_demo
from app.resources import demo_config_path


def _alerts(db: Path, started: float) -> list[tuple[str, str, str]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT kind, topic, state FROM alerts WHERE ts > ? ORDER BY ts",
                            (started,)).fetchall()  # fmt: skip
    finally:
        conn.close()


def _afternoon() -> float:
    """The latest 14:00 local time that has passed: the demo's daily rhythm is quiet at night,
    and what this test counts must not hang on the hour it runs."""
    today = datetime.now().replace(hour=14, minute=0, second=0, microsecond=0)
    return (today if today.timestamp() <= time.time() else today - timedelta(days=1)).timestamp()


def test_minute_one_is_calm_and_minute_eight_is_the_live_crisis(tmp_path: Path, wall_config: Config) -> None:
    now = _afternoon()
    calm = tmp_path / "m1.db"
    started = run_demo(wall_config, calm, 1, now=now)
    assert started == now - 60
    assert not _alerts(calm, started)  # history before the start is on record, nothing is live
    crisis = tmp_path / "m8.db"
    started = run_demo(wall_config, crisis, 8, now=now)
    alerts = _alerts(crisis, started)
    # the brand's crisis wakes the room (a surge of negatives first, its spike as minute 8 ends)
    assert ("lumio", "active") in {(topic, state) for _, topic, state in alerts}, alerts
    conn = sqlite3.connect(crisis)
    newest = conn.execute("SELECT max(ts) FROM mentions").fetchone()[0]
    assert now - 60 < newest <= now  # the run ends now: every "ago" on the picture is true
    queued = conn.execute("SELECT queue.queued_ts, m.ts FROM queue JOIN mentions m ON m.id = mention_id"
                          " WHERE m.ts > ?", (started,)).fetchall()  # fmt: skip
    # each post was queued at the poll that brought it, on the run's clock, not when the run
    # ended: a post of the run's first minutes has waited since it came ("oldest <1m" was false)
    assert queued and all(0 <= q - ts <= 60 for q, ts in queued), queued
    assert 4 * 60 < now - min(q for q, _ in queued) <= 8 * 60 + 10
    conn.close()


def test_the_command_draws_the_crisis_scene(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "cfg"), "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_STATE_HOME": str(tmp_path / "state"), "QT_QPA_PLATFORM": "offscreen"}  # fmt: skip
    out = tmp_path / "out"
    args = [sys.executable, "-m", "app", "snapshot", "--config", str(demo_config_path()),
            "--layout", "exec", "--out", str(out)]  # fmt: skip
    proc = subprocess.run([*args, "--demo-minute", "8"], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [str(out / "exec.png")]
    assert (out / "exec.png").stat().st_size > 10_000
    assert not (tmp_path / "data").exists() or not list((tmp_path / "data").rglob("*.db"))  # no database kept
    proc = subprocess.run([*args, "--demo-minute", "-1"], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 2 and "--demo-minute -1" in proc.stderr, proc.stderr
