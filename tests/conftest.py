"""Shared fixtures. Qt runs offscreen; every test gets its own database file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_QUICK_BACKEND", "software")
# never read the developer's own config or database by accident
os.environ.pop("WATCHFLOOR_CONFIG", None)
os.environ.pop("WATCHFLOOR_DB", None)

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "watchfloor.db"


@pytest.fixture
def demo_config():  # type: ignore[no-untyped-def]
    from app.config import load_config
    from app.resources import demo_config_path

    return load_config(demo_config_path())
