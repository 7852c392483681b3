"""A real-peer test that cannot start its peer fails in CI instead of quietly skipping."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_a_missing_peer_fails_in_ci_and_is_skipped_elsewhere(tmp_path: Path) -> None:
    (tmp_path / "test_uses_peer.py").write_text("def test_peer(bluesky_peer):\n    pass\n")
    # no node, no redis-server on this PATH: the Bluesky peer cannot start
    env = {**os.environ, "PATH": str(tmp_path), "PYTHONPATH": str(REPO)}
    outcomes = {}
    for ci in ("true", ""):
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "tests.conftest", "-p", "no:cacheprovider",
             "test_uses_peer.py"],
            cwd=tmp_path, env={**env, "CI": ci}, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        outcomes[ci] = (proc.returncode, proc.stdout)
    code, out = outcomes["true"]
    assert code == 1 and "1 error" in out and "a missing peer is a failure" in out, out
    code, out = outcomes[""]
    assert code == 0 and "1 skipped" in out and "Bluesky peer unavailable" in out, out
