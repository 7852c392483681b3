"""When the console calls for attention: the notification policy, without a window.

A desktop notice (and a sound) for new unclaimed items of the priorities that notify and
for new spike alerts; what was waiting at sign-in is on screen already and is not
announced, and nothing is announced twice.
"""

from __future__ import annotations

import html
import sys

from app.workflow.queries import Alert, Urgent


def tray_text(text: str) -> str:
    """A desktop notification's body, shown literally: on Linux the notification server
    reads the body as markup (``<b>``, ``<a>``, ``<img>``), so a post's markup is escaped there;
    elsewhere the body is plain text already."""
    return html.escape(text, quote=False) if sys.platform.startswith("linux") else text


class Attention:
    def __init__(self) -> None:
        self._items_seen: set[str] = set()
        self._alerts_seen: set[int] | None = None

    def notices(self, urgent: list[Urgent], alerts: list[Alert]) -> list[str]:
        """The messages to announce for this read of the queue (oldest news first)."""
        first = self._alerts_seen is None
        fresh = [u for u in urgent if u.mention_id not in self._items_seen]
        self._items_seen.update(u.mention_id for u in urgent)
        seen = self._alerts_seen or set()
        new_alerts = [a for a in alerts if a.id not in seen]
        self._alerts_seen = seen | {a.id for a in alerts}
        if first:
            return []
        messages = [f"Spike: {a.text}" for a in new_alerts]
        if fresh:
            u = fresh[0]
            more = f" (+{len(fresh) - 1} more)" if len(fresh) > 1 else ""
            messages.append(f"P{u.priority} from {u.author}: {' '.join(u.text.split())[:120]}{more}")
        return messages
