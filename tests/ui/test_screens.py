"""A wall window on every virtual screen (Qt's offscreen platform with one, two, three screens).

Each case runs in its own process: the screens are fixed when Qt starts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import json, sys
from pathlib import Path
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
app = QApplication([])
from app.config import load_config
from app.layouts import load_layout
from app.resources import demo_config_path
from app.ui.launch import WallSet, apply_theme
from app.ui.tilebase import load_registry
from app.ui.walldata import WallHub
config = load_config(demo_config_path())
apply_theme(app, "dark")
hub = WallHub(Path(sys.argv[1]), config)
walls = WallSet(app, hub, load_layout(sys.argv[2]), load_registry(), kiosk=sys.argv[3] == "kiosk",
                admin_chord="Ctrl+Alt+Shift+Q", on_quit=lambda: None)
walls.place()
for _ in range(5):
    app.processEvents()
print(json.dumps([{
    "screen": w.screen().name(),
    "geometry": [w.geometry().x(), w.geometry().y(), w.geometry().width(), w.geometry().height()],
    "scenes": [r.key for r in w.rotation],
    "crisis": w.crisis_ref.key if w.crisis_ref else None,
    "frameless": bool(w.windowFlags() & Qt.WindowType.FramelessWindowHint),
    "fullscreen": w.isFullScreen(),
} for w in walls.windows]))
walls.close()
hub.close()
"""


def run_probe(tmp_path: Path, screens: int, layout: str, kiosk: bool = False) -> list[dict[str, object]]:
    spec = {"screens": [
        {"name": f"wall-{i}", "x": 1920 * i, "y": 0, "width": 1920, "height": 1080,
         "logicalDpiX": 96, "logicalDpiY": 96, "dpr": 1}
        for i in range(screens)
    ]}  # fmt: skip
    config = tmp_path / "screens.json"
    config.write_text(json.dumps(spec))
    env = {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={config}"}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path / "w.db"), layout, "kiosk" if kiosk else "window"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.mark.parametrize("screens", [1, 2, 3])
def test_a_wall_window_per_screen_at_its_geometry(tmp_path: Path, screens: int) -> None:
    windows = run_probe(tmp_path, screens, "wall-3")
    assert len(windows) == screens
    for i, w in enumerate(sorted(windows, key=lambda w: w["geometry"][0])):  # type: ignore[index]
        assert w["screen"] == f"wall-{i}"
        x, y, width, height = w["geometry"]  # type: ignore[misc]
        # a windowed wall may sit inside a frame; it is on its own screen, at its size
        assert 1920 * i <= x < 1920 * i + 16 and 0 <= y < 16 and (width, height) == (1920, 1080)
    # nothing is dropped: every rotating scene of the layout is on some screen
    scenes = sorted(s for w in windows for s in w["scenes"])  # type: ignore[attr-defined]
    assert scenes == sorted([
        "overview/overview", "overview/conversation", "competitors/competitors",
        "competitors/industry", "response/response",
    ])  # fmt: skip
    assert windows[0]["crisis"] == "overview/crisis"


def test_kiosk_windows_are_frameless_and_full_screen(tmp_path: Path) -> None:
    windows = run_probe(tmp_path, 2, "demo", kiosk=True)
    assert len(windows) == 2
    assert all(w["frameless"] and w["fullscreen"] for w in windows)
    assert sorted(w["geometry"] for w in windows) == [[0, 0, 1920, 1080], [1920, 0, 1920, 1080]]  # type: ignore[type-var]
