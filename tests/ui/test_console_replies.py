"""Answering from the console: only where the network takes replies, counted as the source
counts, and alerts acted on by the one the operator picked, however often the list is re-read."""

from __future__ import annotations

import json
import sqlite3
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.config import Config, parse_config
from app.resources import demo_config_path
from app.store.db import open_reader
from app.store.writer import StoreWriter
from app.ui.console import ConsoleWindow
from app.workflow.users import add_user, get_user
from tests.workflow.conftest import PASSWORD, PASSWORD_HASH, queue_items

WAIT = 15_000


@pytest.fixture
def room_config() -> Config:
    """The demo, plus a Mastodon server and a press feed (never contacted here)."""
    data = tomllib.loads(demo_config_path().read_text(encoding="utf-8"))
    data["sources"] += [
        {"name": "masto", "type": "mastodon", "base_url": "http://127.0.0.1:9", "hashtags": ["lumio"]},
        {"name": "press", "type": "rss", "url": "http://127.0.0.1:9/press.xml"},
    ]
    return parse_config(data, "room (test)")


@pytest.fixture
def writer(db_path: Path, room_config: Config) -> Iterator[StoreWriter]:
    w = StoreWriter(db_path, room_config, maintenance=False).start()
    w.call(lambda c: [add_user(c, n, r, PASSWORD, password_hash=PASSWORD_HASH)
                      for n, r in (("olga", "operator"), ("ada", "approver"))]).result(30)  # fmt: skip
    yield w
    w.close()


def signed_in(qtbot: QtBot, config: Config, db: Path, writer: StoreWriter, name: str) -> ConsoleWindow:
    window = ConsoleWindow(config, db, writer, poll_ms=200)
    qtbot.addWidget(window)
    window.show()
    conn = open_reader(db)
    user = get_user(conn, name)
    conn.close()
    assert user is not None
    window.sign_in(user)
    qtbot.waitUntil(lambda: window.loads >= 1, timeout=WAIT)
    return window


def claimed(qtbot: QtBot, window: ConsoleWindow, mid: str) -> None:
    qtbot.waitUntil(lambda: window.select(mid), timeout=WAIT)
    fut = window.claim()
    assert fut is not None
    qtbot.waitUntil(fut.done, timeout=WAIT)
    fut.result()
    qtbot.waitUntil(lambda: window.detail is not None and window.detail.state == "claimed", timeout=WAIT)


def test_a_feed_item_offers_no_reply_and_says_why(qtbot: QtBot, room_config: Config, db_path: Path,
                                                  writer: StoreWriter) -> None:  # fmt: skip
    (mid,) = queue_items(sqlite3.connect(db_path), 1, network="rss", source="press")
    window = signed_in(qtbot, room_config, db_path, writer, "olga")
    claimed(qtbot, window, mid)
    assert not window.reply_pane.template_button.isEnabled() and not window.reply_pane.submit_button.isEnabled()
    assert not window.reply_pane.save_button.isEnabled() and not window.reply_pane.text.isEnabled()
    assert window.reply_pane.reply_why.isVisible() and "takes no replies" in window.reply_pane.reply_why.text()
    wf = window.workflow  # the workflow refuses it too, whoever asks
    with pytest.raises(Exception, match="takes no replies"):
        writer.call(lambda c: wf.submit(c, "olga", mid, "Thanks for the write-up!")).result(30)
    window.close()


def test_replying_to_a_new_item_says_to_claim_it_first(qtbot: QtBot, room_config: Config,
                                                      db_path: Path, writer: StoreWriter) -> None:  # fmt: skip
    (mid,) = queue_items(sqlite3.connect(db_path), 1)
    window = signed_in(qtbot, room_config, db_path, writer, "olga")
    qtbot.waitUntil(lambda: window.select(mid) and window.detail is not None, timeout=WAIT)
    window.reply_pane.text.setPlainText("We're on it.")
    fut = window.submit()
    assert fut is not None
    qtbot.waitUntil(lambda: fut in window.shown, timeout=WAIT)  # the refusal is on screen
    assert "cannot submit an item that is new: claim it first" in window.error_bar.text()
    window.close()


def test_the_reply_is_counted_as_the_mastodon_source_counts_it(
    qtbot: QtBot, room_config: Config, db_path: Path, writer: StoreWriter
) -> None:
    conn = sqlite3.connect(db_path)
    (mid,) = queue_items(conn, 1, network="mastodon", source="masto")
    conn.execute("UPDATE mentions SET reply_ref = ? WHERE id = ?",
                 (json.dumps({"status_id": "110", "acct": "cara@social.example"}), mid))  # fmt: skip
    conn.commit()
    conn.close()
    window = signed_in(qtbot, room_config, db_path, writer, "olga")
    claimed(qtbot, window, mid)
    link = "https://lumio.example/support/" + "a" * 480  # 510 characters, counted as 23
    window.reply_pane.text.setPlainText(f"Please see {link}")
    # "@cara " goes in front, as posted; the link is 23
    assert window.reply_pane.counter.text() == f"{len('@cara Please see ') + 23} / 500"
    fut = window.submit()
    assert fut is not None
    qtbot.waitUntil(fut.done, timeout=WAIT)
    fut.result()  # accepted: it fits as Mastodon counts
    window.reply_pane.text.setPlainText("x" * 495)
    assert window.reply_pane.counter.text() == "501 / 500" and window.reply_pane.counter.property("role") == "error"
    window.close()


def test_alerts_are_acted_on_by_the_one_picked_even_after_a_re_read(
    qtbot: QtBot, room_config: Config, db_path: Path, writer: StoreWriter
) -> None:
    def alert(conn: sqlite3.Connection, topic: str, ago: int) -> int:
        cur = conn.execute(
            "INSERT INTO alerts (kind, topic, ts, window_start, observed, baseline, z, explanation)"
            " VALUES ('spike', ?, strftime('%s') - ?, strftime('%s') - 300, 40, 4, 9, ?)",
            (topic, ago, f"{topic}: 40 mentions/min"))  # fmt: skip
        return int(cur.lastrowid or 0)

    conn = sqlite3.connect(db_path)
    older, newer = alert(conn, "globex", 120), alert(conn, "lumio", 60)
    conn.commit()
    window = signed_in(qtbot, room_config, db_path, writer, "ada")
    qtbot.waitUntil(lambda: window.alerts_pane.ids == [newer, older], timeout=WAIT)
    assert window.acknowledge() is None  # nothing picked: nothing acknowledged
    assert "Select an alert first" in window.statusBar().currentMessage()
    window.alerts_pane.list.setCurrentRow(1)  # the globex one
    loads = window.loads
    newest = alert(conn, "acme", 0)  # a background re-read puts a new alert on top
    conn.commit()
    qtbot.waitUntil(lambda: window.loads > loads and window.alerts_pane.ids[0] == newest, timeout=WAIT)
    assert window.alerts_pane.list.currentRow() == 2  # still the globex one
    fut = window.acknowledge()
    assert fut is not None
    qtbot.waitUntil(fut.done, timeout=WAIT)
    fut.result()
    states = dict(conn.execute("SELECT id, state FROM alerts").fetchall())
    assert states == {older: "acknowledged", newer: "active", newest: "active"}
    qtbot.waitUntil(lambda: older not in window.alerts_pane.ids, timeout=WAIT)
    assert window.accept_alert() is None  # the picked alert is gone: nothing is picked
    conn.close()
    window.close()
