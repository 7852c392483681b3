"""The room's commands: ``room init``, ``room sync``, ``poll`` as the room's hub, ``users``.

Each ends in one clear line and a truthful exit code: a room that cannot be reached,
refuses the password or has the wrong schema is a problem (1), not a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import psycopg

from app.config import Config, Room
from app.room.connect import RoomError, connect, describe, public_url, station_name, url_user
from app.room.schema import grant, migrate


def _room(config: Config) -> Room:
    if config.room is None:
        raise RoomError("the config has no [room] section (url, password_env): see docs/IT.md")
    return config.room


def room_command(command: str, args: argparse.Namespace, config: Config, config_path: Path,
                 db_path: Path, *, password: str = "") -> int:  # fmt: skip
    """Run a room command; a known room problem is one line on stderr and exit 1.

    ``password``: the one ``users add``/``passwd`` read (the CLI's prompt, not repeated here).
    """
    try:
        if command == "users":
            return users(config, args, password)
        if command == "poll":
            return hub(config, db_path, once=args.once, seconds=args.seconds,
                       config_dir=config_path.parent)  # fmt: skip
        if command == "audit":
            return audit(config)
        if args.room_command == "init":
            return init(config, owner=args.owner, owner_password_env=args.owner_password_env)
        return sync(config, db_path, seconds=args.seconds)
    except RoomError as exc:
        print(f"watchfloor: {exc}", file=sys.stderr)
        return 1
    except psycopg.Error as exc:
        print(f"watchfloor: the room at {public_url(_room(config))}: {describe(exc)}",
              file=sys.stderr)  # fmt: skip
        return 1


def audit(config: Config) -> int:
    """``watchfloor audit verify`` on a machine of the room: the room's chain, where every
    console's actions are (a station's cache holds none of them)."""
    from app.room.queue import verify_audit

    room = _room(config)
    with connect(room, purpose="audit") as conn:
        rows, broken = verify_audit(conn)
    if broken is not None:
        print(f"room audit trail at {public_url(room)} broken at row {broken} (the {rows} row(s)"
              " before it hold)", file=sys.stderr)  # fmt: skip
        return 1
    print(f"room audit trail at {public_url(room)} intact: {rows} rows, chained")
    return 0


def export_from_room(config: Config, what: str, write: Callable[[Iterable[dict[str, Any]]], int]) -> int:
    """``watchfloor export --what queue|audit`` on a machine of the room: the room's rows,
    written by ``write``; a room that cannot be read is one line on stderr and exit 1."""
    from app.room.export import rows

    room = _room(config)
    try:
        with connect(room, purpose="export") as conn:
            return write(rows(conn, what))
    except RoomError as exc:
        print(f"watchfloor: {exc}", file=sys.stderr)
        return 1
    except psycopg.Error as exc:
        print(f"watchfloor: the room at {public_url(room)}: {describe(exc)}", file=sys.stderr)
        return 1


def init(config: Config, *, owner: str | None, owner_password_env: str | None) -> int:
    """Create or migrate the schema as its owner; give the application role its grants."""
    room = _room(config)
    app_role = url_user(room)
    owner = owner or app_role
    with connect(room, purpose="init", user=owner, password_env=owner_password_env) as conn:
        before, after = migrate(conn)
        if owner != app_role:
            grant(conn, app_role)
    change = f"version {before} → {after}" if before != after else f"already at version {after}"
    if owner == app_role:
        print(
            f"room schema {change} at {public_url(room)}; warning: the application signs in "
            "as the schema's owner, so it could rewrite the audit trail (docs/IT.md: roles)"
        )
    else:
        print(f"room schema {change} at {public_url(room)}; {app_role} has the application's "
              "grants")  # fmt: skip
    return 0


def _stop_on_signals(stop: threading.Event) -> None:
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(ValueError):  # not the main thread (tests call in-process)
            signal.signal(sig, lambda *_: stop.set())


def sync(config: Config, db_path: Path, *, seconds: float | None) -> int:
    """A headless station: keep the local cache filled from the room until stopped."""
    from app.room.station import Station
    from app.store.writer import StoreWriter

    room = _room(config)
    stop = threading.Event()
    _stop_on_signals(stop)
    writer = StoreWriter(db_path, config).start()
    station = Station(room, writer)
    station.start()
    try:
        stop.wait(seconds)
    finally:
        station.stop()
        writer.close()
    status = station.status
    if status.lost_since is not None:
        print(
            f"room sync: link lost since {status.lost_text()}: {status.error}; "
            f"{status.received} mentions received, cache at sequence {status.seq}"
        )
        return 1
    print(f"room sync: {status.received} mentions received, cache at sequence {status.seq}")
    return 0


def hub(config: Config, db_path: Path, *, once: bool, seconds: float | None,
        config_dir: Path | None) -> int:  # fmt: skip
    """``watchfloor poll`` in a room: poll while holding the room's hub lock, else stand by."""
    from app.room.hub import Hub
    from app.workflow.setup import build_workflow
    from app.workflow.templates import TemplateError

    room = _room(config)
    if not config.sources:
        # a wall PC or workstation whose wall unit brought its poll unit along: taking the
        # hub lock with nothing to poll would keep the real hub standing by
        print(f"room hub: not a hub, {station_name(room)} has no [[sources]] to poll for the "
              "room (wall PCs and workstations fill their caches themselves)")  # fmt: skip
        return 0
    shared = _station_cache(db_path)
    if shared:
        print(f"watchfloor: {db_path} is this machine's station cache ({shared} fills it from "
              "the room): give the hub a database of its own (--db, or WATCHFLOOR_DB in its "
              "unit: docs/IT.md, a wall PC as the standby hub)", file=sys.stderr)  # fmt: skip
        return 2
    try:
        workflow = build_workflow(config, config_dir)
    except TemplateError as exc:
        print(f"watchfloor: template error in {exc}", file=sys.stderr)
        return 2
    hub = Hub(config, room, db_path, workflow=workflow)

    async def go() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, hub.stop)
        await hub.run(once=once, duration=seconds)

    asyncio.run(go())
    print(hub.summary())
    return 0 if hub.ok() else 1


def _station_cache(db_path: Path) -> str:
    """Who fills ``db_path`` from the room as a station (a wall, a console), or ``""``."""
    from app.room.station import META_SEQ

    if not db_path.exists():
        return ""
    try:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT 1 FROM meta WHERE key = ?", (META_SEQ,)).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return ""  # not readable as a cache: the writer says what is wrong with it
    return "`watchfloor wall`, `console` or `room sync`" if row else ""


def users(config: Config, args: argparse.Namespace, password: str) -> int:
    """``watchfloor users …`` with a room: the room's accounts, shared by every station."""
    from app.room import users as accounts

    action = args.users_command
    with connect(_room(config), purpose="users") as conn:
        if action == "list":
            for user in accounts.list_users(conn):
                rights = [r for r, on in (("send without approval", user.send_unapproved),
                                          ("spokesperson", user.spokesperson)) if on]  # fmt: skip
                print(f"{user.name}\t{user.role}" + (f"\t{', '.join(rights)}" if rights else ""))
            return 0
        name = args.name
        try:
            if action == "add":
                accounts.add_user(conn, name, args.role, password,
                                  send_unapproved=args.send_without_approval,
                                  spokesperson=args.spokesperson)  # fmt: skip
                line = f"user {name} added as {args.role} in the room"
            elif action == "passwd":
                accounts.set_password(conn, name, password)
                line = f"password of {name} changed in the room"
            elif action == "unlock":
                forgiven = accounts.unlock(conn, name)
                line = f"{name} unlocked in the room ({forgiven} failed sign-ins forgiven)"
            else:
                accounts.set_disabled(conn, name, action == "disable")
                line = f"{name} {action}d in the room"
        except ValueError as exc:  # the rules of the local store: said in one line
            print(f"watchfloor: {exc}", file=sys.stderr)
            return 1
    print(line)
    return 0
