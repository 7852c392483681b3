"""A wall PC as a process of its own: `python -m tests.room.wall_proc CONFIG DB`.

Offscreen, a station (its cache, writer and room sync) and the wall windows of the config's
layout reading that cache, as `watchfloor wall` runs them. It prints one JSON line when its
cache has caught up with the room ({"ready": true}), one for each wall command its walls
read ({"command": ..., "args": ..., "by": ..., "at": epoch seconds}) and one for each scene a window shows
({"scene": "screen/scene"}). SIGTERM ends it.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from app.config import load_config
from app.layouts import load_layout
from app.room.station import Station
from app.store.writer import StoreWriter
from app.ui.launch import WallSet
from app.ui.tilebase import load_registry, option_models
from app.ui.walldata import WallHub
from app.wallcontrol import WallCommand


def say(**what: object) -> None:
    print(json.dumps(what, sort_keys=True), flush=True)


def main() -> int:
    config_path, db = sys.argv[1:3]
    app = QApplication([])
    config = load_config(Path(config_path))
    assert config.room is not None
    writer = StoreWriter(Path(db), config, maintenance=False).start()
    sync = Station(config.room, writer).start()
    registry = load_registry()
    loaded = load_layout(config.wall.layout, option_models(registry))
    hub = WallHub(Path(db), config)

    def heard(cmd: object) -> None:
        if isinstance(cmd, WallCommand):
            say(command=cmd.command, args=cmd.args, by=cmd.issued_by, at=time.time())

    hub.command.connect(heard)  # before the windows': a command is said before what it shows
    walls = WallSet(app, hub, loaded, registry, kiosk=False, admin_chord=config.wall.admin_chord,
                    on_quit=app.quit)  # fmt: skip
    walls.place()
    for window in walls.windows:
        window.scene_shown.connect(lambda key: say(scene=key))
    hub.start()
    told = False

    def look() -> None:
        nonlocal told
        if not told and sync.caught_up.is_set() and sync.status.connected:
            told = True
            say(ready=True)

    timer = QTimer()
    timer.timeout.connect(look)
    timer.start(50)  # also lets Python see SIGTERM between Qt's events
    signal.signal(signal.SIGTERM, lambda *_: app.quit())
    code = app.exec()
    walls.close()
    hub.close()
    sync.stop()
    writer.close()
    return code


if __name__ == "__main__":
    sys.exit(main())
