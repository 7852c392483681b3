"""Where the shipped data folders (layouts, config, assets) are, however we were installed.

One place answers this so nothing guesses paths relative to the current directory:
a wheel carries them under ``app/_data``, a source checkout has them beside ``app/``,
and a PyInstaller bundle unpacks them next to the executable.
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path
from typing import Literal

DataDir = Literal["layouts", "config", "assets"]

_APP = Path(__file__).resolve().parent


@cache
def data_dir(name: DataDir) -> Path:
    """Return the folder holding the shipped ``name`` data."""
    candidates = [_APP / "_data" / name, _APP.parent / name]
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidates.insert(0, Path(bundle) / name)
    for path in candidates:
        if path.is_dir():
            return path
    raise FileNotFoundError(f"shipped data folder {name!r} not found (looked in {candidates})")


def layout_path(name: str) -> Path:
    """A shipped layout by name (``demo`` → ``layouts/demo.toml``)."""
    return data_dir("layouts") / f"{name}.toml"


def demo_config_path() -> Path:
    return data_dir("config") / "demo.toml"


def templates_path() -> Path:
    return data_dir("config") / "templates.toml"


def asset_path(*parts: str) -> Path:
    return data_dir("assets").joinpath(*parts)
