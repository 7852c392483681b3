"""Wall control through the database, so a console in any process or machine can steer walls.

A wall reads, once a second, whether a crisis stands (an open crisis, or an alert not yet
acknowledged) and the commands issued since the last it applied: switch a screen's
scene, put a post in the spotlight, clear it, reload the layout.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from typing import Any, Literal

Command = Literal["scene", "spotlight", "clear_spotlight", "reload"]
COMMANDS: tuple[Command, ...] = ("scene", "spotlight", "clear_spotlight", "reload")


@dataclass(frozen=True, slots=True)
class WallCommand:
    id: int
    ts: float
    target: str
    command: str
    args: dict[str, Any]
    issued_by: str

    def applies_to(self, screen: str) -> bool:
        return self.target in {"*", screen}


@dataclass(frozen=True, slots=True)
class Crisis:
    """What puts the walls in crisis mode: a declared crisis or unacknowledged alerts."""

    crisis_id: int | None
    topic: str | None
    reason: str
    since: float
    active_alerts: int
    #: how many of those are over (back under their threshold, not yet acknowledged)
    subsided_alerts: int = 0


def crisis_state(conn: sqlite3.Connection) -> Crisis | None:
    row = conn.execute(
        "SELECT id, topic, reason, started_ts FROM crises WHERE ended_ts IS NULL"
        " ORDER BY started_ts DESC LIMIT 1"
    ).fetchone()
    active = conn.execute(
        "SELECT ts, topic, kind, observed, baseline, z, subsided_ts FROM alerts WHERE state = 'active'"
        " ORDER BY ts DESC LIMIT 100"
    ).fetchall()
    n_alerts = len(active)
    live = [r for r in active if r[6] is None]
    n_over = n_alerts - len(live)
    if row:
        return Crisis(int(row[0]), row[1], str(row[2] or "crisis declared"), float(row[3]), n_alerts, n_over)
    if n_alerts:
        topic = largest_spike_topic(active)
        label = _label(topic)
        alerts = f"{n_alerts} unacknowledged alert{'s' if n_alerts > 1 else ''}"
        live_topics = sorted({str(r[1]) for r in live}, key=lambda t: (t == "*", t))
        if live and topic not in live_topics:
            # the largest spike is over while something smaller still happens: both said,
            # not the small one's name on the crisis the room is really in
            reason = f"{alerts} ({label}, subsided) · live: {', '.join(_label(t) for t in live_topics)}"
        else:
            over = "" if not n_over else (", all subsided" if not live else f", {n_over} subsided")
            reason = f"{alerts}{over} ({label})"
        return Crisis(None, topic, reason, min(float(r[0]) for r in active), n_alerts, n_over)
    return None


def _label(topic: str) -> str:
    return "all mentions" if topic == "*" else topic


def largest_spike_topic(active: list[tuple[Any, ...]]) -> str:
    """The topic the crisis is about: the largest unacknowledged spike (most mentions per
    minute above its usual; a live one before one that is over), a named topic before
    "all mentions"; without a spike, the strongest negative surge, a live one first.
    (Alphabetical order once named a campaign while the brand burned; preferring any live
    alert named an industry surge while the brand's spike, four times its size, subsided.)"""

    def weight(r: tuple[Any, ...]) -> tuple[int, int, int, float]:
        kind, named, size = alert_weight(r[2], r[1], r[3], r[4], r[5])
        return (kind, int(r[6] is None), named, size)

    return str(max(active, key=weight)[1])


def alert_weight(kind: str, topic: str, observed: float, baseline: float, z: float) -> tuple[int, int, float]:
    """How much an alert matters, for ordering: spikes by mentions per minute above their
    usual, then negative surges by z; a named topic before "all mentions"."""
    named = int(topic != "*")
    if kind == "spike":
        return (2, named, float(observed or 0) - float(baseline or 0))
    return (1, named, float(z or 0))


def commands_since(conn: sqlite3.Connection, after_id: int, limit: int = 100) -> list[WallCommand]:
    rows = conn.execute(
        "SELECT id, ts, target, command, args, issued_by FROM wall_commands WHERE id > ?"
        " ORDER BY id LIMIT ?",
        (after_id, limit),
    ).fetchall()
    out = []
    for id_, ts, target, command, args, by in rows:
        try:
            parsed = json.loads(args)
        except json.JSONDecodeError:
            parsed = {}
        out.append(WallCommand(int(id_), float(ts), str(target), str(command),
                               parsed if isinstance(parsed, dict) else {}, str(by)))  # fmt: skip
    return out


def last_command_id(conn: sqlite3.Connection) -> int:
    (value,) = conn.execute("SELECT coalesce(max(id), 0) FROM wall_commands").fetchone()
    return int(value)


def current_spotlight(conn: sqlite3.Connection) -> str | None:
    """The post in the spotlight now (so a wall started later shows it too)."""
    row = conn.execute(
        "SELECT command, args FROM wall_commands WHERE command IN ('spotlight', 'clear_spotlight')"
        " ORDER BY id DESC LIMIT 1"
    ).fetchone()
    if not row or row[0] != "spotlight":
        return None
    try:
        value = json.loads(row[1]).get("mention_id")
    except (json.JSONDecodeError, AttributeError):
        return None
    return str(value) if value else None


def issue(
    conn: sqlite3.Connection,
    command: Command,
    args: dict[str, Any] | None = None,
    *,
    target: str = "*",
    by: str = "",
    now: float | None = None,
) -> int:
    """Write a command for the walls (inside the caller's transaction); return its id."""
    if command not in COMMANDS:
        raise ValueError(f"unknown wall command {command!r} (one of: {', '.join(COMMANDS)})")
    cur = conn.execute(
        "INSERT INTO wall_commands (ts, target, command, args, issued_by) VALUES (?, ?, ?, ?, ?)",
        (time.time() if now is None else now, target, command, json.dumps(args or {}), by),
    )
    return int(cur.lastrowid or 0)
