"""A console as a process of its own: `python -m tests.room.console_proc CONFIG DB USER ROLE [ITEM]`.

Offscreen, on a station of its own (its cache, writer and room sync), signed in as USER,
with ITEM opened once its queue shows it. Each time what it shows changes it prints one
JSON line: each row's state and assignee, and who else it shows on the open item. SIGTERM
ends it (signing out of the room's presence on the way).
"""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from app.config import load_config
from app.room.station import Station
from app.store.writer import StoreWriter
from app.ui.console import ConsoleWindow
from app.workflow.users import User


def main() -> int:
    config_path, db, name, role = sys.argv[1:5]
    item = sys.argv[5] if len(sys.argv) > 5 else None
    app = QApplication([])
    config = load_config(Path(config_path))
    assert config.room is not None
    writer = StoreWriter(Path(db), config, maintenance=False).start()
    sync = Station(config.room, writer).start()
    window = ConsoleWindow(config, Path(db), writer, poll_ms=200)
    window.show()
    window.sign_in(User(name, role))
    last = ""

    def report() -> None:
        nonlocal last
        if item is not None and window.current != item:
            window.select(item)
        part = window.room_part
        shown = json.dumps({
            "rows": {r.mention_id: [r.state, r.assignee] for r in window.queue_pane.model.rows},
            "on_item": part.presence.on_item.text() if part else "",
        }, sort_keys=True)  # fmt: skip
        if shown != last:
            last = shown
            print(shown, flush=True)

    timer = QTimer()
    timer.timeout.connect(report)
    timer.start(50)  # also lets Python see SIGTERM between Qt's events
    signal.signal(signal.SIGTERM, lambda *_: app.quit())
    code = app.exec()
    window.shutdown()
    sync.stop()
    writer.close()
    return code


if __name__ == "__main__":
    sys.exit(main())
