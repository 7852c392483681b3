"""The operator console driven end to end, the way an operator uses it."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.config import Config, parse_config
from app.poller import Poller
from app.resources import demo_config_path
from app.store.db import open_reader
from app.store.writer import StoreWriter
from app.ui.console import ConsoleWindow
from app.workflow import audit
from app.workflow.setup import build_workflow
from app.workflow.users import add_user, get_user
from tests.workflow.conftest import PASSWORD, PASSWORD_HASH, queue_items

WAIT = 15_000


@pytest.fixture
def writer(db_path: Path, config: Config) -> Iterator[StoreWriter]:
    w = StoreWriter(db_path, config, maintenance=False).start()
    w.call(lambda c: [add_user(c, *u, PASSWORD, password_hash=PASSWORD_HASH, **kw) for u, kw in (
        (("olga", "operator"), {}), (("omar", "operator"), {}), (("ada", "approver"), {}),
        (("vic", "viewer"), {}))]).result(30)  # fmt: skip
    yield w
    w.close()


def open_console(qtbot: QtBot, config: Config, db: Path, writer: StoreWriter,
                 name: str | None) -> ConsoleWindow:  # fmt: skip
    window = ConsoleWindow(config, db, writer, poll_ms=200)
    qtbot.addWidget(window)
    window.show()
    if name is not None:
        conn = open_reader(db)
        user = get_user(conn, name)
        conn.close()
        window.sign_in(user)
        qtbot.waitUntil(lambda: window.loads >= 1, timeout=WAIT)
    return window


def done(qtbot: QtBot, window: ConsoleWindow, fut: Any) -> Any:
    """Wait for an action and for the console to show its outcome."""
    assert fut is not None
    qtbot.waitUntil(lambda: fut in window.shown, timeout=WAIT)
    return fut.result()


def shown(qtbot: QtBot, window: ConsoleWindow, mention_id: str, state: str) -> None:
    def check() -> None:
        row = window.queue_pane.model.row_of(mention_id)
        assert row >= 0 and window.queue_pane.model.rows[row].state == state

    qtbot.waitUntil(check, timeout=WAIT)


def send_outbox(config: Config, writer: StoreWriter) -> None:
    """The outbox as `watchfloor poll` runs it, one round, without fetching."""
    asyncio.run(Poller(config, writer, workflow=build_workflow(config), fetch=False).run(once=True))


def desk_on_bluesky(net: Any, desk_name: str, asker_name: str, question: str,
                    monkeypatch: pytest.MonkeyPatch, *, above: str | None = None
                    ) -> tuple[Config, Any, dict[str, str]]:  # fmt: skip
    """A brand account on the PDS, a customer asking it ``question`` (under a post ``above``),
    and the demo config watching that account; returns (config, brand account, the question)."""
    import tomllib

    from tests.sources.test_bluesky_pds import account, post, span

    desk, asker = account(net, desk_name), account(net, asker_name)
    handle = f"@{desk_name}.test"
    text = f"{handle} {question}"
    root = post(net, asker, above) if above else None
    asked = post(net, asker, text, [{"index": span(text, handle), "features": [
        {"$type": "app.bsky.richtext.facet#mention", "did": desk.did}]}],
        reply={"root": root, "parent": root} if root else None)  # fmt: skip
    net.process_all()
    env = f"WATCHFLOOR_TEST_{desk_name.upper()}_PW"
    monkeypatch.setenv(env, desk.app_password)
    data = tomllib.loads(demo_config_path().read_text(encoding="utf-8"))
    data["brand"]["accounts"] = [desk.handle]
    data["sources"] = [{"name": "bluesky", "type": "bluesky", "base_url": net.pds, "queries": [],
                        "handle": desk.handle, "password_env": env, "timeout_s": 10}]  # fmt: skip
    return parse_config(data, "bluesky (test)"), desk, asked


def test_sign_in_page_refuses_a_wrong_password(qtbot: QtBot, config: Config, db_path: Path,
                                               writer: StoreWriter) -> None:  # fmt: skip
    window = open_console(qtbot, config, db_path, writer, None)
    qtbot.waitUntil(lambda: window.login.first_admin is False, timeout=WAIT)
    window.login.name.setText("olga")
    window.login.password.setText("not the password")
    window.login.submit()
    qtbot.waitUntil(lambda: "Could not sign in" in window.login.message.text(), timeout=WAIT)
    assert window.user is None
    window.login.password.setText(PASSWORD)
    window.login.submit()
    qtbot.waitUntil(lambda: window.user is not None, timeout=WAIT)
    assert window.user is not None and window.user.role == "operator"
    window.close()


def test_an_empty_database_asks_for_the_first_administrator(qtbot: QtBot, config: Config,
                                                           tmp_path: Path) -> None:  # fmt: skip
    db = tmp_path / "fresh.db"
    with StoreWriter(db, config, maintenance=False) as w:
        window = open_console(qtbot, config, db, w, None)
        qtbot.waitUntil(lambda: window.login.first_admin is True, timeout=WAIT)
        assert window.login.again.isVisible()
        window.login.name.setText("root")
        window.login.password.setText(PASSWORD)
        window.login.again.setText(PASSWORD)
        window.login.submit()
        qtbot.waitUntil(lambda: window.user is not None, timeout=WAIT)
        assert window.user is not None and window.user.role == "admin"
        window.close()


def test_claim_then_template_reply_is_sent(qtbot: QtBot, config: Config, db_path: Path,
                                           writer: StoreWriter) -> None:  # fmt: skip
    conn = open_reader(db_path)
    mid = queue_items(sqlite3.connect(db_path), 3)[0]
    window = open_console(qtbot, config, db_path, writer, "olga")
    qtbot.waitUntil(lambda: window.queue_pane.model.rowCount() == 3, timeout=WAIT)
    assert window.select(mid)
    qtbot.waitUntil(lambda: window.detail is not None, timeout=WAIT)
    qtbot.keyClick(window.queue_pane.table, "C")  # the keyboard, as an operator would
    shown(qtbot, window, mid, "claimed")
    qtbot.waitUntil(lambda: window.reply_pane.template_box.count() > 0, timeout=WAIT)
    i = window.reply_pane.template_box.findData("dm-details")
    window.reply_pane.template_box.setCurrentIndex(i)
    assert "User 0" in window.reply_pane.template_preview.text()
    done(qtbot, window, window.send_template())
    shown(qtbot, window, mid, "approved")
    send_outbox(config, writer)
    window.queue_pane.state_box.setCurrentIndex(7)  # "Sent"
    shown(qtbot, window, mid, "sent")
    text, state = conn.execute("SELECT text, state FROM replies WHERE mention_id = ?", (mid,)).fetchone()
    assert state == "sent" and text.startswith("Sorry to hear that, User 0.")
    conn.close()
    window.close()


def test_free_text_is_approved_by_a_second_person_then_sent(qtbot: QtBot, config: Config,
                                                           db_path: Path, writer: StoreWriter) -> None:  # fmt: skip
    (mid,) = queue_items(sqlite3.connect(db_path), 1)
    olga = open_console(qtbot, config, db_path, writer, "olga")
    ada = open_console(qtbot, config, db_path, writer, "ada")
    olga.select(mid)
    done(qtbot, olga, olga.claim())
    olga.reply_pane.text.setPlainText("So sorry — a replacement is on its way today.")
    assert olga.reply_pane.counter.text() == "45 / 500"
    assert not olga.reply_pane.send_button.isVisible()  # no right to send without approval
    done(qtbot, olga, olga.submit())
    qtbot.waitUntil(lambda: len(ada.approvals_pane.pending) == 1, timeout=WAIT)
    assert "Approvals (1)" in ada.tabs.tabText(1)
    assert not olga.approvals_pane.approve_button.isEnabled()
    ada.approvals_pane.list.setCurrentRow(0)
    done(qtbot, ada, ada.approve())
    shown(qtbot, olga, mid, "approved")
    send_outbox(config, writer)
    conn = open_reader(db_path)
    assert conn.execute("SELECT state, approved_by FROM replies WHERE mention_id = ?", (mid,)).fetchone() == (
        "sent", "ada")
    actions = [r["action"] for r in audit.rows(conn, mid)]
    assert actions == ["item.claim", "item.submit", "item.approve", "item.send", "item.sent"]
    conn.close()
    olga.close()
    ada.close()


def test_a_viewer_sees_but_cannot_act(qtbot: QtBot, config: Config, db_path: Path,
                                      writer: StoreWriter) -> None:  # fmt: skip
    (mid,) = queue_items(sqlite3.connect(db_path), 1)
    window = open_console(qtbot, config, db_path, writer, "vic")
    assert not window.item_pane.claim_button.isEnabled() and not window.approvals_pane.approve_button.isEnabled()
    window.select(mid)
    with pytest.raises(Exception, match="role may not claim"):
        done(qtbot, window, window.claim())
    assert "refused" in window.error_bar.text()
    window.close()


def test_no_queue_column_header_is_cut(qtbot: QtBot, config: Config, db_path: Path,
                                       writer: StoreWriter) -> None:  # fmt: skip
    queue_items(sqlite3.connect(db_path), 1)
    window = open_console(qtbot, config, db_path, writer, "vic")
    table = window.queue_pane.table
    header, model = table.horizontalHeader(), table.model()
    for col in range(model.columnCount()):
        label = str(model.headerData(col, Qt.Orientation.Horizontal) or "")
        assert table.columnWidth(col) >= header.fontMetrics().horizontalAdvance(label) + 12, label
    window.close()


def test_the_signed_in_console_fits_a_workstation_screen(qtbot: QtBot, config: Config, db_path: Path,
                                                         writer: StoreWriter) -> None:  # fmt: skip
    queue_items(sqlite3.connect(db_path), 30)
    window = open_console(qtbot, config, db_path, writer, "olga")
    window.select(window.queue_pane.model.rows[0].mention_id)
    assert window.minimumSizeHint().width() <= 1600  # a 1920 screen with room to spare
    window.close()


def test_two_consoles_race_for_a_thousand_items_and_each_is_claimed_once(
    qtbot: QtBot, config: Config, db_path: Path, writer: StoreWriter
) -> None:
    queue_items(sqlite3.connect(db_path), 1000)
    with StoreWriter(db_path, config, maintenance=False) as other:  # a second station's writer
        olga = open_console(qtbot, config, db_path, writer, "olga")
        omar = open_console(qtbot, config, db_path, other, "omar")
        futures = []
        for _ in range(1000):
            futures += [olga.claim_next(), omar.claim_next()]
        qtbot.waitUntil(lambda: all(f.done() for f in futures), timeout=120_000)
        won = [f.result() for f in futures]
        claimed = [item.mention_id for item in won if item is not None]
        assert len(claimed) == 1000 and len(set(claimed)) == 1000
        conn = open_reader(db_path)
        by = dict(conn.execute("SELECT assignee, count(*) FROM queue GROUP BY assignee").fetchall())
        # who wins how many is up to SQLite's lock; that nothing is claimed twice is not
        assert by.get("olga", 0) + by.get("omar", 0) == 1000 and None not in by
        (claims,) = conn.execute("SELECT count(*) FROM audit WHERE action = 'item.claim'").fetchone()
        assert claims == 1000
        assert audit.verify(conn).ok
        conn.close()
        olga.close()
        omar.close()


def test_escalation_turns_the_console_to_crisis_mode(qtbot: QtBot, config: Config, db_path: Path,
                                                    writer: StoreWriter) -> None:  # fmt: skip
    first, second = queue_items(sqlite3.connect(db_path), 2)
    olga = open_console(qtbot, config, db_path, writer, "olga")
    ada = open_console(qtbot, config, db_path, writer, "ada")
    olga.select(first)
    done(qtbot, olga, olga.escalate("reports of phones catching fire"))
    qtbot.waitUntil(lambda: olga.crisis_bar.banner.isVisible(), timeout=WAIT)
    assert "CRISIS" in olga.crisis_bar.banner.text() and "lumio" in olga.crisis_bar.banner.text()
    assert olga.queue_pane.topic_box.currentData() == "lumio"  # the queue focuses on the crisis topic
    qtbot.waitUntil(lambda: olga.alerts_pane.timeline.count() >= 2, timeout=WAIT)
    olga.select(second)
    done(qtbot, olga, olga.claim())
    qtbot.waitUntil(lambda: olga.reply_pane.template_box.count() == 2, timeout=WAIT)
    names = {olga.reply_pane.template_box.itemData(i) for i in range(olga.reply_pane.template_box.count())}
    assert names == {"crisis-holding", "crisis-support"}
    assert not olga.crisis_bar.end_button.isEnabled()
    qtbot.waitUntil(lambda: ada.crisis is not None, timeout=WAIT)
    done(qtbot, ada, ada.end_crisis("a faulty charger batch; statement published"))
    qtbot.waitUntil(lambda: not olga.crisis_bar.banner.isVisible(), timeout=WAIT)
    conn = open_reader(db_path)
    assert conn.execute("SELECT ended_by FROM crises").fetchone() == ("ada",)
    conn.close()
    olga.close()
    ada.close()


def test_hostile_post_text_is_shown_literally(qtbot: QtBot, config: Config, db_path: Path,
                                              writer: StoreWriter) -> None:  # fmt: skip
    hostile = '<b>bold</b> <img src="http://127.0.0.1:9/x.png"> <a href="x">link</a> &amp; שלום 👍'
    conn = sqlite3.connect(db_path)
    (mid,) = queue_items(conn, 1)
    conn.execute("UPDATE mentions SET text = ?, author_name = '<i>Eve</i>' WHERE id = ?", (hostile, mid))
    conn.commit()
    window = open_console(qtbot, config, db_path, writer, "olga")
    window.select(mid)
    qtbot.waitUntil(lambda: window.detail is not None, timeout=WAIT)
    assert window.item_pane.post.toPlainText() == hostile
    assert window.item_pane.item_head.text().startswith("P1 · <i>Eve</i>")
    from PySide6.QtCore import Qt

    assert window.item_pane.item_head.textFormat() == Qt.TextFormat.PlainText
    assert window.queue_pane.model.rows[0].text == hostile
    window.close()


@pytest.mark.peer
def test_template_reply_lands_on_a_live_bluesky_pds_in_the_right_thread(
    qtbot: QtBot, db_path: Path, bluesky_peer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    net = bluesky_peer
    config, desk, asked = desk_on_bluesky(net, "lumiodesk", "cara",
                                          "my lumio screen cracked after a day, what can I do?",
                                          monkeypatch)  # fmt: skip
    with StoreWriter(db_path, config, maintenance=False) as writer:
        writer.call(lambda c: add_user(c, "olga", "operator", PASSWORD, password_hash=PASSWORD_HASH)).result(30)
        asyncio.run(Poller(config, writer).run(once=True))
        mid = f"bluesky:{asked['uri']}"
        window = open_console(qtbot, config, db_path, writer, "olga")
        qtbot.waitUntil(lambda: window.queue_pane.model.row_of(mid) >= 0, timeout=WAIT)
        window.select(mid)
        qtbot.keyClick(window.queue_pane.table, "C")
        shown(qtbot, window, mid, "claimed")
        qtbot.waitUntil(lambda: window.reply_pane.template_box.findData("dm-details") >= 0, timeout=WAIT)
        window.reply_pane.template_box.setCurrentIndex(window.reply_pane.template_box.findData("dm-details"))
        qtbot.keyClick(window.queue_pane.table, "T")
        shown(qtbot, window, mid, "approved")
        asyncio.run(Poller(config, writer, workflow=build_workflow(config), fetch=False).run(once=True))
        window.queue_pane.state_box.setCurrentIndex(7)  # "Sent"
        shown(qtbot, window, mid, "sent")
        window.close()
    records = httpx.get(f"{net.pds}/xrpc/com.atproto.repo.listRecords", timeout=30, params={
        "repo": desk.did, "collection": "app.bsky.feed.post"}).json()["records"]  # fmt: skip
    assert len(records) == 1
    value = records[0]["value"]
    assert value["reply"]["parent"] == asked and value["reply"]["root"] == asked
    assert value["text"].startswith("Sorry to hear that, ") and "Lumio support" in value["text"]
    conn = open_reader(db_path)
    sent = conn.execute("SELECT sent_native_id FROM replies WHERE mention_id = ?", (mid,)).fetchone()
    assert sent == (records[0]["uri"],)
    conn.close()


@pytest.mark.peer
def test_the_thread_above_a_post_is_read_through_its_source(
    qtbot: QtBot, db_path: Path, bluesky_peer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As in `watchfloor run`: console and poller on one qasync loop, the thread read live."""
    import qasync
    from PySide6.QtWidgets import QApplication

    net = bluesky_peer
    config, _, asked = desk_on_bluesky(
        net, "lumiohelp", "dan", "is this normal for a lumio?", monkeypatch,
        above="Day two with the new phone and the battery is already at 40%")
    mid = f"bluesky:{asked['uri']}"
    app = QApplication.instance()
    loop = qasync.QEventLoop(app)
    try:
        with StoreWriter(db_path, config, maintenance=False) as writer:
            writer.call(lambda c: add_user(c, "olga", "operator", PASSWORD, password_hash=PASSWORD_HASH)).result(30)
            window = open_console(qtbot, config, db_path, writer, "olga")
            poller = Poller(config, writer, workflow=build_workflow(config))
            window.thread_fetcher = poller.thread_context

            async def go() -> str:
                task = asyncio.ensure_future(poller.run())
                try:
                    for _ in range(400):
                        if window.queue_pane.model.row_of(mid) >= 0 and window.current != mid:
                            window.select(mid)
                        if "Thread above" in window.item_pane.thread_label.text():
                            break
                        await asyncio.sleep(0.05)
                    return window.item_pane.thread_label.text()
                finally:
                    await poller.stop()
                    await asyncio.wait_for(task, 30)

            shown_text = loop.run_until_complete(go())
            window.close()
    finally:
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()
        asyncio.set_event_loop(None)
    assert "Thread above" in shown_text
    assert "@dan.test: Day two with the new phone and the battery is already at 40%" in shown_text


def test_new_urgent_items_and_spikes_raise_a_notification(qtbot: QtBot, config: Config,
                                                          db_path: Path, writer: StoreWriter) -> None:  # fmt: skip
    conn = sqlite3.connect(db_path)
    queue_items(conn, 1)  # waiting at sign-in: on screen already, no notice
    window = open_console(qtbot, config, db_path, writer, "olga")
    window.reload()  # a second read of the same queue: still nothing new to announce
    qtbot.waitUntil(lambda: window.loads >= 2, timeout=WAIT)
    assert window.notifications == []
    queue_items(conn, 4, start=100)  # P1, P2, P3, P4: only P1 notifies by default
    conn.execute(
        "INSERT INTO alerts (kind, topic, ts, window_start, observed, baseline, z, explanation)"
        " VALUES ('spike', 'lumio', strftime('%s'), strftime('%s') - 300, 40, 4, 9,"
        " 'lumio: 40 mentions/min, 10× the usual')")
    conn.commit()
    qtbot.waitUntil(lambda: len(window.notifications) == 2, timeout=WAIT)  # seen via data_version
    assert window.notifications[0] == "Spike: lumio: 40 mentions/min, 10× the usual"
    assert window.notifications[1].startswith("P1 from @user100: @lumio help please")
    conn.close()
    window.close()
