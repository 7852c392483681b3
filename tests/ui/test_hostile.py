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

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            hits.append(conn.recv(200).decode("latin-1"))
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], hits
    stop.set()
    thread.join(2)
    server.close()


def test_markup_renders_literally_and_nothing_is_fetched(
    tmp_path: Path, config: Config, listener: tuple[int, list[str]], qtbot: QtBot,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    port, hits = listener
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
    time.sleep(0.5)
    assert hits == [], "rendering a post made the wall connect to a URL in it"
    text = "".join("".join(drawn).split())  # compare without the spaces where lines wrapped

    def literal(s: str) -> bool:
        return "".join(s.split()) in text

    assert literal("<b>@evil</b>")  # the author, literally
    assert literal(f'<img src="http://127.0.0.1:{port}/pixel.png">')  # feed, spotlight: literal markup
    assert literal("<b>bold</b> &amp; <script>x</script>")
