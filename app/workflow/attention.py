"""When the console calls for attention: the notification policy, without a window.

A desktop notice (and a sound) for new unclaimed items of the priorities that notify and
for new spike alerts; what was waiting at sign-in is on screen already and is not
announced, and nothing is announced twice.
"""

from __future__ import annotations

import html
import sys
from collections import OrderedDict
from collections.abc import Iterable, Mapping

from app.workflow.queries import Alert, Urgent

#: how many items and alerts a console remembers having announced: a console runs for weeks,
#: so the oldest are forgotten (by then they are long answered)
REMEMBER = 5000


class Recent(OrderedDict[str | int, None]):
    """A set that keeps only the ``cap`` most recently seen keys."""

    def __init__(self, cap: int = REMEMBER) -> None:
        super().__init__()
        self.cap = cap

    def see(self, keys: Iterable[str | int]) -> None:
        for key in keys:
            self[key] = None
            self.move_to_end(key)
        while len(self) > self.cap:
            self.popitem(last=False)


def bounded(cache: Mapping[str, object], cap: int) -> list[str]:
    """Keys to drop from an insertion-ordered cache so it keeps at most ``cap`` entries."""
    return list(cache)[: max(0, len(cache) - cap)]


def tray_text(text: str) -> str:
    """A desktop notification's body, shown literally: on Linux the notification server
    reads the body as markup (``<b>``, ``<a>``, ``<img>``), so a post's markup is escaped there;
    elsewhere the body is plain text already."""
    return html.escape(text, quote=False) if sys.platform.startswith("linux") else text


class Attention:
    def __init__(self, remember: int = REMEMBER) -> None:
        self._items_seen = Recent(remember)
        self._alerts_seen = Recent(remember)
        self._first = True

    def notices(self, urgent: list[Urgent], alerts: list[Alert]) -> list[str]:
        """The messages to announce for this read of the queue (oldest news first)."""
        first, self._first = self._first, False
        fresh = [u for u in urgent if u.mention_id not in self._items_seen]
        self._items_seen.see(u.mention_id for u in urgent)
        new_alerts = [a for a in alerts if a.id not in self._alerts_seen]
        self._alerts_seen.see(a.id for a in alerts)
        if first:
            return []
        messages = [f"Spike: {a.text}" for a in new_alerts]
        if fresh:
            u = fresh[0]
            more = f" (+{len(fresh) - 1} more)" if len(fresh) > 1 else ""
            messages.append(f"P{u.priority} from {u.author}: {' '.join(u.text.split())[:120]}{more}")
        return messages
