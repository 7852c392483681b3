"""How long a reply may be on each network, counted the way that network counts."""

from __future__ import annotations

import grapheme

#: Bluesky counts graphemes (300); Mastodon characters (500 unless the server says more)
LIMITS: dict[str, int] = {"bluesky": 300, "mastodon": 500, "demo": 500}


def reply_length(network: str, text: str) -> int:
    text = text.strip()
    return int(grapheme.length(text)) if network == "bluesky" else len(text)


def reply_limit(network: str) -> int | None:
    """None: this network takes no replies from us (a feed)."""
    return LIMITS.get(network)
