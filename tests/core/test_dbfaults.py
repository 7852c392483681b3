"""Database faults through the real commands: one clear line, a non-zero exit, nothing made up.

A damaged file (bad header, cut short, a damaged index page, random pages), a read-only
folder, a schema from a newer program, a damaged or missing audit table, a mistyped
``--db``, a folder or a text file given as the database.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.store.db import READER_BUSY_MS, open_reader, probe

PAGE = 4096
CONFIG = """
[brand]
name = "Lumio"
[[topics]]
name = "lumio"
query = "lumio"
[[sources]]
name = "demo"
type = "demo"
rate_per_minute = 3000  # any poll, however soon after the last, has posts to store
rhythm = false
backfill_min = 2
seed = 5
crisis_every_min = 0
"""
DAMAGED = re.compile(r"is damaged|not a watchfloor database")


def run(tmp: Path, *args: str, prefix: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp / "cfg"), "XDG_DATA_HOME": str(tmp / "data"),
           "XDG_STATE_HOME": str(tmp / "state"), "WATCHFLOOR_CONFIG": str(tmp / "config.toml")}  # fmt: skip
    return subprocess.run([*(prefix or []), sys.executable, "-m", "app", *args],
                          capture_output=True, text=True, env=env, timeout=120, cwd=tmp)  # fmt: skip


def clean(proc: subprocess.CompletedProcess[str]) -> str:
    """stderr, after checking that nothing printed a traceback."""
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    assert "internal error" not in proc.stderr, proc.stderr
    return proc.stderr


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A database the program itself made: half an hour of demo history."""
    tmp = tmp_path_factory.mktemp("dbfaults")
    (tmp / "config.toml").write_text(CONFIG)
    db = tmp / "made.db"
    proc = run(tmp, "poll", "--once", "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    assert not Path(f"{db}-wal").exists()  # closed cleanly: everything is in the file
    yield db


@pytest.fixture
def work(tmp_path: Path, made: Path) -> Path:
    (tmp_path / "config.toml").write_text(CONFIG)
    db = tmp_path / "w.db"
    shutil.copy(made, db)
    return db


def _rootpage(db: Path, name: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (name,)).fetchone()[0])
    finally:
        conn.close()


def _overwrite(db: Path, pages: list[int], seed: int) -> None:
    rnd = random.Random(seed)
    data = bytearray(db.read_bytes())
    for page in pages:
        data[(page - 1) * PAGE : page * PAGE] = bytes(rnd.randrange(256) for _ in range(PAGE))
    db.write_bytes(bytes(data))


def damage(db: Path, kind: str) -> None:
    if kind == "header":
        data = bytearray(db.read_bytes())
        data[:16] = b"not sqlite here!"
        db.write_bytes(bytes(data))
    elif kind == "truncated":
        db.write_bytes(db.read_bytes()[: db.stat().st_size // 3])
    elif kind == "index-page":  # the unique index on mentions.id: every ingest reads it
        _overwrite(db, [_rootpage(db, "sqlite_autoindex_mentions_1")], seed=3)
    elif kind == "random-pages":  # a quarter of them: whatever poll touches, it meets one
        pages = db.stat().st_size // PAGE
        rnd = random.Random(1)
        _overwrite(db, rnd.sample(range(2, pages + 1), pages // 4), seed=1)
    else:
        raise AssertionError(kind)


READERS = [("export", "--what", "mentions"), ("users", "list")]
CHECKERS = [("doctor", "--headless", "--offline"), ("poll", "--once"),
            ("snapshot", "--out", "OUT"), ("audit", "verify")]  # fmt: skip


@pytest.mark.parametrize("kind", ["header", "truncated", "index-page", "random-pages"])
def test_a_damaged_database_is_named_by_every_command(work: Path, kind: str) -> None:
    damage(work, kind)
    # a damaged start of the file stops every reader; damage elsewhere is found by the
    # commands that check (doctor, audit verify, snapshot) or that write (poll)
    commands = CHECKERS + (READERS if kind in {"header", "truncated"} else [])
    for command in commands:
        args = [a.replace("OUT", str(work.parent / "shots")) for a in command]
        proc = run(work.parent, *args, "--db", str(work))
        err = clean(proc)
        assert proc.returncode == 1, (command, proc.stdout, err)
        said = proc.stdout if command[0] == "doctor" else err
        assert DAMAGED.search(said), (command, said)
    assert not list((work.parent / "shots").glob("*.png")), "no snapshot of blank tiles"
    assert probe(work, thorough=True) is not None  # what a wall shows of its damaged cache


def test_probe_says_nothing_of_a_good_or_missing_file(work: Path) -> None:
    assert probe(work, thorough=True) is None
    assert probe(work.parent / "none-yet.db") is None


def unprivileged() -> list[str]:
    """Run a command without root's power to ignore file permissions (a read-only folder)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    assert setpriv, "setpriv (util-linux) drops root's permission override for this test"
    return [setpriv, "--bounding-set", "-dac_override,-dac_read_search,-fowner"]


def test_a_read_only_folder_is_read_and_doctor_says_it_is_not_writable(work: Path) -> None:
    folder = work.parent / "ro"
    folder.mkdir()
    db = folder / "w.db"
    shutil.move(work, db)
    folder.chmod(0o555)
    try:
        as_user = unprivileged()
        for command in [("users", "list"), ("export", "--what", "alerts"), ("audit", "verify")]:
            proc = run(work.parent, *command, "--db", str(db), prefix=as_user)
            clean(proc)
            assert proc.returncode == 0, (command, proc.stderr)
        exported = run(work.parent, "export", "--what", "mentions", "--db", str(db), prefix=as_user)
        assert exported.returncode == 0 and len(exported.stdout.splitlines()) > 100
        doctor = run(work.parent, "doctor", "--headless", "--offline", "--db", str(db), prefix=as_user)
        clean(doctor)
        assert doctor.returncode == 1
        assert "readable" in doctor.stdout and "not writable here" in doctor.stdout
        assert "is read-only" in doctor.stdout
        poll = run(work.parent, "poll", "--once", "--db", str(db), prefix=as_user)
        assert poll.returncode == 1 and "read-only" in clean(poll)
        assert sorted(p.name for p in folder.iterdir()) == ["w.db"]  # nothing written
        # a writer's -wal left beside it cannot be read without a -shm: said, not skipped
        folder.chmod(0o755)
        Path(f"{db}-wal").write_bytes(b"")
        folder.chmod(0o555)
        proc = run(work.parent, "users", "list", "--db", str(db), prefix=as_user)
        assert proc.returncode == 1 and "cannot make the -shm file" in clean(proc)
    finally:
        folder.chmod(0o755)


def test_a_database_from_a_newer_program_is_refused(work: Path) -> None:
    conn = sqlite3.connect(work)
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    before = work.read_bytes()
    for command in [*CHECKERS, *READERS]:
        args = [a.replace("OUT", str(work.parent / "shots")) for a in command]
        proc = run(work.parent, *args, "--db", str(work))
        err = clean(proc)
        assert proc.returncode == 1, (command, proc.stdout, err)
        said = proc.stdout if command[0] == "doctor" else err
        assert "schema v999, newer than this program" in said, (command, said)
    assert work.read_bytes() == before


def test_a_missing_or_damaged_audit_table(work: Path) -> None:
    conn = sqlite3.connect(work)
    conn.execute("INSERT INTO meta (key, value) VALUES ('audit_head', 'garbage')")
    conn.commit()
    proc = run(work.parent, "audit", "verify", "--db", str(work))
    assert proc.returncode == 1 and "audit trail unreadable" in clean(proc)
    doctor = run(work.parent, "doctor", "--headless", "--offline", "--db", str(work))
    clean(doctor)
    assert doctor.returncode == 1 and "FAIL audit trail unreadable" in doctor.stdout
    conn.execute("DROP TABLE audit")
    conn.commit()
    conn.close()
    proc = run(work.parent, "audit", "verify", "--db", str(work))
    assert proc.returncode == 1 and "no such table: audit" in clean(proc)
    doctor = run(work.parent, "doctor", "--headless", "--offline", "--db", str(work))
    clean(doctor)
    assert doctor.returncode == 1 and "FAIL audit trail unreadable" in doctor.stdout


def test_a_mistyped_db_is_an_error_not_a_new_empty_database(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(CONFIG)
    typo = tmp_path / "watchfloor.bd"
    for command in [("export",), ("export", "--what", "audit"), ("audit", "verify"), ("users", "list"),
                    ("users", "disable", "ana")]:  # fmt: skip
        proc = run(tmp_path, *command, "--db", str(typo))
        assert proc.returncode == 1, (command, proc.stdout, proc.stderr)
        assert f"no database at {typo}" in clean(proc)
        assert not typo.exists()


def test_a_folder_or_a_text_file_given_as_the_database(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(CONFIG)
    text = tmp_path / "notes.txt"
    text.write_text("these are not the rows you are looking for\n" * 200)
    for db, said in [(tmp_path, "is a folder"), (text, "not a watchfloor database")]:
        for command in [("poll", "--once"), ("export",), ("users", "list"), ("audit", "verify")]:
            proc = run(tmp_path, *command, "--db", str(db))
            assert proc.returncode == 1, (command, proc.stderr)
            assert said in clean(proc), (command, proc.stderr)
        doctor = run(tmp_path, "doctor", "--headless", "--offline", "--db", str(db))
        clean(doctor)
        assert doctor.returncode == 1 and said in doctor.stdout
    assert text.read_text().startswith("these are not")


def test_a_reader_waits_briefly_on_a_lock(work: Path) -> None:
    """A wall's reader on the GUI thread must not freeze for seconds behind another process."""
    conn = open_reader(work, create=False)
    try:
        (busy,) = conn.execute("PRAGMA busy_timeout").fetchone()
    finally:
        conn.close()
    assert busy == READER_BUSY_MS <= 250
