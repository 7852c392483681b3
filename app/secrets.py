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
from collections import deque
from collections.abc import Iterable

log = logging.getLogger(__name__)

KEYRING_SERVICE = "watchfloor"
MASK = "[secret]"
#: shorter values are not masked by value (they would blank ordinary words); shapes still are
MIN_MASKED = 6

_known: set[str] = set()
#: session tokens come and go (a refresh every few hours): only the latest are kept, so a
#: process that runs for months neither grows nor slows down
SESSION_TOKENS_KEPT = 16
_sessions: deque[str] = deque(maxlen=SESSION_TOKENS_KEPT)
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


def remember(value: str | None, *, session: bool = False) -> None:
    """Mask ``value`` from now on wherever :func:`mask` runs in this process.

    ``session`` marks a short-lived token (a login session's): the latest few are kept.
    """
    if not value or len(value) < MIN_MASKED:
        return
    with _known_lock:
        if not session:
            _known.add(value)
        elif value not in _sessions:
            _sessions.append(value)


def _auth_sub(match: re.Match[str]) -> str:
    scheme = f"{match.group(2)} " if match.group(2) else ""
    return f"{match.group(1)}{scheme}{MASK}"


def mask(text: str, extra: Iterable[str] = ()) -> str:
    """``text`` with every known secret and every credential-shaped token replaced by ``[secret]``."""
    if not text:
        return text
    with _known_lock:
        values = _known | set(_sessions)
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
