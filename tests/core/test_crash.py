"""A poller killed with SIGKILL mid-ingest loses no committed mention and resumes from its cursor."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

CONFIG = """
[brand]
name = "Lumio"
accounts = ["@lumio@mastodon.example"]

[[topics]]
name = "lumio"
query = "lumio OR @lumio"

[[sources]]
name = "demo"
type = "demo"
rate_per_minute = 30000
backfill_min = 5
seed = 7
crisis_every_min = 0
"""


def poll(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CACHE_HOME": str(tmp_path)}
    return subprocess.Popen(
        [sys.executable, "-m", "app", "poll", "--config", str(config), "--db",
         str(tmp_path / "w.db"), "-v", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip


def check_consistent(db: Path) -> tuple[int, dict[str, object]]:
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    (count,) = conn.execute("SELECT count(*) FROM mentions").fetchone()
    (rolled,) = conn.execute(
        "SELECT coalesce(sum(n), 0) FROM rollups WHERE res = 60 AND topic = '*'"
    ).fetchone()
    assert rolled == count, "rollups are committed with their mentions"
    cursor = json.loads(
        conn.execute("SELECT cursor FROM source_state WHERE name = 'demo'").fetchone()[0]
    )
    # the demo numbers its posts; the committed cursor counts exactly what is stored
    assert cursor["n"] == count
    (top,) = conn.execute(
        "SELECT max(CAST(substr(id, instr(id, '-') + 1) AS INT)) FROM mentions"
    ).fetchone()
    assert top == count - 1
    conn.close()
    return count, cursor


def test_sigkill_loses_nothing_and_resumes(tmp_path: Path) -> None:
    proc = poll(tmp_path, "--for", "120")
    db = tmp_path / "w.db"
    deadline = time.monotonic() + 60
    acknowledged = 0
    assert proc.stderr is not None
    # wait until several pages are committed, then kill mid-stream
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if m := re.search(r"committed page (\d+), (\d+) stored so far", line):
            acknowledged = int(m.group(2))
            if int(m.group(1)) >= 6:
                break
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=10)  # reaps it and closes its pipes
    assert acknowledged > 0
    count, cursor = check_consistent(db)
    assert count >= acknowledged

    again = poll(tmp_path, "--once")
    _, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    count2, cursor2 = check_consistent(db)
    assert count2 > count
    assert cursor2["seed"] == cursor["seed"] == 7
    assert cursor2["until"] > cursor["until"]
