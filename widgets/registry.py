"""The built-in wall tiles by stable id (the ``watchfloor.tiles`` entry point points here).

Layouts refer to these ids; each tile's options schema stands beside it in its module.
"""

from __future__ import annotations

from app.ui.tilebase import TileSpec
from widgets import (
    alerts,
    feed,
    kpi,
    queue,
    sentiment,
    share_of_voice,
    sources,
    spotlight,
    stories,
    trending,
    volume,
)

REGISTRY: dict[str, TileSpec] = {
    spec.id: spec
    for spec in (
        volume.SPEC, sentiment.SPEC, share_of_voice.SPEC, feed.SPEC, queue.SPEC, trending.SPEC,
        kpi.SPEC, alerts.SPEC, sources.SPEC, spotlight.SPEC, stories.SPEC,
    )
}  # fmt: skip
