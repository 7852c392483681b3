"""The console works a story as one piece of work, and corrects a post's sentiment with one
key: driven by the keyboard, offscreen, over the real store writer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.config import Config
from app.store.db import open_reader
from app.store.writer import StoreWriter
from app.ui.console import ConsoleWindow
from app.workflow import audit
from app.workflow.users import add_user, get_user
from tests.workflow.conftest import PASSWORD, PASSWORD_HASH
from tests.workflow.test_story_work import BURNED, ingest

WAIT = 15_000


@pytest.fixture
def writer(db_path: Path, config: Config) -> Iterator[StoreWriter]:
    w = StoreWriter(db_path, config, maintenance=False).start()
    w.call(lambda c: add_user(c, "olga", "operator", PASSWORD, password_hash=PASSWORD_HASH)).result(30)
    yield w
    w.close()


def console(qtbot: QtBot, config: Config, db: Path, writer: StoreWriter) -> ConsoleWindow:
    window = ConsoleWindow(config, db, writer, poll_ms=200)
    qtbot.addWidget(window)
    window.show()
    conn = open_reader(db)
    user = get_user(conn, "olga")
    conn.close()
    assert user is not None
    window.sign_in(user)
    qtbot.waitUntil(lambda: window.loads >= 1, timeout=WAIT)
    return window


def states(db: Path) -> dict[str, tuple[str, str | None]]:
    conn = open_reader(db)
    rows = {r[0]: (r[1], r[2]) for r in conn.execute("SELECT mention_id, state, assignee FROM queue")}
    conn.close()
    return rows


def test_a_story_is_claimed_and_answered_from_the_keyboard(qtbot: QtBot, config: Config, db_path: Path,
                                                          writer: StoreWriter) -> None:  # fmt: skip
    lone = ingest(writer, ["@lumio which shops in Lyon sell the Lumio Air?"], start=50)
    ids = ingest(writer, BURNED[:6])
    window = console(qtbot, config, db_path, writer)
    model, table = window.queue_pane.model, window.queue_pane.table
    qtbot.waitUntil(lambda: model.rowCount() == 7, timeout=WAIT)
    posts = [model.data(model.index(r, 7)) for r in range(model.rowCount())]
    first = next(i for i, c in enumerate(posts) if c.startswith("×6 ▸ "))
    assert all(p.startswith("    │ ") for p in posts[first + 1 : first + 6])  # the story's items together
    assert {model.rows[i].mention_id for i in range(first, first + 6)} == set(ids)
    assert posts[[r.mention_id for r in model.rows].index(lone[0])].startswith("@lumio which shops")
    assert window.select(ids[0])
    qtbot.waitUntil(lambda: window.detail is not None and window.item_pane.story_box.isVisible(), timeout=WAIT)
    assert "Story: 6 open of 6 posts" in window.item_pane.story_label.text()
    qtbot.keyClick(table, "C", Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: all(states(db_path)[m] == ("claimed", "olga") for m in ids), timeout=WAIT)
    assert states(db_path)[lone[0]] == ("new", None)
    qtbot.waitUntil(lambda: window.reply_pane.template_box.findData("dm-details") >= 0, timeout=WAIT)
    window.reply_pane.template_box.setCurrentIndex(window.reply_pane.template_box.findData("dm-details"))
    qtbot.keyClick(table, "T", Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: all(states(db_path)[m][0] == "approved" for m in ids), timeout=WAIT)
    qtbot.waitUntil(lambda: "Answered: 6 item(s)" in window.statusBar().currentMessage(), timeout=WAIT)
    conn = open_reader(db_path)
    texts = dict(conn.execute("SELECT mention_id, text FROM replies").fetchall())
    assert set(texts) == set(ids) and len(set(texts.values())) == 6  # each with its own name
    assert all([r["action"] for r in audit.rows(conn, m)] == ["item.claim", "item.reply"] for m in ids)
    conn.close()
    window.close()


def test_an_item_is_taken_out_and_the_rest_dismissed_as_duplicates(
    qtbot: QtBot, config: Config, db_path: Path, writer: StoreWriter
) -> None:
    ids = ingest(writer, BURNED[:5])
    window = console(qtbot, config, db_path, writer)
    model, table = window.queue_pane.model, window.queue_pane.table
    qtbot.waitUntil(lambda: model.rowCount() == 5, timeout=WAIT)
    assert window.select(ids[4])
    qtbot.waitUntil(lambda: window.item_pane.story_box.isVisible(), timeout=WAIT)
    qtbot.keyClick(table, "X")
    qtbot.waitUntil(lambda: model.row_of(ids[4]) >= 0 and model.rows[model.row_of(ids[4])].story is None,
                    timeout=WAIT)  # fmt: skip
    qtbot.waitUntil(lambda: window.detail is not None and window.detail.story is None, timeout=WAIT)
    assert not window.item_pane.story_box.isVisible()
    assert window.select(ids[0])
    qtbot.waitUntil(lambda: window.item_pane.story_box.isVisible(), timeout=WAIT)
    fut = window.dismiss_duplicates("one answer pinned for everyone")
    assert fut is not None
    qtbot.waitUntil(lambda: fut in window.shown, timeout=WAIT)
    got = states(db_path)
    assert got[ids[0]] == ("new", None) and got[ids[4]] == ("new", None)  # kept, and taken out
    assert {got[m][0] for m in ids[1:4]} == {"dismissed"}
    window.close()


def test_one_key_relabels_the_post_and_the_detail_names_the_words(
    qtbot: QtBot, config: Config, db_path: Path, writer: StoreWriter
) -> None:
    (mid,) = ingest(writer, ["@lumio great, my new Lumio X burned my hand while charging. thanks a lot"])
    window = console(qtbot, config, db_path, writer)
    assert window.select(mid)
    qtbot.waitUntil(lambda: window.item_pane.drivers.text().startswith("Scored"), timeout=WAIT)
    assert "“burned" in window.item_pane.drivers.text()
    conn = open_reader(db_path)
    (before,) = conn.execute("SELECT sentiment_label FROM mentions WHERE id = ?", (mid,)).fetchone()
    target = "positive" if before != "positive" else "neutral"
    qtbot.keyClick(window.queue_pane.table, "+" if target == "positive" else "0")
    qtbot.waitUntil(lambda: f"({target})" in window.item_pane.item_meta.text(), timeout=WAIT)
    assert conn.execute("SELECT sentiment_label FROM mentions WHERE id = ?", (mid,)).fetchone() == (target,)
    (row,) = [r for r in audit.rows(conn, mid) if r["action"] == "mention.relabel"]
    assert (row["actor"], row["before"], row["after"]["sentiment_label"]) == (
        "olga", {"sentiment_label": before}, target)
    conn.close()
    window.close()
