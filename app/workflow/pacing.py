"""How fast the outbox may post to each network: the account limits the networks publish,
kept under, counted from the replies stored (so a restart or a second sender counts too).

A story answered in bulk can queue hundreds of replies at once; the outbox takes only as
many as the network's window has room for and leaves the rest approved, due as the
window moves on. A server that still says "slow down" is honoured by its ``Retry-After``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rate:
    """At most ``count`` posts in any ``per_s`` seconds."""

    count: int
    per_s: float


#: what each network allows one account to post
REPLY_RATES: Mapping[str, tuple[Rate, ...]] = {
    # Mastodon's default: 300 statuses per 3 hours per account
    "mastodon": (Rate(300, 3 * 3600.0),),
    # Bluesky's PDS: 5,000 points an hour and 35,000 a day, a created record costs 3
    "bluesky": (Rate(1666, 3600.0), Rate(11_666, 86_400.0)),
}


def room(conn: sqlite3.Connection, source: str, rates: Sequence[Rate], now: float) -> int | None:
    """How many more replies ``source`` may send now (None: no limit is known)."""
    if not rates:
        return None
    (sending,) = conn.execute(
        "SELECT count(*) FROM replies r JOIN mentions m ON m.id = r.mention_id"
        " WHERE m.source = ? AND r.state = 'sending'", (source,)).fetchone()  # fmt: skip
    left = []
    for rate in rates:
        (sent,) = conn.execute(
            "SELECT count(*) FROM replies r JOIN mentions m ON m.id = r.mention_id"
            " WHERE m.source = ? AND r.sent_ts > ?", (source, now - rate.per_s)).fetchone()  # fmt: skip
        left.append(rate.count - int(sent))
    return max(0, min(left) - int(sending))
