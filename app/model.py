"""The one shape every network's items take once normalised, plus the analysis attached to it.

Sources build :class:`Mention` objects with plain text only; nothing network-shaped
passes this point. Analysis fills the trailing fields before the store writes it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


class Priority(enum.IntEnum):
    """Queue priority; lower is more urgent (P1 first)."""

    URGENT = 1
    HIGH = 2
    NORMAL = 3
    LOW = 4


@dataclass(slots=True)
class Mention:
    """A post, reply, notification or feed entry, normalised to plain text.

    ``reply_ref`` holds what the network needs to answer in the right thread (a status
    id, a Bluesky root/parent uri+cid); it never reaches a tile.
    """

    network: str
    native_id: str
    source: str
    text: str
    created_at: datetime
    url: str = ""
    author: str = ""
    author_name: str = ""
    author_followers: int | None = None
    engagement: int = 0
    lang: str | None = None
    title: str = ""
    content_warning: str = ""
    sensitive: bool = False
    directed_at_us: bool = False
    in_reply_to: str | None = None
    reply_ref: dict[str, Any] | None = None
    #: a direct message or followers-only post: work for the console, never content for a wall
    private: bool = False
    # filled by analysis
    #: the language detected from the text (ISO 639-1), not the one the network declares
    language: str | None = None
    #: negative | neutral | positive, the class every view shows; ``unscored`` when the scorer
    #: cannot read the text (a language it does not know): never silently neutral
    sentiment_label: str = "neutral"
    #: the text's full length in characters when ``text`` was cut to the stored maximum
    text_length: int | None = None
    sentiment: float = 0.0
    topics: list[str] = field(default_factory=list)
    needs_response: bool = False
    priority: int = Priority.LOW
    reasons: list[str] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.network}:{self.native_id}"

    @property
    def ts(self) -> float:
        """Creation time as UTC epoch seconds (what the store indexes)."""
        return self.created_at.timestamp()


def utc_from_ts(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def iso_utc(ts: float) -> str:
    """ISO 8601 in UTC with a ``Z`` suffix, as the export contract wants."""
    return utc_from_ts(ts).isoformat(timespec="seconds").replace("+00:00", "Z")


#: the label of a post the scorer cannot read
UNSCORED = "unscored"


def sentiment_label(compound: float) -> str:
    """VADER's customary cut-offs: ≥ 0.05 positive, ≤ −0.05 negative."""
    if compound >= 0.05:
        return "positive"
    if compound <= -0.05:
        return "negative"
    return "neutral"
