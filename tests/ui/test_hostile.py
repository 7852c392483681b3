"""Post text is hostile: it is drawn literally as plain text and makes the wall fetch nothing."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
from PySide6.QtGui import QPainter
from pytestqt.qtbot import QtBot

from app import wallcontrol
from app.config import Config
from app.layouts import load_layout
from app.store.db import open_writer, transaction
from app.ui.snapshot import render_snapshot


@pytest.fixture
def listener():  # type: ignore[no-untyped-def]
    """A loopback port that records every connection made to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    hits: list[str] = []
    stop = threading.Event()
    probed = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            hits.append(conn.recv(200).decode("latin-1"))
            conn.close()
            if hits[-1] == "probe":
                probed.set()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], hits, probed
    stop.set()
    thread.join(2)
    server.close()


def test_markup_renders_literally_and_nothing_is_fetched(
    tmp_path: Path, config: Config, listener: tuple[int, list[str], threading.Event], qtbot: QtBot,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    port, hits, probed = listener
    hostile = (
        f'<b>bold</b> &amp; <script>x</script> <img src="http://127.0.0.1:{port}/pixel.png"> '
        f'<a href="http://127.0.0.1:{port}/x">@lumio click</a> مرحبا 😀'
    )
    db = tmp_path / "h.db"
    conn = open_writer(db)
    now = time.time()
    with transaction(conn):
        conn.execute(
            "INSERT INTO mentions (id, network, source, author, text, ts, fetched_ts, sentiment,"
            " topics, needs_response, priority, reasons, engagement) VALUES ('demo:x', 'demo', 'demo',"
            " '<b>@evil</b>', ?, ?, ?, -0.6, '[\"lumio\"]', 1, 1, '[]', 99)", (hostile, now, now))  # fmt: skip
        conn.execute("INSERT INTO mention_topics (topic, ts, mention) VALUES ('lumio', ?, 1)", (now,))
        conn.execute("INSERT INTO queue (mention_id, priority, queued_ts, updated_ts) VALUES ('demo:x', 1, ?, ?)",
                     (now, now))  # fmt: skip
        wallcontrol.issue(conn, "spotlight", {"mention_id": "demo:x"})
    conn.close()

    drawn: list[str] = []
    original = QPainter.drawText

    def record(self: QPainter, *args: object) -> None:
        drawn.extend(a for a in args if isinstance(a, str))
        original(self, *args)  # type: ignore[call-overload]

    monkeypatch.setattr(QPainter, "drawText", record)
    layout = load_layout("demo").layout
    for screen in layout.screens:
        for scene in screen.scenes:
            render_snapshot(config, db, tmp_path / "out", layout="demo", scene=scene.name)
    # connections are accepted in order: once our own probe is in, any the wall made is too
    with socket.create_connection(("127.0.0.1", port)) as probe:
        probe.sendall(b"probe")
    assert probed.wait(10)
    assert hits == ["probe"], "rendering a post made the wall connect to a URL in it"
    text = "".join("".join(drawn).split())  # compare without the spaces where lines wrapped

    def literal(s: str) -> bool:
        return "".join(s.split()) in text

    assert literal("<b>@evil</b>")  # the author, literally
    assert literal(f'<img src="http://127.0.0.1:{port}/pixel.png">')  # feed, spotlight: literal markup
    assert literal("<b>bold</b> &amp; <script>x</script>")


HOSTILE = ('<b>bold</b> <img src="file:///etc/watchfloor/logo.png"> <a href="http://127.0.0.1:9/x">'
           '@lumio click</a> &amp; <font color=red>red</font>')  # fmt: skip
FRAGMENTS = ("<b>", "<img src=", "<a href=", "<font color")


def _rendered(value: str) -> tuple[str, str]:
    """What Qt would show for ``value`` where it guesses the format (tooltips, auto-text
    labels, notification bodies): its visible text, and the document it made of it."""
    from PySide6.QtGui import Qt, QTextDocument

    doc = QTextDocument()
    if Qt.mightBeRichText(value):
        doc.setHtml(value)
    else:
        doc.setPlainText(value)
    return doc.toPlainText(), doc.toHtml()


def _shown_literally(value: object) -> bool:
    """True unless Qt would take part of ``value`` for markup (a tag vanishes, an image loads)."""
    if not isinstance(value, str) or not value:
        return True
    text, doc = _rendered(value)
    if "<img src=\"file" in doc or 'href="http' in doc:
        return False
    raw = value if not value.startswith("<qt>") else text
    return all(f not in raw or f in text for f in FRAGMENTS)


def test_the_console_shows_hostile_posts_and_names_as_plain_text_everywhere(
    tmp_path: Path, config: Config, qtbot: QtBot
) -> None:  # fmt: skip
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QLabel, QListWidget, QSystemTrayIcon, QWidget

    from app.store.writer import StoreWriter
    from app.ui.console import ConsoleWindow
    from app.workflow.users import add_user, get_user
    from tests.workflow.conftest import PASSWORD, PASSWORD_HASH, queue_items

    db = tmp_path / "h.db"
    with StoreWriter(db, config, maintenance=False) as writer:
        writer.call(lambda c: add_user(c, "olga", "operator", PASSWORD, password_hash=PASSWORD_HASH)).result(30)
        window = ConsoleWindow(config, db, writer, poll_ms=200)
        qtbot.addWidget(window)
        window.show()
        shown: list[str] = []

        class Tray(QSystemTrayIcon):
            def showMessage(self, title: str, msg: str, *args: object) -> None:  # type: ignore[override]
                shown.extend((title, msg))

        conn = open_writer(db)
        user = get_user(conn, "olga")
        assert user is not None
        window.sign_in(user)
        window.notifier.tray = Tray(window)
        qtbot.waitUntil(lambda: window.loads >= 1, timeout=15_000)
        mid, earlier = queue_items(conn, 2, start=40)  # P1 (40 % 4 == 0): a notification
        with transaction(conn):
            conn.execute("UPDATE mentions SET text = ?, author = '<b>@evil</b>',"
                         " author_name = '<img src=\"file:///tmp/x.png\"><i>Eve</i>'", (HOSTILE,))  # fmt: skip
            conn.execute("UPDATE mentions SET ts = ts - 600 WHERE id = ?", (earlier,))
            # the two are one story, labelled with the hostile text (the item's story line)
            conn.execute("INSERT INTO stories (id, label, label_mention, size, first_ts, last_ts)"
                         " VALUES (1, ?, ?, 2, 0, 0)", (HOSTILE, mid))  # fmt: skip
            conn.executemany("INSERT INTO story_members (mention_id, story_id, ts) VALUES (?, 1, 0)",
                             [(mid,), (earlier,)])  # fmt: skip
            conn.execute("INSERT INTO alerts (kind, topic, ts, window_start, observed, baseline, z,"
                         " explanation) VALUES ('spike', 'lumio', strftime('%s'), strftime('%s') - 300,"
                         " 40, 4, 9, ?)", (f"lumio: 40/min, driven by {HOSTILE}",))  # fmt: skip
        conn.close()
        qtbot.waitUntil(lambda: len(window.notifications) >= 2 and window.queue_pane.model.row_of(mid) >= 0,
                        timeout=15_000)  # fmt: skip
        assert window.select(mid)
        qtbot.waitUntil(lambda: window.detail is not None and bool(window.detail.earlier), timeout=15_000)
        window.add_note(f"customer wrote {HOSTILE}")
        qtbot.waitUntil(lambda: any("customer wrote" in window.item_pane.history.item(i).text()
                                    for i in range(window.item_pane.history.count())), timeout=15_000)  # fmt: skip

        model, bad = window.queue_pane.model, []
        # the roles Qt reads as rich text when they look like it (display text, status tips and
        # accessible text are always drawn or spoken as plain text)
        roles = (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.WhatsThisRole)
        for row in range(model.rowCount()):
            for col in range(model.columnCount()):
                for role in roles:
                    value = model.data(model.index(row, col), role)
                    if not _shown_literally(value):
                        bad.append(f"queue row {row} column {col} role {role}: {value!r}")
        tip = model.data(model.index(model.row_of(mid), 7), Qt.ItemDataRole.ToolTipRole)
        assert HOSTILE in _rendered(tip)[0]  # the post, every character as itself
        qtbot.waitUntil(lambda: window.item_pane.story_box.isVisible(), timeout=15_000)
        for widget in window.findChildren(QWidget):
            for what in ("toolTip", "whatsThis"):
                if not _shown_literally(getattr(widget, what)()):
                    bad.append(f"{type(widget).__name__}.{what}")
            if (isinstance(widget, QLabel) and any(f in widget.text() for f in FRAGMENTS)
                    and widget.textFormat() != Qt.TextFormat.PlainText):  # fmt: skip
                bad.append(f"label {widget.text()[:40]!r} is not plain text")
            if isinstance(widget, QListWidget):
                for i in range(widget.count()):
                    for role in roles:
                        if not _shown_literally(widget.item(i).data(role)):
                            bad.append(f"list item {widget.item(i).text()[:40]!r} role {role}")
        labels = [w.text() for w in window.findChildren(QLabel)]
        assert any("<img src=\"file:///tmp/x.png\"><i>Eve</i>" in t for t in labels)  # the name, literally
        assert any("<b>bold</b>" in t for t in labels)  # the template preview or context line
        assert shown and all(_shown_literally(f"<qt>{m}</qt>") for m in shown)  # the tray's body
        assert any("<b>@evil</b>" in _rendered(f"<qt>{m}</qt>")[0] for m in shown)
        assert not bad, bad
        window.close()
