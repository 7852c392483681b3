"""``watchfloor doctor``: the check IT runs after installing, and anyone runs when in doubt.

It checks everything it can and lists every problem found (not only the first), then
exits 1 if there was any. Display checks run in a child process, because a Qt platform
plugin that cannot load aborts the process that tried.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.config import Config, ConfigError


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def ok(self, text: str) -> None:
        self.lines.append(f"  ok   {text}")

    def note(self, text: str) -> None:
        self.lines.append(f"  note {text}")

    def bad(self, text: str) -> None:
        self.lines.append(f"  FAIL {text}")
        self.problems.append(text)


def run_doctor(
    config: Config | None,
    *,
    db_path: Path,
    args: argparse.Namespace,
    config_path: Path | None = None,
    config_error: ConfigError | None = None,
) -> int:
    report = Report()
    if config_error is not None:
        for problem in config_error.problems:
            report.bad(f"config {config_error.path}: {problem}")
    elif config is not None:
        report.ok(
            f"config {config_path}: {len(config.topics)} topics, {len(config.sources)} sources"
        )
    check_database(report, db_path)
    if config is not None:
        layout = check_layout(report, config)
        check_workflow(report, config, config_path, db_path)
        check_secrets(report, config)
        check_sources_can_read(report, config)
        if config.room is not None:  # reachable, TLS, schema, grants, clock skew, the hub
            from app.room.checks import check_room

            check_room(report, config.room, db_path)
        if not getattr(args, "offline", False):
            check_sources(report, config)
        if not getattr(args, "headless", False):
            check_display(report, layout)
    print("watchfloor doctor")
    from app.secrets import mask  # what a server echoed (a token) never reaches the terminal

    print(mask("\n".join(report.lines)))
    if report.problems:
        print(f"{len(report.problems)} problem(s) found")
        return 1
    print("no problems found")
    return 0


def check_database(report: Report, db_path: Path) -> None:
    """Readable, intact, a schema this program knows, writable here; never creates or migrates."""
    import sqlite3

    from app.store.db import StoreError, describe_error, open_reader, writable
    from app.store.schema import MIGRATIONS

    if not db_path.exists() and not db_path.is_dir():
        problem = writable(db_path)
        if problem:
            report.bad(f"database {db_path}: none yet, and it cannot be created: {problem}")
        else:
            report.note(f"database {db_path}: none yet; the first start creates it")
        return
    try:
        conn = open_reader(db_path, create=False, upgrade=False)
    except StoreError as exc:
        report.bad(str(exc))
        return
    try:
        (result,) = conn.execute("PRAGMA quick_check(1)").fetchone()
        (version,) = conn.execute("PRAGMA user_version").fetchone()
        (count,) = conn.execute("SELECT count(*) FROM source_state").fetchone()
    except sqlite3.Error as exc:
        report.bad(describe_error(exc, db_path))
        return
    finally:
        conn.close()
    if result != "ok":
        result = " ".join(str(result).replace("*** in database main ***", "").split())
        report.bad(f"the database {db_path} is damaged (integrity check: {result}): restore it "
                   "from a backup, or move it aside and a new one is started")  # fmt: skip
        return
    problem = writable(db_path)
    if problem:
        report.bad(f"database {db_path}: readable, schema v{version}, but not writable here "
                   f"({problem}): a poller here cannot store")  # fmt: skip
    elif version < len(MIGRATIONS):
        report.ok(f"database {db_path}: writable, schema v{version} (upgraded to "
                  f"v{len(MIGRATIONS)} at the next start), {count} sources known")  # fmt: skip
    else:
        report.ok(f"database {db_path}: writable, schema v{version}, {count} sources known")


def verify_audit(conn: Any, db_path: Path) -> tuple[bool, str]:
    """The audit chain's verdict as one line; a missing or damaged table is a verdict too."""
    import sqlite3

    from app.store.db import describe_error
    from app.workflow import audit

    try:
        verified = audit.verify(conn)
    except sqlite3.Error as exc:
        return False, f"audit trail unreadable: {describe_error(exc, db_path)}"
    except (ValueError, TypeError) as exc:
        return False, f"audit trail unreadable in {db_path}: a row or its head record is damaged ({exc})"
    return verified.ok, verified.summary()  # with the last anchored point, or why none


def check_workflow(report: Report, config: Config, config_path: Path | None, db_path: Path) -> None:
    """Reply templates, console users and the audit trail's hash chain."""
    import sqlite3

    from app.store.db import StoreError, describe_error, open_reader
    from app.store.schema import MIGRATIONS
    from app.workflow.setup import templates_file
    from app.workflow.templates import TemplateError, load_templates

    path = templates_file(config, config_path.parent if config_path else None)
    try:
        templates = load_templates(path)
    except TemplateError as exc:
        for problem in exc.problems:
            report.bad(f"templates {exc.path}: {problem}")
    else:
        crisis = sum(t.crisis for t in templates.values())
        report.ok(f"templates {path}: {len(templates)} ({crisis} for a crisis)")
        if not crisis:
            report.note("no crisis templates: during a crisis only approved free text can be sent")
    if config.room is not None:
        return  # consoles sign in against the room's users: the room's check counts them
    if not db_path.exists():
        report.note("no console users yet: the first console start asks for an administrator")
        return
    try:
        conn = open_reader(db_path, create=False, upgrade=False)
    except StoreError:
        return  # the database check has said why
    try:
        if conn.execute("PRAGMA user_version").fetchone()[0] < len(MIGRATIONS):
            report.note("console users and the audit trail are checked once the schema is upgraded")
            return
        roles = dict(conn.execute("SELECT role, count(*) FROM users WHERE disabled = 0 GROUP BY role"))
        spokespeople = conn.execute("SELECT count(*) FROM users WHERE spokesperson = 1").fetchone()[0]
        audit_ok, audit_line = verify_audit(conn, db_path)
    except sqlite3.Error as exc:
        report.bad(f"console users unreadable: {describe_error(exc, db_path)}")
        return
    finally:
        conn.close()
    if not roles:
        report.note("no console users yet: the first console start asks for an administrator")
    else:
        report.ok("console users: " + ", ".join(f"{n} {r}" for r, n in sorted(roles.items())))
        if not spokespeople:
            report.note("no spokesperson: during a crisis nobody can approve free text "
                        "(watchfloor users add NAME --role approver --spokesperson)")  # fmt: skip
    if audit_ok:
        report.ok(audit_line)
    else:
        report.bad(audit_line)


def check_layout(report: Report, config: Config) -> Any:
    """The wall's layout: its shape, its tiles and their options, the topics they name —
    every problem at once."""
    from app.layouts import LayoutError, load_layout

    options = None
    try:
        from app.ui.tilebase import load_registry, option_models

        options = option_models(load_registry())
    except ImportError as exc:  # a hub without Qt: the tiles cannot be checked here
        report.note(f"layout {config.wall.layout!r}: tiles not checked ({exc})")
    try:
        layout = load_layout(config.wall.layout, options, [t.name for t in config.topics])
    except LayoutError as exc:
        for problem in exc.problems:
            report.bad(f"layout {exc.path}: {problem}")
        return None
    scenes = sum(len(s.scenes) for s in layout.layout.screens)
    report.ok(f"layout {config.wall.layout!r}: {len(layout.layout.screens)} screen(s), {scenes} scene(s)")
    return layout


def check_secrets(report: Report, config: Config) -> None:
    from app.secrets import get_secret

    for source in config.sources:
        for key in ("token_env", "password_env"):
            name = getattr(source, key, None)
            if not name:
                continue
            if get_secret(name):
                report.ok(f"source {source.name}: secret {name} is set")
            else:
                report.bad(
                    f"source {source.name}: secret {name} is not set (environment variable or "
                    f"keyring entry 'watchfloor'/{name})"
                )


def check_sources_can_read(report: Report, config: Config) -> None:
    """A source configured to read nothing (no hashtags, no token) would poll "0 new" for ever."""
    from app.config import BlueskySourceConfig, MastodonSourceConfig
    from app.secrets import get_secret
    from app.sources import bluesky, mastodon

    for source in config.sources:
        reason = None
        if isinstance(source, MastodonSourceConfig) and source.enabled:
            has_token = bool(source.token_env and get_secret(source.token_env))
            reason = mastodon.nothing_to_read(source, has_token=has_token)
        elif isinstance(source, BlueskySourceConfig) and source.enabled:
            reason = bluesky.nothing_to_read(source)
        if reason:
            report.bad(f"source {source.name}: {reason}")


def check_sources(report: Report, config: Config) -> None:
    """Each source's server asked now: reachable, credentials, and what it really answers."""
    from app.sources.probe import probe_sources

    for name, findings in probe_sources(config):
        for finding in findings:
            getattr(report, finding.level)(f"source {name}: {finding.text}")


def screens_probe_command() -> list[str]:
    if getattr(sys, "frozen", False):
        return [sys.executable, "_screens"]
    return [sys.executable, "-m", "app", "_screens"]


def list_screens() -> list[dict[str, Any]]:
    """Run in the child: print the screens Qt sees."""
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication([])
    screens = [
        {"name": s.name(), "x": s.geometry().x(), "y": s.geometry().y(),
         "width": s.geometry().width(), "height": s.geometry().height(),
         "platform": QGuiApplication.platformName()}
        for s in QGuiApplication.screens()
    ]  # fmt: skip
    del app
    return screens


def check_display(report: Report, layout: Any) -> None:
    try:
        proc = subprocess.run(  # noqa: S603 - our own executable
            screens_probe_command(),
            capture_output=True,
            text=True,
            timeout=60,
            env=os.environ.copy(),
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        report.bad(f"display: could not start the Qt check ({exc})")
        return
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines() or ["no output"]
        # Qt's own reason ("could not connect to display", a missing library) comes first
        qpa = [line.strip() for line in lines if line.startswith("qt.qpa.")]
        reasons = [x for x in qpa if not x.startswith("qt.qpa.plugin:")][:1] or qpa[:2] or lines[-1:]
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
                or os.environ.get("QT_QPA_PLATFORM")):  # fmt: skip
            reasons.append("neither DISPLAY nor WAYLAND_DISPLAY is set")
        report.bad(f"display: the Qt platform plugin did not load ({'; '.join(reasons)}); "
                   "use --headless on a hub")  # fmt: skip
        return
    screens = json.loads(proc.stdout.strip().splitlines()[-1])
    platform = next((s["platform"] for s in screens if "platform" in s),
                    os.environ.get("QT_QPA_PLATFORM", "default"))  # fmt: skip
    report.ok(f"display: Qt platform {platform!r} loads, {len(screens)} screen(s): "
              + ", ".join(f"{s['name']} {s['width']}x{s['height']}" for s in screens))  # fmt: skip
    if layout is None:
        return
    from app.layouts import check_layout_against_screens

    problems, notes = check_layout_against_screens(layout, screens)
    for problem in problems:
        report.bad(f"layout: {problem}")
    for note in notes:
        report.note(f"layout: {note}")
