"""The console hears of every commit one way, the change log read on from the last id it
saw: another process's commit shows while this process keeps committing, and a commit
that concerns none of its parts makes it read nothing."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot

from app.config import Config
from app.store import changelog
from app.store import tables as T
from app.store.changelog import Change
from app.store.db import open_reader
from app.store.writer import StoreWriter
from app.ui.console import ConsoleWindow
from app.ui.console_changes import ALERTS, APPROVALS, ITEM, QUEUE, SESSION, WALLS, concerned
from app.workflow.users import add_user, get_user
from tests.workflow.conftest import PASSWORD, PASSWORD_HASH, queue_items

WAIT = 20_000

#: another process's store writer: one logged commit, as a second console or a poller makes it
OTHER_WRITER = """
import sys
from pathlib import Path
from app.config import load_config
from app.resources import demo_config_path
from app.store.writer import StoreWriter

db, what, arg = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
with StoreWriter(db, load_config(demo_config_path()), maintenance=False) as w:
    if what == "claim":
        w.call(lambda c: c.execute(
            "UPDATE queue SET state = 'claimed', assignee = 'omar' WHERE mention_id = ?", (arg,)),
            tables=("queue",), ids=(arg,)).result(60)
    else:
        w.record_status(arg, "demo", status="ok").result(60)
print("committed")
"""


def run_here(qtbot: QtBot, argv: list[str], env: dict[str, str] | None = None) -> str:
    """Run a process of its own while this event loop goes on (the console keeps reading
    meanwhile); its output."""
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        qtbot.waitUntil(lambda: proc.poll() is not None, timeout=WAIT * 3)
    finally:
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return out


def other_process(qtbot: QtBot, db: Path, what: str, arg: str) -> None:
    assert run_here(qtbot, [sys.executable, "-c", OTHER_WRITER, str(db), what, arg]).strip() == "committed"


def cli_here(qtbot: QtBot, db: Path, *args: str) -> None:
    """``watchfloor ARGS --db DB``, as IT runs it from a shell."""
    env = {**os.environ, "XDG_CONFIG_HOME": str(db.parent / "cfg"), "XDG_DATA_HOME": str(db.parent / "data")}
    run_here(qtbot, [sys.executable, "-m", "app", *args, "--db", str(db)], env)


@pytest.fixture
def writer(db_path: Path, config: Config) -> Iterator[StoreWriter]:
    w = StoreWriter(db_path, config, maintenance=False).start()
    w.call(lambda c: [add_user(c, name, role, PASSWORD, password_hash=PASSWORD_HASH)
                      for name, role in (("olga", "operator"), ("omar", "operator"))]).result(30)  # fmt: skip
    queue_items(sqlite3.connect(db_path), 3)
    yield w
    w.close()


@pytest.fixture
def window(qtbot: QtBot, config: Config, db_path: Path, writer: StoreWriter) -> ConsoleWindow:
    win = ConsoleWindow(config, db_path, writer, poll_ms=100)
    qtbot.addWidget(win)
    win.show()
    conn = open_reader(db_path)
    user = get_user(conn, "olga")
    conn.close()
    assert user is not None
    win.sign_in(user)
    qtbot.waitUntil(lambda: win.queue_pane.model.rowCount() == 3, timeout=WAIT)
    return win


@pytest.fixture
def busy(writer: StoreWriter) -> Iterator[list[int]]:
    """This process keeps committing (its poller's source health), logged as every commit is."""
    commits = [0]

    def commit() -> None:
        commits[0] += 1
        writer.record_status("here", "demo", status="ok")

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(commit)
    timer.start()
    yield commits
    timer.stop()
    writer.flush()


def head(db: Path) -> int:
    conn = open_reader(db)
    try:
        return changelog.head(conn)
    finally:
        conn.close()


def test_another_process_claim_shows_while_this_process_keeps_committing(
    qtbot: QtBot, window: ConsoleWindow, db_path: Path, busy: list[int]
) -> None:
    mid = "demo:1"
    assert window.select(mid)
    qtbot.waitUntil(lambda: window.detail is not None and window.detail.mention["id"] == mid, timeout=WAIT)
    qtbot.waitUntil(lambda: busy[0] >= 20, timeout=WAIT)  # this process commits meanwhile
    other_process(qtbot, db_path, "claim", mid)

    def claimed() -> None:
        row = window.queue_pane.model.rows[window.queue_pane.model.row_of(mid)]
        assert (row.state, row.assignee) == ("claimed", "omar")
        assert window.detail is not None and window.detail.assignee == "omar"

    qtbot.waitUntil(claimed, timeout=WAIT)


def test_a_user_disabled_by_another_process_signs_out_while_this_process_keeps_committing(
    qtbot: QtBot, window: ConsoleWindow, db_path: Path, busy: list[int]
) -> None:
    qtbot.waitUntil(lambda: busy[0] >= 20, timeout=WAIT)
    cli_here(qtbot, db_path, "users", "disable", "olga")  # IT, from a shell
    qtbot.waitUntil(lambda: window.user is None, timeout=WAIT)
    assert "disabled" in window.login.message.text()
    assert window.queue_pane.model.rowCount() == 0


def test_other_processes_commits_that_concern_no_part_read_nothing(
    qtbot: QtBot, window: ConsoleWindow, db_path: Path
) -> None:
    """A poller beside the console writes source health all day: the console reads once,
    for the claim, not once for every commit."""
    loads = window.loads
    other_process(qtbot, db_path, "status", "elsewhere")
    other_process(qtbot, db_path, "status", "elsewhere")
    other_process(qtbot, db_path, "claim", "demo:2")

    def claimed() -> None:
        assert window.queue_pane.model.rows[window.queue_pane.model.row_of("demo:2")].assignee == "omar"

    qtbot.waitUntil(claimed, timeout=WAIT)
    assert window.loads == loads + 1


def test_the_open_item_reads_again_only_for_a_change_to_it(
    qtbot: QtBot, window: ConsoleWindow, db_path: Path
) -> None:
    def settled() -> None:
        assert window.changes.last_id >= head(db_path) and not window.reading

    assert window.select("demo:0")
    qtbot.waitUntil(lambda: window.detail is not None and not window.reading, timeout=WAIT)
    loads, details = window.loads, window.detail_reads
    other_process(qtbot, db_path, "status", "elsewhere")  # source health: no part shows it
    qtbot.waitUntil(settled, timeout=WAIT)
    assert (window.loads, window.detail_reads) == (loads, details)
    other_process(qtbot, db_path, "claim", "demo:2")  # another item: the queue reads, the open item not
    qtbot.waitUntil(settled, timeout=WAIT)
    assert window.loads == loads + 1 and window.detail_reads == details
    other_process(qtbot, db_path, "claim", "demo:0")  # the open item: both
    qtbot.waitUntil(settled, timeout=WAIT)
    assert window.loads == loads + 2 and window.detail_reads == details + 1
    assert window.detail is not None and window.detail.assignee == "omar"


def test_each_part_takes_only_the_changes_that_concern_it() -> None:
    claim = Change(frozenset({T.QUEUE, T.AUDIT}), ids=("demo:1",))
    assert concerned([claim], "demo:1") == {QUEUE, ITEM}
    assert concerned([claim], "demo:2") == {QUEUE}
    assert concerned([Change(frozenset({T.MENTIONS, T.ROLLUPS}), ids=("demo:9",))], "demo:1") == set()
    assert concerned([Change(frozenset({T.REPLIES}))], None) == {QUEUE, APPROVALS}
    assert concerned([Change(frozenset({T.USERS}), ids=("olga",))], None) == {SESSION}
    assert concerned([Change(frozenset({T.CRISIS_EVENTS}))], None) == {ALERTS}
    assert WALLS not in concerned([changelog.EVERYTHING], "demo:1")  # it reads nothing of the store
    assert concerned([changelog.EVERYTHING], "demo:1") == {QUEUE, SESSION, APPROVALS, ALERTS, ITEM}
