"""Users with scrypt passwords; an append-only, hash-chained audit trail that detects tampering."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest

from app.workflow import audit
from app.workflow.service import QueueWorkflow
from app.workflow.users import AuthFailed, authenticate, check_password, hash_password
from tests.workflow.conftest import PASSWORD, Tx, queue_items


def test_passwords_are_salted_scrypt_and_checked(conn) -> None:
    stored = conn.execute("SELECT password FROM users WHERE name = 'olga'").fetchone()[0]
    assert stored.startswith("scrypt$131072$8$1$") and PASSWORD not in stored
    assert hash_password(PASSWORD) != hash_password(PASSWORD)
    assert check_password(PASSWORD, stored) and not check_password("wrong", stored)
    assert authenticate(conn, "olga", PASSWORD).role == "operator"
    with pytest.raises(AuthFailed):
        authenticate(conn, "olga", "wrong password")
    with pytest.raises(AuthFailed):
        authenticate(conn, "nobody", PASSWORD)


def _trail(conn: sqlite3.Connection, tx: Tx) -> None:
    wf = QueueWorkflow()
    for mid in queue_items(conn, 3):
        tx(wf.claim, "olga", mid)
        tx(wf.dismiss, "olga", mid, "duplicate")


def test_an_intact_trail_verifies(conn, tx: Tx) -> None:
    _trail(conn, tx)
    result = audit.verify(conn)
    assert result.ok and result.rows == 7 + 6  # seven users added, two actions on three items


def test_the_trail_refuses_updates_and_deletes(conn, tx: Tx) -> None:
    _trail(conn, tx)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE audit SET actor = 'someone else' WHERE id = 9")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM audit WHERE id = 9")


def _bypass(conn: sqlite3.Connection) -> None:
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("DROP TRIGGER audit_no_delete")


def test_a_changed_row_is_detected(conn, tx: Tx) -> None:
    _trail(conn, tx)
    _bypass(conn)
    conn.execute("UPDATE audit SET actor = 'omar' WHERE id = 9")
    result = audit.verify(conn)
    assert not result.ok and result.first_bad_id == 9 and "changed" in result.reason


def test_a_rehashed_row_breaks_the_next_link(conn, tx: Tx) -> None:
    _trail(conn, tx)
    _bypass(conn)
    row = conn.execute("SELECT * FROM audit WHERE id = 9").fetchone()
    forged = audit.row_hash(row[7], 9, row[1], "omar", row[3], row[4], row[5], row[6])
    conn.execute("UPDATE audit SET actor = 'omar', hash = ? WHERE id = 9", (forged,))
    result = audit.verify(conn)
    assert not result.ok and result.first_bad_id == 10 and "link" in result.reason


def test_a_deleted_row_is_detected(conn, tx: Tx) -> None:
    _trail(conn, tx)
    _bypass(conn)
    conn.execute("DELETE FROM audit WHERE id = 9")
    result = audit.verify(conn)
    assert not result.ok and result.first_bad_id == 9 and "missing" in result.reason


def test_a_truncated_tail_is_detected(conn, tx: Tx) -> None:
    _trail(conn, tx)
    _bypass(conn)
    conn.execute("DELETE FROM audit WHERE id >= 12")
    result = audit.verify(conn)
    assert not result.ok and result.first_bad_id == 12


def test_cli_users_add_and_audit_verify(db_path) -> None:
    env = {**os.environ, "XDG_DATA_HOME": str(db_path.parent / "data")}  # the audit key's folder

    def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "app", *args, "--db", str(db_path)], env=env,
                              input=stdin, capture_output=True, text=True, timeout=60)  # fmt: skip

    added = cli("users", "add", "olga", "--role", "approver", "--spokesperson",
                stdin=f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert cli("users", "add", "olga", "--role", "viewer", stdin=f"{PASSWORD}\n{PASSWORD}\n").returncode == 1
    assert "differ" in cli("users", "add", "x", "--role", "viewer", stdin="a" * 9 + "\nb\n").stderr
    listed = cli("users", "list")
    assert listed.stdout.strip() == "olga\tapprover\tspokesperson"
    new = "another long password"
    assert cli("users", "passwd", "olga", stdin=f"{new}\n{new}\n").returncode == 0
    assert cli("users", "passwd", "nobody", stdin=f"{new}\n{new}\n").returncode == 1
    assert cli("users", "disable", "olga").returncode == 0
    assert cli("users", "list").stdout.strip() == ""
    assert cli("users", "enable", "olga").returncode == 0
    ok = cli("audit", "verify")
    assert ok.returncode == 0 and "intact (4 rows)" in ok.stdout
    conn = sqlite3.connect(db_path)
    assert authenticate(conn, "olga", new).name == "olga"
    conn.close()
    conn = sqlite3.connect(db_path)
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("UPDATE audit SET after = '{}' WHERE id = 1")
    conn.commit()
    conn.close()
    broken = cli("audit", "verify")
    assert broken.returncode == 1 and "broken at row 1" in broken.stderr
    exported = cli("export", "--what", "audit")
    assert '"action": "user.add"' in exported.stdout
