"""Room processes for tests: a hub (`watchfloor poll`) and a station (`watchfloor room sync`)."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg

from tests.room import cluster as pg
from tests.room.conftest import RoomDb


class Proc:
    """A watchfloor subprocess whose output goes to files (a pipe nobody reads could fill)."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], workdir: Path, *,
                 module: str = "app") -> None:  # fmt: skip
        self.name = name
        self.out = workdir / f"{name}.out"
        self.err = workdir / f"{name}.err"
        with self.out.open("w") as out, self.err.open("w") as err:
            self.popen = subprocess.Popen([sys.executable, "-m", module, *args], stdout=out,
                                          stderr=err, env=env)  # fmt: skip

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
        return self.popen.wait(timeout)

    def output(self) -> str:
        return self.out.read_text() + self.err.read_text()

    def last_line(self) -> str:
        lines = self.out.read_text().strip().splitlines()
        return lines[-1] if lines else ""


def hub(room: RoomDb, workdir: Path, name: str, env: dict[str, str], sources: str,
        *extra: str) -> Proc:  # fmt: skip
    config = room.write_config(workdir / f"{name}.toml", sources=sources, station=name)
    return Proc(name, ["poll", "--config", str(config), "--db", str(workdir / f"{name}.db"),
                       *extra], env, workdir)  # fmt: skip


def station(room: RoomDb, workdir: Path, name: str, env: dict[str, str], *extra: str) -> Proc:
    config = room.write_config(workdir / f"{name}.toml", station=name)
    return Proc(name, ["room", "sync", "--config", str(config), "--db",
                       str(workdir / f"{name}.db"), *extra], env, workdir)  # fmt: skip


def wall_pc(room: RoomDb, workdir: Path, name: str, env: dict[str, str]) -> Proc:
    """A wall PC: its station and the layout's wall windows offscreen (:mod:`tests.room.wall_proc`)."""
    config = room.write_config(workdir / f"{name}.toml", station=name)
    return Proc(name, [str(config), str(workdir / f"{name}.db")],
                {**env, "QT_QPA_PLATFORM": "offscreen"}, workdir, module="tests.room.wall_proc")  # fmt: skip


def owner(room: RoomDb) -> psycopg.Connection[tuple[Any, ...]]:
    return psycopg.connect(room.cluster.url(room.dbname, pg.OWNER), password=pg.OWNER_PASSWORD,
                           autocommit=True, options="-c search_path=watchfloor")  # fmt: skip


def room_mentions(room: RoomDb) -> list[tuple[int, str]]:
    """(seq, id) of every mention in the room, by sequence."""
    try:
        with owner(room) as conn:
            return [(int(s), str(i)) for s, i in
                    conn.execute("SELECT seq, id FROM mentions ORDER BY seq")]  # fmt: skip
    except psycopg.OperationalError:
        return []


def cache_ids(db: Path) -> set[str]:
    """The mention ids in a station's SQLite cache (empty while it does not exist yet)."""
    if not db.exists():
        return set()
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {r[0] for r in conn.execute("SELECT id FROM mentions")}
    except sqlite3.OperationalError:  # the schema is not there yet
        return set()
    finally:
        conn.close()


def cache_meta(db: Path, key: str) -> str | None:
    if not db.exists():
        return None
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None
    except sqlite3.OperationalError:
        return None
    finally:
        conn.close()


def rewrite_audit_row(room: RoomDb, row_id: int) -> None:
    """What an attacker with the owner's password could do: change a row of the trail."""
    with owner(room) as conn:
        conn.execute("ALTER TABLE audit DISABLE TRIGGER audit_no_change")
        conn.execute("UPDATE audit SET actor = 'mallory' WHERE id = %s", (row_id,))
