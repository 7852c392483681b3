"""A station's outbox: `python -m tests.room.sender URL STATION [--crash]` sends until none is due.

It starts when the test releases the shared advisory lock, "posts" each reply by
printing it (the network's side of a send), and marks it sent; with ``--crash`` it takes
replies and exits without a word, as a station that lost power mid-send.
"""

from __future__ import annotations

import json
import os
import sys

import psycopg

from app.room.queue import RoomOutbox
from tests.room.racer import START_LOCK


def main() -> None:
    url, station = sys.argv[1], sys.argv[2]
    crash = "--crash" in sys.argv
    conn = psycopg.connect(url, password=os.environ["WATCHFLOOR_TEST_ROOM_PASSWORD"],
                           autocommit=True, options="-c search_path=watchfloor")  # fmt: skip
    outbox = RoomOutbox(station, lease_s=6.0 if crash else 120.0)
    if not crash:
        conn.execute("SELECT pg_advisory_lock_shared(%s)", (START_LOCK,))
    posted = []
    while due := outbox.take_due(conn, limit=5):
        if crash:
            os._exit(0)  # leased, never sent: the lease runs out
        for send in due:
            posted.append({"reply": send.reply_id, "key": send.idempotency_key,
                           "attempt": send.attempt})  # fmt: skip
            assert outbox.mark_sent(conn, send.reply_id, f"{station}:{send.reply_id}")
    print(json.dumps({"station": station, "posted": posted}))


if __name__ == "__main__":
    main()
