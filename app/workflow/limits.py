"""Whether an item can be answered, and how long a reply is, counted by its source.

One count for the console's counter, the workflow's check and the outbox's send: each
asks the source that fetched the post (Mastodon counts a link as 23 characters and the
``@author`` it puts in front; Bluesky counts graphemes; a feed takes no replies at all).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import grapheme

from app.sources.base import Source, SourceContext
from app.sources.registry import build_source


def build_reply_sources(configs: Iterable[Any]) -> dict[str, Source]:
    """The configured sources by name, built only to count and to say what they accept
    (nothing is fetched and no secret is read)."""
    out: dict[str, Source] = {}
    for config in configs:
        try:
            out[config.name] = build_source(config, SourceContext())
        except (ValueError, TypeError):
            continue
    return out


def can_reply(source: Source) -> bool:
    """A source that posts replies overrides :meth:`Source.reply` (a feed does not)."""
    return type(source).reply is not Source.reply


def reply_length(source: Source, reply_ref: Mapping[str, Any], text: str) -> int:
    """The reply's length as its network counts it, for the text as it will be posted."""
    from app.sources.mastodon import MastodonSource, count_chars

    text = text.strip()
    if isinstance(source, MastodonSource):
        return count_chars(source.compose(dict(reply_ref), text))
    if source.type == "bluesky":
        return int(grapheme.length(text))
    return len(text)


@dataclass(frozen=True, slots=True)
class ReplyRoom:
    """What the console shows under the reply box, and what the workflow refuses."""

    #: False: this item cannot be answered from here, and ``why`` says so
    possible: bool
    limit: int | None = None
    length: int = 0
    why: str = ""

    @property
    def too_long(self) -> bool:
        return self.limit is not None and self.length > self.limit

    def problem(self) -> str | None:
        if not self.possible:
            return self.why
        if self.too_long:
            return f"the reply is {self.length} characters; this network allows {self.limit}"
        return None


def reply_room(sources: Mapping[str, Source], source_name: str, network: str,
               reply_ref: Mapping[str, Any], text: str) -> ReplyRoom:  # fmt: skip
    source = sources.get(source_name)
    if source is None:
        return ReplyRoom(False, why=f"the source {source_name!r} is not configured here, so this"
                                   " item cannot be answered from this console")  # fmt: skip
    if not can_reply(source):
        return ReplyRoom(False, why=f"{network or source.type} items cannot be answered from here:"
                                   " the network takes no replies (dismiss the item, or answer"
                                   " where it was published)")  # fmt: skip
    return ReplyRoom(True, source.reply_limit(), reply_length(source, reply_ref, text))
