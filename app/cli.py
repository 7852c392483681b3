"""The ``watchfloor`` command line (contract in DESIGN.md: other tools and tests drive it).

Every subcommand takes ``--config`` and ``--db``. With no subcommand it runs the wall,
the console and the poller; with no config anywhere it runs the built-in demo.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from app import __version__
from app.config import Config, ConfigError, load_config
from app.paths import resolve_config, resolve_db

log = logging.getLogger("watchfloor")


def _common(parser: argparse.ArgumentParser, *, top: bool) -> None:
    default = None if top else argparse.SUPPRESS
    parser.add_argument(
        "--config",
        metavar="PATH",
        default=default,
        help="config file (default: $WATCHFLOOR_CONFIG, user config, demo)",
    )
    parser.add_argument(
        "--db",
        metavar="PATH",
        default=default,
        help="database file (default: $WATCHFLOOR_DB, user data folder)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", default=False if top else argparse.SUPPRESS,
                        help="debug logging")  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="watchfloor", description="Social media command center.")
    p.add_argument("--version", action="version", version=f"watchfloor {__version__}")
    _common(p, top=True)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def cmd(name: str, help_: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help_, description=help_)
        _common(sp, top=False)
        return sp

    for name, help_ in (
        ("run", "poller + a wall window on every screen + the operator console"),
        ("wall", "wall windows only (a display PC)"),
    ):
        sp = cmd(name, help_)
        sp.add_argument("--layout", metavar="NAME", help="layout name or .toml path")
        sp.add_argument("--kiosk", action="store_true", help="frameless full screen, no cursor")
        if name == "wall":
            sp.add_argument("--poll", action="store_true", help="also run the poller here")
    cmd("console", "operator console only")

    sp = cmd("poll", "headless poller (a hub machine, or cron)")
    g = sp.add_mutually_exclusive_group()
    g.add_argument("--once", action="store_true", help="one round over every source, then exit")
    g.add_argument("--for", dest="seconds", type=float, metavar="SECONDS", help="poll this long")

    sp = cmd("snapshot", "render every screen of a layout to DIR/<screen>.png without a display")
    sp.add_argument("--out", required=True, metavar="DIR")
    sp.add_argument("--layout", metavar="NAME")
    sp.add_argument("--scene", metavar="NAME")
    sp.add_argument(
        "--demo-minute", type=float, metavar="MIN",
        help="draw a fresh demo run MIN minutes after its start, simulated in a new"
        " temporary database (the config's demo source; the --db database is not read)",
    )  # fmt: skip

    sp = cmd("export", "write mentions, the queue, alerts, the audit trail or stories")
    sp.add_argument(
        "--what", choices=["mentions", "queue", "alerts", "audit", "stories"], default="mentions"
    )
    sp.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    sp.add_argument("--out", metavar="FILE", help="default: standard output")

    sp = cmd("doctor", "check config, layouts, database, screens, sources, secrets")
    sp.add_argument(
        "--headless", action="store_true", help="skip the display checks (a hub machine)"
    )
    sp.add_argument("--offline", action="store_true", help="skip contacting the sources")

    sp = cmd("users", "manage console users")
    users = sp.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    add = users.add_parser("add", help="add a user (password read from stdin twice, or prompted)")
    _common(add, top=False)
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=["operator", "approver", "admin", "viewer"])
    add.add_argument("--send-without-approval", action="store_true",
                     help="their free-text replies go out without a second person's sign-off")
    add.add_argument("--spokesperson", action="store_true",
                     help="may approve replies during a crisis")
    lst = users.add_parser("list", help="list the console users and their roles")
    _common(lst, top=False)
    for action, help_ in (("passwd", "set a new password (read from stdin twice, or prompted)"),
                          ("disable", "stop a user signing in (their history stays)"),
                          ("enable", "let a disabled user sign in again"),
                          ("unlock", "lift a sign-in lockout after too many failed passwords")):  # fmt: skip
        sp_user = users.add_parser(action, help=help_)
        _common(sp_user, top=False)
        sp_user.add_argument("name")

    sp = cmd("audit", "the audit trail")
    audit = sp.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = audit.add_parser(
        "verify", help="check the hash chain; exit 1 naming the first broken row"
    )
    _common(verify, top=False)

    sp = cmd("room", "the room's shared PostgreSQL (with [room] in the config)")
    room = sp.add_subparsers(dest="room_command", metavar="ACTION", required=True)
    init = room.add_parser("init", help="create or migrate the room's schema; set the app role's grants")
    _common(init, top=False)
    init.add_argument("--owner", metavar="ROLE", help="the schema's owner (default: the URL's user)")
    init.add_argument("--owner-password-env", metavar="NAME",
                      help="the variable (or keyring entry) holding the owner's password")  # fmt: skip
    sync = room.add_parser("sync", help="keep this machine's cache filled from the room (headless)")
    _common(sync, top=False)
    sync.add_argument("--for", dest="seconds", type=float, metavar="SECONDS", help="sync this long")
    return p


def _config(args: argparse.Namespace) -> tuple[Config, Path]:
    path = resolve_config(args.config)
    return load_config(path), path


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["_screens"]:  # the child process of `doctor`'s display check
        from app.doctor import list_screens

        print(json.dumps(list_screens()))
        return 0
    args = build_parser().parse_args(argv)
    command = args.command or "run"
    try:
        return _main(args, command)
    except KeyboardInterrupt:
        print("watchfloor: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # every command ends in one clear line, never a traceback
        return _fail(exc, resolve_db(args.db), verbose=args.verbose)


def _main(args: argparse.Namespace, command: str) -> int:
    from app.logs import setup_logging

    for option in ("config", "db"):
        if getattr(args, option) is not None:
            _path(getattr(args, option), f"--{option}")

    try:
        config, config_path = _config(args)
    except ConfigError as exc:
        print(f"watchfloor: config error in {exc}", file=sys.stderr)
        if command == "doctor":
            from app.doctor import run_doctor

            return run_doctor(None, config_error=exc, db_path=resolve_db(args.db), args=args)
        return 2
    secret_names = [
        name for s in config.sources
        for name in (getattr(s, "token_env", None), getattr(s, "password_env", None)) if name
    ]  # fmt: skip
    setup_logging(verbose=args.verbose, secret_names=secret_names,
                  to_file=command not in {"export", "doctor", "users", "audit"})  # fmt: skip
    db_path = resolve_db(args.db)
    log.info("config %s, database %s", config_path, db_path)
    from app.workflow.anchor import configure as configure_audit

    # the audit key signs every row written from here; a command that only reads makes none
    configure_audit(config, create=command not in {"audit", "doctor", "export", "snapshot"})
    return _dispatch(command, args, config, config_path, db_path)


#: exit codes: 1 a problem found (the database, a file), 2 bad input (config, layout),
#: 70 a bug (EX_SOFTWARE; the log file holds the traceback), 141 output closed early (SIGPIPE)
EXIT_PROBLEM, EXIT_INPUT, EXIT_BUG, EXIT_PIPE = 1, 2, 70, 141
#: Ctrl-C (128 + SIGINT); a stop asked by SIGTERM is a clean stop, 0 (see stop_verdict)
EXIT_INTERRUPTED = 130


def _fail(exc: Exception, db_path: Path, *, verbose: bool = False) -> int:
    """Say what went wrong in one line (plus the list of a file's problems) and pick the code."""
    import sqlite3

    from app.layouts import LayoutError
    from app.store.db import StoreError, describe_error

    if isinstance(exc, BrokenPipeError):  # `watchfloor export | head`: the reader has enough
        with contextlib.suppress(OSError):  # no more writes (nor a flush at exit) to the pipe
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print("watchfloor: output closed before the end (broken pipe)", file=sys.stderr)
        return EXIT_PIPE
    if isinstance(exc, UsageError):
        print(f"watchfloor: {exc}", file=sys.stderr)
        return EXIT_INPUT
    if isinstance(exc, LayoutError):
        print(f"watchfloor: layout error in {exc}", file=sys.stderr)
        return EXIT_INPUT
    if isinstance(exc, StoreError | sqlite3.Error):
        print(f"watchfloor: {describe_error(exc, db_path)}", file=sys.stderr)
        return EXIT_PROBLEM
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"watchfloor: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_PROBLEM
    if verbose:
        log.error("internal error", exc_info=exc)
    else:
        _log_bug(exc)
    print(f"watchfloor: internal error: {type(exc).__name__}: {_short(str(exc))} "
          "(-v shows where)", file=sys.stderr)  # fmt: skip
    return EXIT_BUG


def _log_bug(exc: Exception) -> None:
    """A bug's traceback goes to the log file only (stderr keeps its one line)."""
    record = log.makeRecord(log.name, logging.ERROR, __file__, 0, "internal error", (),
                            (type(exc), exc, exc.__traceback__))  # fmt: skip
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler):
            handler.handle(record)


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _dispatch(command: str, args: argparse.Namespace, config: Config, config_path: Path,
              db_path: Path) -> int:  # fmt: skip
    if command == "room" or (command == "poll" and config.room is not None):
        from app.room.commands import room_command

        return room_command(command, args, config, config_path, db_path)
    if command == "poll":
        if args.seconds is not None and not 0 < args.seconds < float("inf"):
            raise UsageError(f"--for {args.seconds}: give the seconds to poll, a number above 0")
        return poll(config, db_path, once=args.once, seconds=args.seconds,
                    config_dir=config_path.parent)
    if command in {"run", "wall", "console", "snapshot"}:
        from app.ui.qtlog import install as route_qt_messages

        route_qt_messages()  # Qt's warnings to the log: the command's last line stays its own
    if command in {"run", "wall", "console"}:
        from app.ui.launch import run_gui

        return run_gui(
            config, db_path,
            walls=command != "console",
            console=command in {"run", "console"},
            poll=command == "run" or bool(getattr(args, "poll", False)),
            layout=getattr(args, "layout", None),
            kiosk=bool(getattr(args, "kiosk", False)),
        )  # fmt: skip
    if command == "snapshot":
        from app.store.db import check_readable

        out = _out_folder(args.out)
        if args.demo_minute is not None:
            return _demo_snapshot(config, out, args)
        check_readable(db_path, thorough=True)  # a damaged file would render as blank tiles
        from app.ui.snapshot import render_snapshot

        paths = render_snapshot(config, db_path, out, layout=args.layout, scene=args.scene)
        for path in paths:
            print(path)
        return 0
    if command == "export":
        return export(config, db_path, args.what, args.format, args.out)
    if command == "doctor":
        from app.doctor import run_doctor

        return run_doctor(config, config_path=config_path, db_path=db_path, args=args)
    if command == "users" and config.room is not None:  # the room's accounts, every station's
        from app.room.commands import room_command

        password = _read_password() if args.users_command in {"add", "passwd"} else ""
        return room_command(command, args, config, config_path, db_path, password=password)
    if command == "users" and args.users_command == "list":
        return users_list(db_path)
    if command == "users" and args.users_command in {"passwd", "disable", "enable", "unlock"}:
        return users_change(db_path, args.users_command, args.name)
    if command == "users":
        return users_add(db_path, args.name, args.role, send_unapproved=args.send_without_approval,
                         spokesperson=args.spokesperson)  # fmt: skip
    if command == "audit" and config.room is not None:  # the room's chain, not this cache's
        from app.room.commands import room_command

        return room_command(command, args, config, config_path, db_path)
    if command == "audit":
        return audit_verify(db_path)
    raise AssertionError(command)


def poll(config: Config, db_path: Path, *, once: bool, seconds: float | None,
         config_dir: Path | None = None) -> int:  # fmt: skip
    """Headless polling (and the outbox) on plain asyncio; SIGTERM/SIGINT stop it cleanly."""
    from app.poller import Poller
    from app.store.writer import StoreWriter
    from app.workflow.setup import build_workflow
    from app.workflow.templates import TemplateError

    try:
        workflow = build_workflow(config, config_dir)
    except TemplateError as exc:
        print(f"watchfloor: template error in {exc}", file=sys.stderr)
        return 2

    started = time.monotonic()
    stopped_by: list[int] = []  # the signal that asked the stop: the last line and exit code

    async def go() -> tuple[Poller, str | None]:
        writer = StoreWriter(db_path, config).start()
        poller = Poller(config, writer, workflow=workflow)
        loop = asyncio.get_running_loop()

        stopping: list[asyncio.Task[None]] = []

        def on_signal(signum: int) -> None:
            stopped_by.append(signum)
            stopping.append(asyncio.ensure_future(poller.stop()))

        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, on_signal, sig)
        try:
            await poller.run(once=once, duration=seconds)
        finally:
            await asyncio.to_thread(writer.close)
        return poller, writer.maintenance.damage if writer.maintenance else None

    poller, damage = asyncio.run(go())
    signum = stopped_by[0] if stopped_by else None
    return poll_report(poller, once=once, damage=damage, db_path=db_path,
                       stopped_by=signum, seconds=time.monotonic() - started)  # fmt: skip


def stop_verdict(signum: int | None, seconds: float) -> int:
    """The last line and the exit code of a run a signal stopped (0 when none did).

    Ctrl-C (SIGINT) is an interruption: 130, as shells count it. SIGTERM is how a service
    manager stops a service on purpose (``systemctl stop``, a shutdown): a clean stop, 0,
    so systemd never records it as a failure nor restarts the unit for it.
    """
    if signum is None:
        return 0
    if signum == signal.SIGINT:
        print(f"watchfloor: interrupted after {seconds:.0f} s", file=sys.stderr)
        return EXIT_INTERRUPTED
    try:
        name = signal.Signals(signum).name
    except ValueError:
        name = f"signal {signum}"
    print(f"watchfloor: stopped by {name} after {seconds:.0f} s", file=sys.stderr)
    return 0


def poll_report(poller: Any, *, once: bool, damage: str | None, db_path: Path,
                stopped_by: int | None = None, seconds: float = 0.0) -> int:  # fmt: skip
    """What each source stored, one line each, then the verdict: the exit code says it too.

    Non-zero when the database is damaged, when every source failed, or (one round,
    ``--once``) when any page could not be stored; 130 when Ctrl-C stopped it.
    """
    runners = list(poller.runners.values())
    for r in runners:
        line = f"{r.source.name}: {r.stored} new of {r.fetched} fetched"
        if r.last_error:
            line += f"; failed: {r.last_error}"
        elif not r.pages:
            line += " (stopped before its first page)"
        elif r.warnings:
            line += f"; degraded: {'; '.join(r.warnings)}"
        print(line)
    fatal = poller.fatal or (f"the database {db_path} is damaged ({damage})" if damage else None)
    if fatal:
        print(f"watchfloor: polling stopped: {fatal}", file=sys.stderr)
        return EXIT_PROBLEM
    if stopped_by is not None:
        return stop_verdict(stopped_by, seconds)
    if runners and all(r.last_error and not r.pages for r in runners):
        print(f"watchfloor: every source failed ({len(runners)})", file=sys.stderr)
        return EXIT_PROBLEM
    failed = [r.source.name for r in runners if r.store_failures]
    if once and failed:
        print(f"watchfloor: storing failed for {', '.join(failed)}", file=sys.stderr)
        return EXIT_PROBLEM
    if not runners:
        print("no sources enabled: nothing polled")
    return 0


class UsageError(Exception):
    """A command-line value that cannot work (said in one line, exit 2)."""


def _path(value: str, option: str) -> Path:
    if not value.strip() or "\0" in value:
        raise UsageError(f"{option} {value!r} is not a usable path")
    return Path(value)


def _demo_snapshot(config: Config, out: Path, args: argparse.Namespace) -> int:
    """``snapshot --demo-minute MIN``: the demo run that far in, then its picture."""
    import tempfile

    from app.demorun import demo_sources, run_demo
    from app.ui.snapshot import render_snapshot

    minute = args.demo_minute
    if not 0 <= minute <= 24 * 60:
        raise UsageError(f"--demo-minute {minute}: give the minutes into the run, 0 to 1440")
    if not demo_sources(config):
        raise UsageError("--demo-minute: the config has no enabled demo source to run")
    with tempfile.TemporaryDirectory(prefix="watchfloor-demo-") as folder:
        db = Path(folder) / "demo.db"
        run_demo(config, db, minute)
        paths = render_snapshot(config, db, out, layout=args.layout, scene=args.scene)
    for path in paths:
        print(path)
    return 0


def _out_folder(value: str) -> Path:
    """``--out`` of snapshot: a folder we can write, made if missing."""
    out = _path(value, "--out")
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot make the folder ({exc.strerror or exc})") from exc
    if not os.access(out, os.W_OK | os.X_OK):
        raise UsageError(f"--out {out}: the folder is not writable")
    return out


def _out_file(value: str) -> Path:
    """``--out`` of export: a file we can write (its folder must exist)."""
    out = _path(value, "--out")
    if out.is_dir():
        raise UsageError(f"--out {out} is a folder; name a file")
    if not out.parent.is_dir():
        raise UsageError(f"--out {out}: the folder {out.parent} does not exist")
    return out


def export(config: Config, db_path: Path, what: str, fmt: str, out: str | None) -> int:
    """Write ``what`` to ``--out`` or stdout: from this machine's cache, or on a machine of
    the room the queue and the audit trail from the room, where the consoles work them."""
    from app import export as exporter
    from app.store.db import open_reader

    target = _out_file(out) if out else None

    def write(rows: Iterable[dict[str, Any]]) -> int:
        if target is None:
            exporter.write_rows(rows, what, fmt, sys.stdout)  # type: ignore[arg-type]
            return 0
        try:
            with target.open("w", encoding="utf-8", newline="") as fh:
                n = exporter.write_rows(rows, what, fmt, fh)  # type: ignore[arg-type]
        except BrokenPipeError:
            raise
        except OSError as exc:  # a full disk says so on write or close: name the file
            if exc.filename is None:
                raise OSError(exc.errno, f"writing failed: {exc.strerror or exc}", str(target)) from None
            raise
        print(f"{n} {what} written to {out}", file=sys.stderr)
        return 0

    if config.room is not None:
        from app.room.export import FROM_ROOM

        if what in FROM_ROOM:
            from app.room.commands import export_from_room

            return export_from_room(config, what, write)
    conn = open_reader(db_path, create=False)  # a mistyped --db is an error, not an empty file
    try:
        return write(exporter.rows(conn, what))  # type: ignore[arg-type]
    finally:
        conn.close()


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        second = getpass.getpass("Again: ")
    else:
        first = sys.stdin.readline().rstrip("\n")
        second = sys.stdin.readline().rstrip("\n")
    if first != second:
        raise SystemExit("watchfloor: the two passwords differ")
    if len(first) < 8:
        raise SystemExit("watchfloor: a password needs at least 8 characters")
    return first


def users_add(db_path: Path, name: str, role: str, *, send_unapproved: bool = False,
              spokesperson: bool = False) -> int:  # fmt: skip
    from app.store import changelog
    from app.store import tables as T
    from app.store.db import open_writer, transaction
    from app.workflow.users import add_user

    password = _read_password()
    conn = open_writer(db_path)
    try:
        with transaction(conn):
            add_user(conn, name, role, password, send_unapproved=send_unapproved,
                     spokesperson=spokesperson)  # fmt: skip
            changelog.record(conn, [T.USERS, T.AUDIT], ids=[name])  # every commit in the log
    except ValueError as exc:
        print(f"watchfloor: {exc}", file=sys.stderr)
        return 1
    finally:
        conn.close()
    print(f"user {name} added as {role}")
    return 0


def users_change(db_path: Path, action: str, name: str) -> int:
    from app.store import changelog
    from app.store import tables as T
    from app.store.db import check_readable, open_writer, transaction
    from app.workflow.users import set_disabled, set_password, unlock

    check_readable(db_path)  # a mistyped --db: no new, empty database for a user not in it
    password = _read_password() if action == "passwd" else ""
    conn = open_writer(db_path)
    try:
        with transaction(conn):
            if action == "passwd":
                set_password(conn, name, password)
            elif action == "unlock":
                unlock(conn, name)
            else:
                set_disabled(conn, name, action == "disable")
            changelog.record(conn, [T.USERS, T.AUDIT], ids=[name])  # every commit in the log
    except ValueError as exc:
        print(f"watchfloor: {exc}", file=sys.stderr)
        return 1
    finally:
        conn.close()
    print({"passwd": f"password of {name} changed", "disable": f"{name} disabled",
           "enable": f"{name} enabled", "unlock": f"{name} unlocked"}[action])  # fmt: skip
    return 0


def users_list(db_path: Path) -> int:
    from app.store.db import open_reader
    from app.workflow.users import list_users

    conn = open_reader(db_path, create=False)
    try:
        for user in list_users(conn):
            rights = [r for r, on in (("send without approval", user.send_unapproved),
                                      ("spokesperson", user.spokesperson)) if on]  # fmt: skip
            print(f"{user.name}\t{user.role}" + (f"\t{', '.join(rights)}" if rights else ""))
    finally:
        conn.close()
    return 0


def audit_verify(db_path: Path) -> int:
    from app.doctor import verify_audit
    from app.store.db import check_readable, open_reader

    check_readable(db_path, thorough=True)  # a trail in a damaged file proves nothing
    conn = open_reader(db_path, create=False)
    try:
        ok, line = verify_audit(conn, db_path)
    finally:
        conn.close()
    print(line, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
