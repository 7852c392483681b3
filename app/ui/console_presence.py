"""Presence in the console: who is signed in across the room, and who else is on this item.

Thin: the sentences are :mod:`app.room.desk`'s; this part only puts them on screen. The
others on the selected item are shown above it (typing ones first), so an operator sees
a colleague answering before writing a second reply.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from app.room.desk import on_item, on_item_text, signed_in_text, viewers_by_item
from app.room.presence import Seen
from app.ui.console_parts import plain_label


class PresencePart:
    """The room's signed-in line (for the status bar) and the item's "also on this item" line."""

    def __init__(self, station: str) -> None:
        self.station = station
        self.signed_in: QLabel = plain_label("", role="muted", wrap=False)
        self.on_item: QLabel = plain_label("", role="presence")
        self.on_item.hide()
        self.seen: list[Seen] = []
        #: for each item someone else has open, their names (what a queue row shows)
        self.viewers: dict[str, str] = {}

    def show(self, seen: list[Seen], *, me: str | None, item: str | None) -> None:
        self.seen = seen
        self.signed_in.setText(signed_in_text(seen) if me is not None else "")
        text = on_item_text(on_item(seen, item, me=me, station=self.station))
        self.on_item.setText(text)
        self.on_item.setVisible(bool(text))
        self.viewers = viewers_by_item(seen, me=me, station=self.station)
