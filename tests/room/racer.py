"""A station racing for work: `python -m tests.room.racer URL USER ATTEMPTS` claims next until done.

It waits on a shared advisory lock the test holds, so every racer starts at once, then
prints one JSON line: the ids it claimed.
"""

from __future__ import annotations

import json
import os
import sys
import time

import psycopg

from app.room.queue import RoomQueue

START_LOCK = 0x7261_6365  # "race"


def main() -> None:
    url, user, attempts = sys.argv[1], sys.argv[2], int(sys.argv[3])
    conn = psycopg.connect(url, password=os.environ["WATCHFLOOR_TEST_ROOM_PASSWORD"],
                           autocommit=True, options="-c search_path=watchfloor")  # fmt: skip
    conn.execute("SELECT pg_advisory_lock_shared(%s)", (START_LOCK,))
    queue = RoomQueue()
    claimed = []
    started = time.time()
    for _ in range(attempts):
        item = queue.claim_next(conn, user)
        if item is None:
            break
        claimed.append(item.mention_id)
    print(json.dumps({"user": user, "claimed": claimed, "started": started, "ended": time.time()}))


if __name__ == "__main__":
    main()
