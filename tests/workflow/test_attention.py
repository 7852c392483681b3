"""The notification policy over weeks: nothing announced twice, and what it remembers is bounded."""

from __future__ import annotations

from app.workflow.attention import Attention
from app.workflow.queries import Alert, Urgent


def _urgent(i: int) -> Urgent:
    return Urgent(mention_id=f"demo:{i}", priority=1, author=f"@u{i}", text=f"post {i}")


def test_new_items_are_announced_once_and_what_is_remembered_stays_bounded() -> None:
    attention = Attention(remember=100)
    assert attention.notices([_urgent(0)], []) == []  # what waits at sign-in is on screen already
    announced = 0
    for i in range(1, 1001):  # weeks of urgent items, a few on screen at a time
        urgent = [_urgent(j) for j in range(max(1, i - 3), i + 1)]
        messages = attention.notices(urgent, [Alert(id=i, ts=float(i), text=f"spike {i}")])
        assert messages == [f"Spike: spike {i}", f"P1 from @u{i}: post {i}"], (i, messages)
        announced += 1
    assert announced == 1000
    assert len(attention._items_seen) <= 100 and len(attention._alerts_seen) <= 100
    # the ones still on screen are remembered: reading the queue again announces nothing
    assert attention.notices([_urgent(j) for j in range(997, 1001)], []) == []


def test_the_console_keeps_a_bounded_number_of_threads_read() -> None:
    import asyncio

    from app.ui.console_thread import KEEP_THREADS, ThreadReader

    read: list[str] = []

    async def fetch(mention_id: str) -> list:
        return []

    async def go() -> int:
        reader = ThreadReader(read.append)
        reader.fetcher = fetch
        for i in range(KEEP_THREADS + 300):  # an operator opening item after item for weeks
            reader.text(f"demo:{i}")
            await asyncio.sleep(0)  # let the read finish, as the event loop would
        while reader._tasks:
            await asyncio.sleep(0)
        return len(reader._got)

    assert asyncio.run(go()) <= KEEP_THREADS + 1
    assert len(read) == KEEP_THREADS + 300  # every read was still reported
