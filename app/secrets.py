"""Secrets (API tokens, app passwords) by name: the environment first, then the OS keyring.

The config names a secret (``token_env = "WATCHFLOOR_MASTODON_TOKEN"``), never holds it.
An environment variable suits services and CI; the keyring (service ``watchfloor``, the
same name as user) suits a desktop where IT stored the token once. The value is never
logged: only whether it was found, and where.

Every value found (and every session token a source obtains) is remembered in this
process, so :func:`mask` can blank it out of any text that is stored, shown or printed —
a server that echoes the token in an error body must not put it in the database, on the
wall or in ``doctor``'s output. :func:`mask` also blanks the shapes a credential takes in
a header dump (``Authorization: …``, ``Bearer …``, a JWT) when the value is not known.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterable

log = logging.getLogger(__name__)

KEYRING_SERVICE = "watchfloor"
MASK = "[secret]"
#: shorter values are not masked by value (they would blank ordinary words); shapes still are
MIN_MASKED = 6

_known: set[str] = set()
_known_lock = threading.Lock()

_VALUE = r"[A-Za-z0-9._~+/=:-]{6,}"
_SHAPES: tuple[tuple[re.Pattern[str], str], ...] = (
    # "Authorization: Bearer abc", "authorization=abc", "'Authorization': 'Basic abc'"
    (re.compile(r"(?i)(\b(?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?)"
                r"(?:(bearer|basic|token|dpop)\s+)?[^\s\"',;}\]]+"), "auth"),
    (re.compile(r"(?i)\b(bearer)(\s+)" + _VALUE), r"\1\2" + MASK),
    # JSON or form fields that carry credentials
    (re.compile(r"(?i)([\"']?\b(?:access_?token|refresh_?token|access_?jwt|refresh_?jwt|"
                r"password|client_secret|api_?key)[\"']?\s*[:=]\s*[\"']?)[^\s\"'&,;}]+"),
     r"\1" + MASK),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), MASK),  # a JWT
)


def remember(value: str | None) -> None:
    """Mask ``value`` from now on wherever :func:`mask` runs in this process."""
    if value and len(value) >= MIN_MASKED:
        with _known_lock:
            _known.add(value)


def _auth_sub(match: re.Match[str]) -> str:
    scheme = f"{match.group(2)} " if match.group(2) else ""
    return f"{match.group(1)}{scheme}{MASK}"


def mask(text: str, extra: Iterable[str] = ()) -> str:
    """``text`` with every known secret and every credential-shaped token replaced by ``[secret]``."""
    if not text:
        return text
    with _known_lock:
        values = set(_known)
    values.update(v for v in extra if v and len(v) >= MIN_MASKED)
    for value in sorted(values, key=len, reverse=True):  # longest first: no half-masked value
        if value in text:
            text = text.replace(value, MASK)
    for pattern, replacement in _SHAPES:
        if replacement == "auth":
            text = pattern.sub(_auth_sub, text)
        else:
            text = pattern.sub(replacement, text)
    return text


def get_secret(name: str) -> str | None:
    """The secret called ``name``, or ``None`` if neither the environment nor the keyring has it.

    This may block (a locked keyring waits for its unlock prompt): call it off the GUI
    thread, once — :class:`app.sources.base.Source` resolves its secrets that way.
    """
    value = os.environ.get(name)
    if value:
        remember(value)
        return value
    try:
        import keyring

        stored = keyring.get_password(KEYRING_SERVICE, name)
    except Exception as exc:  # no backend, locked keyring, D-Bus absent: all mean "not found"
        log.debug("keyring lookup of %s failed: %s", name, type(exc).__name__)
        return None
    if stored:
        log.debug("secret %s read from the keyring", name)
        remember(str(stored))
        return str(stored)
    return None


def set_secret(name: str, value: str) -> None:
    """Store a secret in the OS keyring (for an installer or ``doctor`` helper)."""
    import keyring

    keyring.set_password(KEYRING_SERVICE, name, value)
