"""Draw the operator console at the demo's crisis, as docs/screenshots/console.png shows it.

A demo run eight minutes in (the run ``watchfloor snapshot --demo-minute 8`` draws),
into a temporary database; an operator added with ``watchfloor users add``; the real
console, offscreen, signed in through its sign-in page; then the keys an operator
presses: ``G`` groups the queue by story (unless it is already), the queue's first story
(its most urgent) is selected and claimed whole (``Shift+C``), and the first template
offered for it is the one chosen.

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/console_snapshot.py [OUT.png] [--minute 8]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.config import load_config  # noqa: E402
from app.demorun import run_demo  # noqa: E402
from app.resources import demo_config_path  # noqa: E402
from app.store.db import open_reader  # noqa: E402
from app.store.writer import StoreWriter  # noqa: E402
from app.ui.console import ConsoleWindow  # noqa: E402
from app.ui.console_model import COLUMNS  # noqa: E402
from app.ui.launch import apply_theme  # noqa: E402

OPERATOR, PASSWORD = "olga", "crisis-desk-8"
#: a workstation screen (the console fits 1920 wide with the crisis queue)
SIZE = (1920, 1080)
WAIT_S = 60.0


def wait(app: QApplication, what: str, done: Callable[[], bool]) -> None:
    """Run the event loop until ``done()``; a picture of a half-loaded console is refused."""
    end = time.monotonic() + WAIT_S
    while not done():
        if time.monotonic() > end:
            raise SystemExit(f"console_snapshot: gave up waiting for {what}")
        app.processEvents()
        QTest.qWait(20)


def add_operator(db: Path, config: Path) -> None:
    subprocess.run(  # noqa: S603 - our own command, with our own arguments
        [sys.executable, "-m", "app", "--config", str(config), "--db", str(db),
         "users", "add", OPERATOR, "--role", "operator"],
        input=f"{PASSWORD}\n{PASSWORD}\n", text=True, check=True, cwd=ROOT,
    )  # fmt: skip


def claimed(db: Path, ids: set[str]) -> bool:
    conn = open_reader(db)
    try:
        rows = conn.execute("SELECT mention_id, state, assignee FROM queue").fetchall()
    finally:
        conn.close()
    return all((state, who) == ("claimed", OPERATOR) for m, state, who in rows if m in ids)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "out", nargs="?", default=str(ROOT / "docs" / "screenshots" / "console.png")
    )
    parser.add_argument("--minute", type=float, default=8.0, help="minutes into the demo run")
    args = parser.parse_args()
    config_path = demo_config_path()
    config = load_config(config_path)
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    apply_theme(app, config.wall.theme)
    with tempfile.TemporaryDirectory(prefix="watchfloor-console-") as folder:
        db = Path(folder) / "demo.db"
        run_demo(config, db, args.minute)
        add_operator(db, config_path)
        writer = StoreWriter(db, config, maintenance=False).start()  # as `watchfloor console`
        window = ConsoleWindow(config, db, writer)
        try:
            window.resize(*SIZE)
            window.show()
            login = window.login
            wait(app, "the sign-in page", lambda: login.button.isEnabled())
            login.name.setText(OPERATOR)
            login.password.setText(PASSWORD)
            login.button.click()
            wait(app, "the sign-in", lambda: window.user is not None and window.loads >= 1)
            q = window.queue_pane
            wait(app, "the queue", lambda: not window.reading)
            if not q.group_box.isChecked():  # G groups the queue by story (a toggle)
                loads = window.loads
                QTest.keyClick(q.table, Qt.Key.Key_G)
                wait(app, "the queue by story", lambda: window.loads > loads and not window.reading)
            model, post = q.model, COLUMNS.index("Post")  # a story's first row: ×N ▸
            first = next((r for r in range(model.rowCount())
                          if str(model.data(model.index(r, post))).startswith("×")), None)  # fmt: skip
            if first is None:
                raise SystemExit("console_snapshot: the queue holds no story of several items")
            story = model.rows[first]
            q.table.selectRow(first)
            wait(app, "the story's item", lambda: window.detail is not None
                 and window.detail.mention.get("id") == story.mention_id
                 and window.item_pane.story_box.isVisible())  # fmt: skip
            ids = {r.mention_id for r in model.rows if r.story == story.story and r.state == "new"}
            q.table.setFocus()
            QTest.keyClick(q.table, Qt.Key.Key_C, Qt.KeyboardModifier.ShiftModifier)
            wait(app, "the story claimed", lambda: claimed(db, ids))
            reply = window.reply_pane
            wait(app, "the claim shown", lambda: not window.reading and window.detail is not None
                 and window.detail.state == "claimed" and reply.template_box.count() > 0)  # fmt: skip
            reply.template_box.setCurrentIndex(0)
            reply.preview()
            app.processEvents()
            shot = window.grab()
            if not shot.save(args.out):
                raise SystemExit(f"console_snapshot: could not write {args.out}")
            print(f"{args.out}: {shot.width()}x{shot.height()}, story of {len(ids)} claimed,"
                  f" template {reply.chosen_template()}")  # fmt: skip
        finally:
            window.close()
            writer.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
