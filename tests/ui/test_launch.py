"""``watchfloor wall --poll`` for real: walls and poller on one qasync loop, stopped by SIGTERM."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path


def test_wall_with_poller_runs_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
           "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_DATA_HOME": str(tmp_path / "data")}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "wall", "--poll", "--layout", "demo", "--db", str(db)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        stored = 0
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.5)
            if db.exists():
                try:
                    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
                    (stored,) = conn.execute("SELECT count(*) FROM mentions").fetchone()
                    conn.close()
                except sqlite3.OperationalError:
                    continue
                if stored > 1000:
                    break
        assert proc.poll() is None, proc.communicate()[1]
        assert stored > 1000, "the demo source fills the database while the walls run"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    (status,) = conn.execute("SELECT status FROM source_state WHERE name = 'demo'").fetchone()
    conn.close()
    assert status in {"ok", "starting"}
