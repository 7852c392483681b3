"""The audit trail proves itself: rows signed with a key kept outside the database, and signed
checkpoints of its head in a file. Someone with the database but not the key cannot cut,
extend, rewrite or thin it without `audit verify` saying so (a plain hash chain let all four
through, re-chained)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from app.resources import demo_config_path
from app.workflow import audit
from tests.workflow.conftest import PASSWORD


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A config whose audit key and checkpoint file live apart from the database."""
    tmp_path = tmp_path_factory.mktemp("anchor")
    text = demo_config_path().read_text(encoding="utf-8")
    cfg = tmp_path / "config.toml"
    cfg.write_text(text.split("[[sources]]")[0] + f"""
[audit]
key_file = "{tmp_path / 'service' / 'audit.key'}"
checkpoint_file = "{tmp_path / 'anchors' / 'checkpoints.log'}"
checkpoint_every_min = 0.1
syslog = false
""", encoding="utf-8")
    return tmp_path


def cli(site: Path, *args: str, db: Path | None = None, stdin: str = "",
        config: Path | None = None) -> subprocess.CompletedProcess[str]:  # fmt: skip
    env = {**os.environ, "XDG_DATA_HOME": str(site / "data"), "XDG_CONFIG_HOME": str(site / "cfg")}
    return subprocess.run(
        [sys.executable, "-m", "app", *args, "--config", str(config or site / "config.toml"),
         "--db", str(db or site / "w.db")],
        input=stdin, capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip


def add(site: Path, name: str) -> None:
    done = cli(site, "users", "add", name, "--role", "operator", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert done.returncode == 0, done.stderr


def checkpoint(site: Path) -> None:
    """The service's periodic checkpoint, as `watchfloor poll` writes it."""
    polled = cli(site, "poll", "--once")
    assert polled.returncode == 0, polled.stderr


@pytest.fixture(scope="module")
def trail(site: Path) -> Path:
    """Five signed rows, anchored at row 3 (the tests forge copies of it)."""
    for name in ("olga", "omar", "ada"):
        add(site, name)
    checkpoint(site)
    for name in ("sam", "vic"):
        add(site, name)
    return site / "w.db"


def test_rows_are_signed_and_verify_names_the_last_anchored_point(site: Path, trail: Path) -> None:
    key = site / "service" / "audit.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    lines = (site / "anchors" / "checkpoints.log").read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["id"] == 3
    conn = sqlite3.connect(trail)
    assert conn.execute("SELECT count(*) FROM audit WHERE mac IS NULL").fetchone() == (0,)
    conn.close()
    ok = cli(site, "audit", "verify")
    assert ok.returncode == 0, ok.stderr
    line = ok.stdout.strip()
    assert line.startswith("audit trail intact (5 rows)") and "last anchored at row 3" in line
    assert "2 rows since, signed and chained" in line
    assert "\n" not in line


def _rechain(conn: sqlite3.Connection) -> None:
    """What a forger with the file (and the code) does: recompute every hash and the head."""
    prev = audit.GENESIS
    rows = conn.execute("SELECT id, ts, actor, action, target, before, after FROM audit ORDER BY id").fetchall()
    for id_, ts, actor, action, target, before, after in rows:
        digest = audit.row_hash(prev, id_, ts, actor, action, target, before, after)
        conn.execute("UPDATE audit SET prev_hash = ?, hash = ? WHERE id = ?", (prev, digest, id_))
        prev = digest
    last = rows[-1][0] if rows else 0
    conn.execute("UPDATE meta SET value = ? WHERE key = 'audit_head'", (f"{last}:{prev}",))


def _cut_tail(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM audit WHERE id > 4")  # the unanchored rows only


def _append(conn: sqlite3.Connection) -> None:
    conn.execute("INSERT INTO audit (id, ts, actor, action, target, before, after, prev_hash, hash)"
                 " VALUES (6, 1.0, 'root', 'user.add', 'user:mallory', '{}', '{\"role\":\"admin\"}', '', '')")  # fmt: skip


def _rewrite(conn: sqlite3.Connection) -> None:
    conn.execute("UPDATE audit SET actor = 'omar' WHERE id = 5")


def _delete(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM audit WHERE id = 4")
    conn.execute("UPDATE audit SET id = id - 1 WHERE id > 4")


def _restore_old_copy(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM audit WHERE id > 2")  # back to before the checkpoint


@pytest.mark.parametrize("forge", [_cut_tail, _append, _rewrite, _delete, _restore_old_copy])
def test_forgeries_without_the_key_are_detected(site: Path, trail: Path,
                                                forge: Callable[[sqlite3.Connection], None]) -> None:  # fmt: skip
    copy = site / "forged.db"
    shutil.copy(trail, copy)
    conn = sqlite3.connect(copy, isolation_level=None)
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("DROP TRIGGER audit_no_delete")
    forge(conn)
    _rechain(conn)
    conn.close()
    result = cli(site, "audit", "verify", db=copy)
    assert result.returncode == 1, result.stdout
    assert result.stderr.startswith("audit trail broken at row"), result.stderr
    assert "Traceback" not in result.stderr


def test_a_forged_checkpoint_is_detected(site: Path, trail: Path) -> None:
    log = site / "anchors" / "checkpoints.log"
    genuine = log.read_text()
    entry = json.loads(genuine.splitlines()[0])
    log.write_text(genuine + json.dumps({**entry, "id": 5, "ts": entry["ts"] + 60}) + "\n")
    try:
        result = cli(site, "audit", "verify")
    finally:
        log.write_text(genuine)
    assert result.returncode == 1 and "not signed with the audit key (forged)" in result.stderr


def test_without_the_key_verify_says_it_checked_the_chain_only(site: Path, trail: Path) -> None:
    cfg = site / "nokey.toml"
    cfg.write_text((site / "config.toml").read_text().replace("service", "elsewhere"), encoding="utf-8")
    result = cli(site, "audit", "verify", config=cfg)
    assert result.returncode == 0 and "chain only" in result.stdout
    assert not (site / "elsewhere").exists()  # checking never makes a key
