"""The console's sign-in page: the first administrator only while no user exists, guessing
throttled, and a console whose user is disabled or changed role signs itself out."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pytestqt.qtbot import QtBot

from app.config import Config
from app.store.db import open_reader
from app.store.writer import StoreWriter
from app.ui.console import ConsoleWindow
from tests.workflow.conftest import PASSWORD, PASSWORD_HASH, queue_items
from tests.workflow.test_signin import cli

WAIT = 20_000


def console(qtbot: QtBot, config: Config, db: Path, writer: StoreWriter) -> ConsoleWindow:
    window = ConsoleWindow(config, db, writer, poll_ms=200)
    qtbot.addWidget(window)
    window.show()
    return window


def fill(window: ConsoleWindow, name: str, password: str) -> None:
    window.login.name.setText(name)
    window.login.password.setText(password)
    window.login.again.setText(password)
    window.login.submit()


def users(db: Path) -> list[tuple[str, str]]:
    conn = open_reader(db)
    try:
        return [(str(r[0]), str(r[1])) for r in conn.execute("SELECT name, role FROM users ORDER BY name")]
    finally:
        conn.close()


def test_a_first_start_page_left_open_cannot_add_an_admin_after_it_made_one(
    qtbot: QtBot, config: Config, tmp_path: Path
) -> None:
    db = tmp_path / "fresh.db"
    with StoreWriter(db, config, maintenance=False) as w:
        window = console(qtbot, config, db, w)
        qtbot.waitUntil(lambda: window.login.first_admin is True, timeout=WAIT)
        made = cli(db, "users", "add", "it-admin", "--role", "admin", stdin=f"{PASSWORD}\n{PASSWORD}\n")
        assert made.returncode == 0, made.stderr
        fill(window, "mallory", "a stranger's password")
        qtbot.waitUntil(lambda: "Not created" in window.login.message.text(), timeout=WAIT)
        assert "exists already" in window.login.message.text()
        qtbot.waitUntil(lambda: window.login.first_admin is False, timeout=WAIT)  # back to sign-in
        assert not window.login.again.isVisible() and window.login.button.text() == "Sign in"
        assert window.user is None
        assert users(db) == [("it-admin", "admin")]
        window.close()


def test_of_two_first_start_pages_only_one_creates_the_administrator(
    qtbot: QtBot, config: Config, tmp_path: Path
) -> None:
    db = tmp_path / "fresh.db"
    with StoreWriter(db, config, maintenance=False) as w:
        first, second = console(qtbot, config, db, w), console(qtbot, config, db, w)
        qtbot.waitUntil(lambda: first.login.first_admin is True and second.login.first_admin is True,
                        timeout=WAIT)  # fmt: skip
        fill(first, "root", PASSWORD)
        fill(second, "mallory", "a stranger's password")  # both hash at once; one insert wins

        def answered(w: ConsoleWindow) -> bool:
            return w.user is not None or "Not created" in w.login.message.text()

        qtbot.waitUntil(lambda: answered(first) and answered(second), timeout=WAIT)
        (winner,) = [w for w in (first, second) if w.user is not None]
        (loser,) = [w for w in (first, second) if w is not winner]
        assert winner.user is not None and users(db) == [(winner.user.name, "admin")]
        qtbot.waitUntil(lambda: loser.login.first_admin is False, timeout=WAIT)
        first.close()
        second.close()


def test_wrong_passwords_back_off_and_are_audited(qtbot: QtBot, config: Config, db_path: Path) -> None:
    with StoreWriter(db_path, config, maintenance=False) as w:
        from app.workflow.users import add_user

        w.call(lambda c: add_user(c, "olga", "operator", PASSWORD, password_hash=PASSWORD_HASH)).result(30)
        window = console(qtbot, config, db_path, w)
        qtbot.waitUntil(lambda: window.login.first_admin is False, timeout=WAIT)
        for i in range(3):
            fill(window, "olga", f"wrong guess {i}")
            qtbot.waitUntil(lambda: window.login.button.isEnabled(), timeout=WAIT)
            assert "unknown user or wrong password" in window.login.message.text()
        fill(window, "OLGA", PASSWORD)  # the right one, at once: refused unchecked
        qtbot.waitUntil(lambda: "try again in" in window.login.message.text(), timeout=WAIT)
        assert window.user is None
        conn = sqlite3.connect(db_path)
        failed = conn.execute("SELECT actor, target FROM audit WHERE action = 'user.signin_failed'").fetchall()
        conn.close()
        assert len(failed) == 3 and {t for _, t in failed} == {"user:olga"}
        assert all(actor == f"station:{window.login.station}" for actor, _ in failed)
        window.close()


def test_a_disabled_users_console_signs_out_and_stops_showing_the_queue(
    qtbot: QtBot, config: Config, db_path: Path
) -> None:
    with StoreWriter(db_path, config, maintenance=False) as w:
        from app.workflow.users import add_user

        queue_items(sqlite3.connect(db_path), 1)

        w.call(lambda c: add_user(c, "olga", "operator", PASSWORD, password_hash=PASSWORD_HASH)).result(30)
        window = console(qtbot, config, db_path, w)
        qtbot.waitUntil(lambda: window.login.first_admin is False, timeout=WAIT)
        fill(window, "olga", PASSWORD)
        qtbot.waitUntil(lambda: window.queue_pane.model.rowCount() == 1, timeout=WAIT)
        assert cli(db_path, "users", "disable", "olga").returncode == 0  # another process, as IT does
        qtbot.waitUntil(lambda: window.user is None, timeout=WAIT)
        assert window.stack.currentWidget() is window.login
        assert window.queue_pane.model.rowCount() == 0 and window.detail is None
        assert "disabled" in window.login.message.text()
        fut = window.claim()  # nothing acts for a signed-out console
        assert fut is None
        window.close()


def test_a_changed_role_signs_the_console_out(qtbot: QtBot, config: Config, db_path: Path) -> None:
    with StoreWriter(db_path, config, maintenance=False) as w:
        from app.workflow.users import add_user

        w.call(lambda c: add_user(c, "ada", "approver", PASSWORD, password_hash=PASSWORD_HASH)).result(30)
        window = console(qtbot, config, db_path, w)
        qtbot.waitUntil(lambda: window.login.first_admin is False, timeout=WAIT)
        fill(window, "ada", PASSWORD)
        qtbot.waitUntil(lambda: window.user is not None and window.loads >= 1, timeout=WAIT)
        w.call(lambda c: c.execute("UPDATE users SET role = 'viewer' WHERE name = 'ada'"),
               tables=("users",)).result(30)  # fmt: skip
        qtbot.waitUntil(lambda: window.user is None, timeout=WAIT)
        assert "role" in window.login.message.text()
        window.close()
