"""``doctor``'s look at the room: reachable, TLS as configured, schema, grants, clock, hub.

Clock skew matters because SLA timers compare this machine's time with times the room
recorded from others; the hub lock says which machine polls the networks for the room.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Protocol

import psycopg

from app.config import Room
from app.room.connect import SCHEMA, RoomError, connect, describe, public_url, url_user
from app.room.hub import lock_holder, standing_by
from app.room.queue import verify_audit
from app.room.schema import current_version, grant_problems, latest
from app.room.station import META_SEQ, read_link

#: the sslmodes that demand TLS (libpq refuses to go on without it)
_CHECKED = {"require", "verify-ca", "verify-full"}
#: more clock difference than this between a machine and the room is a problem
MAX_SKEW_S = 2.0


class Report(Protocol):
    def ok(self, text: str) -> None: ...
    def note(self, text: str) -> None: ...
    def bad(self, text: str) -> None: ...


def check_room(report: Report, room: Room, db_path: Path | None = None) -> None:
    """Add the room's lines to ``report``; a problem is a ``bad`` line naming what to do."""
    where = public_url(room)
    try:
        conn = connect(room, purpose="doctor")
    except RoomError as exc:
        report.bad(f"room: {exc}")
        return
    try:
        with conn:
            _check(report, conn, room, where, db_path)
    except psycopg.Error as exc:
        report.bad(f"room {where}: {describe(exc)}")


def _check(report: Report, conn: psycopg.Connection[tuple[object, ...]], room: Room, where: str,
           db_path: Path | None) -> None:  # fmt: skip
    user = url_user(room)
    version = conn.info.server_version
    report.ok(f"room {where} reachable as {user} (PostgreSQL {version // 10000}.{version % 10000})")
    tls = bool(conn.pgconn.ssl_in_use)
    if not tls:
        text = (f"room link without TLS (sslmode = {room.sslmode}): anyone on the network path "
                "can read it; set sslmode = \"verify-full\" (docs/IT.md)")  # fmt: skip
        (report.bad if room.sslmode in _CHECKED else report.note)(text)
    elif room.sslmode == "verify-full":
        report.ok(f"room TLS in use, the server's certificate and name verified against "
                  f"{room.sslrootcert or '~/.postgresql/root.crt'} (sslmode = verify-full)")  # fmt: skip
    else:
        unchecked = "its name" if room.sslmode == "verify-ca" else "whom it talks to"
        report.note(f"room TLS in use but not checking {unchecked} (sslmode = {room.sslmode}): "
                    "set sslmode = \"verify-full\" and sslrootcert (docs/IT.md)")  # fmt: skip
    schema = current_version(conn)
    if schema is None:
        report.bad(f"room {where}: no schema yet: run `watchfloor room init --owner ROLE` "
                   "as the schema's owner")  # fmt: skip
        return
    if schema != latest():
        report.bad(f"room schema version {schema}, this program needs {latest()}: "
                   + ("upgrade watchfloor" if schema > latest()
                      else "run `watchfloor room init --owner ROLE` as the schema's owner"))  # fmt: skip
    else:
        report.ok(f"room schema version {schema}")
    owner = conn.execute("SELECT tableowner = current_user FROM pg_tables"
                         " WHERE schemaname = %s AND tablename = 'audit'", (SCHEMA,)).fetchone()  # fmt: skip
    problems = sorted(grant_problems(conn), key=lambda p: not p.startswith("audit:"))
    if owner and owner[0]:
        report.bad(f"room grants: {user} owns the room's tables, so the application could "
                   "rewrite the audit trail: give it a role of its own (docs/IT.md)")  # fmt: skip
    elif problems:
        report.bad(f"room grants of {user} are not least privilege: {'; '.join(problems[:8])}"
                   + (f" (+{len(problems) - 8} more)" if len(problems) > 8 else "")
                   + " — run `watchfloor room init --owner ROLE` (docs/IT.md)")  # fmt: skip
    else:
        report.ok(f"room grants of {user}: least privilege (audit: insert and select only)")
    _check_users(report, conn)
    rows, broken = verify_audit(conn)
    if broken is not None:
        report.bad(f"room audit trail broken at row {broken} (the {rows} row(s) before it hold)")
    else:
        report.ok(f"room audit trail intact ({rows} rows, chained)")
    before = time.time()
    (server,) = conn.execute("SELECT extract(epoch FROM clock_timestamp())::float8").fetchone() or (
        0.0,
    )
    after = time.time()
    skew = float(server) - (before + after) / 2  # type: ignore[arg-type]
    text = f"clock skew with the room {skew:+.2f} s (±{(after - before) / 2:.2f} s)"
    if abs(skew) > MAX_SKEW_S:
        report.bad(f"{text}: SLA timers would be off; set up NTP (systemd-timesyncd or chrony)")
    else:
        report.ok(text)
    holder = lock_holder(conn)
    waiting = standing_by(conn)
    standby = f"; standing by: {', '.join(waiting)}" if waiting else "; no standby hub connected"
    if holder:
        report.ok(f"room hub: {holder.removeprefix('watchfloor hub ')} holds the hub lock and "
                  f"polls{standby}")  # fmt: skip
    else:
        report.note("room hub: no hub holds the lock, nothing polls the networks for the room "
                    f"(start `watchfloor poll` on the hub machine){standby}")  # fmt: skip
    if db_path is not None and db_path.exists():
        _check_cache(report, conn, db_path)


def _check_users(report: Report, conn: psycopg.Connection[tuple[object, ...]]) -> None:
    """The room's console users: every console signs in against these (not its cache's)."""
    roles = {str(r): int(str(n)) for r, n in conn.execute(
        "SELECT role, count(*) FROM users WHERE NOT disabled GROUP BY role ORDER BY role")}  # fmt: skip
    if not roles:
        report.bad("room users: none yet, so nobody can sign in at a console: "
                   "`watchfloor users add NAME --role admin` on any machine of the room")  # fmt: skip
        return
    report.ok("room users: " + ", ".join(f"{n} {r}" for r, n in roles.items()))
    (speakers,) = conn.execute("SELECT count(*) FROM users WHERE spokesperson AND NOT disabled"
                               ).fetchone() or (0,)  # fmt: skip
    if not speakers:
        report.note("room users: no spokesperson, so during a crisis nobody can approve free "
                    "text (watchfloor users add NAME --role approver --spokesperson)")  # fmt: skip


def _check_cache(report: Report, conn: psycopg.Connection[tuple[object, ...]],
                 db_path: Path) -> None:  # fmt: skip
    try:
        local = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            link = read_link(local)
            row = local.execute("SELECT value FROM meta WHERE key = ?", (META_SEQ,)).fetchone()
        finally:
            local.close()
    except sqlite3.Error:
        return  # the database check says what is wrong with the file
    (top,) = conn.execute("SELECT last FROM mention_seq").fetchone() or (0,)
    seq = int(row[0]) if row else 0
    state = f"link {link['state']}" if link else "never synced"
    report.ok(f"room cache: at sequence {seq} of the room's {top} ({state})")
