"""Wall commands shared through the room: a console anywhere steers every wall PC.

A command (switch a screen's scene, spotlight a post, clear it, reload the layout) is held
in the room's ``wall_commands``, audited on the room's chain and logged in the change log
in one transaction. Each station's sync copies it into its own cache's ``wall_commands``
under an id of the cache's own (:func:`copy_commands`), where the wall reads it exactly as
it reads a command given on its own machine (:mod:`app.wallcontrol`).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Sequence
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from app import wallcontrol
from app.room.publish import log_change
from app.room.queue import append_audit, room_user
from app.workflow.service import wall_permission
from app.workflow.states import WorkflowError

#: room ids remembered below the newest copied (commands committed out of id order)
WINDOW = 200
#: a room command as a station reads it: id, ts, target, command, args, issued_by
RoomCommand = tuple[int, float, str, str, dict[str, Any], str]


def issue(conn: psycopg.Connection[Any], actor: str, command: wallcontrol.Command,
          args: dict[str, Any] | None = None, *, target: str = "*") -> int:  # fmt: skip
    """Give the walls a command as ``actor`` (a spotlight needs a handler, the rest an
    approver or admin); the room's id of the command."""
    if command not in wallcontrol.COMMANDS:
        raise WorkflowError(f"unknown wall command {command!r}")
    given = dict(args or {})
    with conn.transaction():
        name, role = room_user(conn, actor)
        wall_permission(role, command)
        now = time.time()
        (cid,) = conn.execute(
            "INSERT INTO wall_commands (ts, target, command, args, issued_by)"
            " VALUES (%s, %s, %s, %s, %s) RETURNING id", (now, target, command, Jsonb(given), name),
        ).fetchone() or (0,)  # fmt: skip
        log_change(conn, ["wall_commands"], [str(cid)])
        append_audit(conn, name, f"wall.{command}", target, {}, given, now=now)
        return int(cid)


class CommandCopy:
    """Which of the room's commands a cache holds: the newest id copied and the ids copied
    in the :data:`WINDOW` below it (a command committed late, under a lower id, still comes)."""

    def __init__(self, state: str | None) -> None:
        found = json.loads(state) if state else None
        self.first = found is None
        self.last = int(found["last"]) if found else 0
        self.copied = {int(i) for i in found["copied"]} if found else set()

    def dump(self) -> str:
        return json.dumps({"last": self.last, "copied": sorted(self.copied)})

    def read(self, conn: psycopg.Connection[Any]) -> list[RoomCommand]:
        """The room's commands this cache lacks, in id order. A cache's first read takes none
        of the past (a wall would replay yesterday's scenes) but the spotlight standing now."""
        cols = "SELECT id, ts, target, command, args, issued_by FROM wall_commands"
        if self.first:
            (top,) = conn.execute("SELECT coalesce(max(id), 0) FROM wall_commands").fetchone() or (0,)
            rows = conn.execute(f"{cols} WHERE command IN ('spotlight', 'clear_spotlight')"
                                " ORDER BY id DESC LIMIT 1").fetchall()  # fmt: skip
            self.first, self.last = False, int(top)
            self.copied = {int(i) for (i,) in conn.execute(
                "SELECT id FROM wall_commands WHERE id > %s", (self.last - WINDOW,))}  # fmt: skip
            return [_command(r) for r in rows if r[3] == "spotlight"]
        rows = conn.execute(f"{cols} WHERE id > %s ORDER BY id",
                            (self.last - WINDOW,)).fetchall()  # fmt: skip
        new = [_command(r) for r in rows if int(r[0]) not in self.copied]
        self.copied |= {c[0] for c in new}
        self.last = max([self.last, *(c[0] for c in new)])
        self.copied = {i for i in self.copied if i > self.last - WINDOW}
        return new


def _command(row: Sequence[Any]) -> RoomCommand:
    args = row[4] if isinstance(row[4], dict) else {}
    return int(row[0]), float(row[1]), str(row[2]), str(row[3]), args, str(row[5])


def copy_commands(conn: sqlite3.Connection, commands: Iterable[RoomCommand]) -> int:
    """The room's commands into a cache's ``wall_commands``, each under a new local id (after
    every id the wall has applied), so its wall applies them as its own."""
    n = 0
    for _, ts, target, command, args, by in commands:
        if command in wallcontrol.COMMANDS:
            wallcontrol.issue(conn, command, args, target=target, by=by, now=ts)
            n += 1
    return n
