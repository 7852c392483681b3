"""Secrets (API tokens, app passwords) by name: the environment first, then the OS keyring.

The config names a secret (``token_env = "WATCHFLOOR_MASTODON_TOKEN"``), never holds it.
An environment variable suits services and CI; the keyring (service ``watchfloor``, the
same name as user) suits a desktop where IT stored the token once. The value is never
logged: only whether it was found, and where.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)

KEYRING_SERVICE = "watchfloor"


def get_secret(name: str) -> str | None:
    """The secret called ``name``, or ``None`` if neither the environment nor the keyring has it."""
    value = os.environ.get(name)
    if value:
        return value
    try:
        import keyring

        stored = keyring.get_password(KEYRING_SERVICE, name)
    except Exception as exc:  # no backend, locked keyring, D-Bus absent: all mean "not found"
        log.debug("keyring lookup of %s failed: %s", name, type(exc).__name__)
        return None
    if stored:
        log.debug("secret %s read from the keyring", name)
        return str(stored)
    return None


def set_secret(name: str, value: str) -> None:
    """Store a secret in the OS keyring (for an installer or ``doctor`` helper)."""
    import keyring

    keyring.set_password(KEYRING_SERVICE, name, value)
