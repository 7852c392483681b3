"""Retention keeps up: a backlog of old mentions, alerts and wall commands goes while polling."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

OLD = 60_000  # three times what one pruning turn every ten minutes used to remove
CONFIG = """
[brand]
name = "Lumio"
[[topics]]
name = "lumio"
query = "lumio"
[[sources]]
name = "demo"
type = "demo"
rate_per_minute = 60
backfill_min = 0
seed = 4
rhythm = false  # a flat rate: what is counted does not hang on the hour the test runs
[retention]
mentions_days = 30
alerts_days = 90
"""


def run(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_STATE_HOME": str(tmp / "state"), "WATCHFLOOR_CONFIG": str(tmp / "c.toml")}
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True,
                          env=env, timeout=120, cwd=tmp)  # fmt: skip


def test_pruning_keeps_up_with_a_backlog_and_reaches_alerts_and_wall_commands(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text(CONFIG)
    db = tmp_path / "r.db"
    made = run(tmp_path, "poll", "--once", "--db", str(db))
    assert made.returncode == 0, made.stderr
    now = time.time()
    old = now - 40 * 86400
    conn = sqlite3.connect(db)
    with conn:
        first = conn.execute("SELECT coalesce(max(rowid), 0) FROM mentions").fetchone()[0] + 1
        conn.executemany(
            "INSERT INTO mentions (rowid, id, network, source, text, ts, fetched_ts, sentiment, topics,"
            " needs_response, priority, reasons) VALUES (?, ?, 'demo', 'demo', 'old lumio news', ?, ?, 0,"
            " '[\"lumio\"]', 0, 4, '[]')",
            ((first + i, f"demo:old-{i}", old + i, old + i) for i in range(OLD)),
        )
        conn.executemany("INSERT INTO mention_topics (topic, ts, mention) VALUES ('lumio', ?, ?)",
                         ((old + i, first + i) for i in range(OLD)))  # fmt: skip
        # an old post still waiting for an answer is kept, whatever its age
        conn.execute("INSERT INTO queue (mention_id, priority, queued_ts, updated_ts) VALUES"
                     " ('demo:old-7', 2, ?, ?)", (now, now))  # fmt: skip
        conn.executemany(
            "INSERT INTO alerts (kind, topic, ts, window_start, observed, baseline, z, explanation, state)"
            " VALUES ('spike', 'lumio', ?, ?, 9, 1, 5, ?, ?)",
            [(now - 200 * 86400, now - 200 * 86400, "long ago, resolved", "resolved"),
             (now - 200 * 86400, now - 200 * 86400, "long ago, never acknowledged", "active"),
             (now - 3600, now - 3600, "an hour ago", "resolved")],
        )
        conn.executemany(
            "INSERT INTO wall_commands (ts, command, args) VALUES (?, ?, ?)",
            [(now - 5 * 86400, "spotlight", json.dumps({"mention_id": "demo:old-7"})),
             *[(now - 4 * 86400, "scene", json.dumps({"screen": "a", "scene": "b"}))] * 50,
             (now - 3 * 86400, "reload", "{}")],
        )
    conn.close()

    polled = run(tmp_path, "poll", "--for", "8", "--db", str(db))  # one process: one start
    assert polled.returncode == 0, polled.stderr

    conn = sqlite3.connect(db)
    try:
        left = [r[0] for r in conn.execute("SELECT id FROM mentions WHERE ts < ?", (now - 30 * 86400,))]
        assert left == ["demo:old-7"]
        assert conn.execute("SELECT count(*) FROM mentions WHERE ts > ?", (now - 3600,)).fetchone()[0] > 0
        (topics,) = conn.execute("SELECT count(*) FROM mention_topics WHERE ts < ?", (now - 30 * 86400,)).fetchone()
        assert topics == 0
        alerts = {r[0] for r in conn.execute("SELECT explanation FROM alerts WHERE topic = 'lumio' AND z = 5")}
        assert alerts == {"long ago, never acknowledged", "an hour ago"}
        commands = [r[0] for r in conn.execute("SELECT command FROM wall_commands ORDER BY id")]
        assert commands == ["spotlight", "reload"]  # the spotlight walls show, the newest id
    finally:
        conn.close()
