"""``watchfloor snapshot``: every screen of a layout rendered offscreen to PNG.

Each layout screen is drawn at its own resolution, as the wall shows it now (its crisis
scene while a crisis stands), or the scene named with ``--scene``. No display is
needed: Qt's offscreen platform renders exactly what a monitor would show.
"""

from __future__ import annotations

import os
from pathlib import Path

from app.config import Config
from app.layouts import LayoutError, check_tiles, load_layout


def render_snapshot(
    config: Config, db_path: Path, out: Path, *, layout: str | None = None, scene: str | None = None
) -> list[Path]:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        app = QApplication([])
    assert isinstance(app, QApplication)

    from app.ui.launch import apply_theme
    from app.ui.tilebase import load_registry, option_models
    from app.ui.wall import WallWindow
    from app.ui.walldata import WallHub

    registry = load_registry()  # first: a layout's shape and its tiles are checked at once
    loaded = load_layout(layout or config.wall.layout, option_models(registry))
    problems = check_tiles(loaded, option_models(registry))
    if problems:
        raise LayoutError(loaded.path, problems)
    screens = loaded.layout.screens
    if scene is not None:
        screens = [s for s in screens if s.scene(scene)]
        if not screens:
            raise LayoutError(loaded.path, [f"no screen has a scene named {scene!r}"])
    apply_theme(app, config.wall.theme)
    out.mkdir(parents=True, exist_ok=True)
    hub = WallHub(db_path, config)
    hub.read_control()
    hub.read_health()  # a picture of old data says so, as the wall would
    colours: dict[str, str] = {}
    written = []
    try:
        for screen in screens:
            window = WallWindow((screen,), hub, registry, colours=colours)
            try:
                window.show()
                window.start()
                if scene is not None:
                    ref = window.scene_by_name(scene)
                    assert ref is not None
                    window.show_scene(ref)
                app.processEvents()
                hub.refresh_all_visible()
                app.processEvents()
                path = out / f"{screen.name}.png"
                if not window.grab().save(str(path), "PNG"):
                    raise OSError(f"could not write {path}")
                written.append(path)
            finally:
                window.shutdown()
                window.deleteLater()
                app.processEvents()
    finally:
        hub.close()
    return written
