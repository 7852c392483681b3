"""A wall in a process of its own for bench/room.py: one queue tile, offscreen, that says
when it repainted a change.

``python bench/_wallprobe.py DB ITEM [--room URL --password-env NAME] [--throttle-ms N]``

Built as ``watchfloor wall`` builds it (app/ui/launch.py): a :class:`WallHub` reading the
change log of its SQLite file on its own timer and, with a room, a station filling that
file from the room through the store writer. Each time the queue tile *paints* a state
of ITEM other than the last one it painted, it prints ``<time.monotonic()> <state>`` on
stdout (the system's monotonic clock: comparable with the parent's on this machine).
Closing stdin ends it.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import QTimer
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import QApplication

from app.config import Room, load_config
from app.resources import demo_config_path
from app.ui.theme import Scale
from app.ui.tilebase import TileContext
from app.ui.walldata import WallHub
from widgets.queue import QueueOptions, QueueTile


class ProbeTile(QueueTile):
    """The product's queue tile; after each paint, the state it drew for the probed item."""

    item = ""
    painted: str | None = None

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        state = next((s for post, s, _ in self.head if post.id == self.item), "absent")
        if state != self.painted:
            self.painted = state
            print(f"{time.monotonic():.6f} {state}", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("db", type=Path)
    ap.add_argument("item")
    ap.add_argument("--room")
    ap.add_argument("--password-env", default="")
    ap.add_argument("--throttle-ms", type=int, default=0, help="0: the product's default")
    args = ap.parse_args()
    app = QApplication([])
    config = load_config(demo_config_path())
    station = writer = None
    if args.room:
        from app.room.station import Station
        from app.store.writer import StoreWriter

        room = Room(url=args.room, password_env=args.password_env, sslmode="disable",
                    station="bench-wall")  # fmt: skip
        config = config.model_copy(update={"room": room})
        writer = StoreWriter(args.db, config, maintenance=True).start()
        station = Station(room, writer).start()
        if not station.caught_up.wait(60):
            print("the wall's station never caught up", file=sys.stderr)
            return 1
    hub = (WallHub(args.db, config, throttle_ms=args.throttle_ms) if args.throttle_ms
           else WallHub(args.db, config))  # fmt: skip
    tile = ProbeTile(QueueOptions(show_items=4), TileContext(hub.conn, config, Scale(1.0)), None)
    tile.item = args.item
    tile.resize(900, 600)
    tile.show()
    hub.add_tile(tile)
    hub.start()
    # the parent closes stdin to end it; a timer lets Python look between Qt's events
    gone = threading.Event()

    def watch_stdin() -> None:
        sys.stdin.read()
        gone.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    watch = QTimer()
    watch.timeout.connect(lambda: app.quit() if gone.is_set() else None)
    watch.start(100)
    code = app.exec()
    hub.close()
    if station is not None and writer is not None:
        station.stop()
        writer.close()
    return code


if __name__ == "__main__":
    sys.exit(main())
