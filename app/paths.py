"""Per-user locations (platformdirs) and the lookup order of config and database.

Config: ``--config``, then ``$WATCHFLOOR_CONFIG``, then the user config dir, then the
system-wide ``/etc/watchfloor`` (``%ProgramData%\\watchfloor`` on Windows), then the built-in demo config.
Database: ``--db``, then ``$WATCHFLOOR_DB``, then the user data dir.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

from app.resources import demo_config_path

APP_NAME = "watchfloor"
SYSTEM_CONFIG = Path("/etc/watchfloor/config.toml")


def system_config_file() -> Path:
    """The machine-wide config IT installs: /etc/watchfloor, or %ProgramData% on Windows."""
    if sys.platform == "win32":
        return Path(platformdirs.site_config_dir(APP_NAME, appauthor=False)) / "config.toml"
    return SYSTEM_CONFIG


def user_config_file() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def user_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME))


def user_log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_NAME))


def resolve_config(explicit: str | os.PathLike[str] | None) -> Path:
    """The config file to load, following the documented lookup order."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("WATCHFLOOR_CONFIG")
    if env:
        return Path(env)
    for candidate in (user_config_file(), system_config_file()):
        if candidate.is_file():
            return candidate
    return demo_config_path()


def resolve_db(explicit: str | os.PathLike[str] | None) -> Path:
    """The database file to open, following the documented lookup order."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("WATCHFLOOR_DB")
    if env:
        return Path(env)
    return user_data_dir() / "watchfloor.db"
