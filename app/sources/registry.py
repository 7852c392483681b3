"""Source types by name → their classes, imported only when a config uses them."""

from __future__ import annotations

import importlib
from typing import Any

from app.sources.base import Source, SourceContext

_TYPES = {
    "demo": "app.sources.demo:DemoSource",
    "mastodon": "app.sources.mastodon:MastodonSource",
    "bluesky": "app.sources.bluesky:BlueskySource",
    "rss": "app.sources.rss:RssSource",
}


def source_class(source_type: str) -> type[Source]:
    try:
        module, _, name = _TYPES[source_type].partition(":")
    except KeyError:
        raise ValueError(f"unknown source type {source_type!r}") from None
    cls: type[Source] = getattr(importlib.import_module(module), name)
    return cls


def build_source(config: Any, context: SourceContext) -> Source:
    return source_class(config.type)(config, context)
