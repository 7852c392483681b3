"""The room's outbox keeps within each network's account limits, counted over the whole room:
a story answered in bulk goes out as fast as the network allows, whichever stations send."""

from __future__ import annotations

import time

from app.room.queue import RoomOutbox, RoomQueue, verify_audit
from app.workflow.pacing import Rate
from tests.room import procs
from tests.room.conftest import RoomDb
from tests.room.test_queue import app_conn, fill


def test_replies_in_bulk_go_out_within_the_networks_limit_across_stations(room_ready: RoomDb) -> None:
    fill(room_ready, 5, [("ana", "operator")])
    queue = RoomQueue()
    rates = {"demo": (Rate(3, 3600.0),)}  # three posts an hour, for this test's network
    a, b = RoomOutbox("hub-a", reply_rates=rates), RoomOutbox("hub-b", reply_rates=rates)
    with app_conn(room_ready) as conn, app_conn(room_ready) as other:
        for n in range(5):
            queue.claim(conn, "ana", f"demo:q-{n}")
            queue.reply(conn, "ana", f"demo:q-{n}", f"Sorry {n}", template="sorry")
        first = a.take_due(conn, limit=20)
        assert len(first) == 3  # the network's window is full
        assert b.take_due(other, limit=20) == []  # another station counts the same window
        for send in first:
            assert a.mark_sent(conn, send.reply_id, f"n-{send.reply_id}")
        assert a.take_due(conn) == [] and b.take_due(other) == []  # sent within the hour
        states = dict(conn.execute("SELECT state, count(*) FROM replies GROUP BY state").fetchall())
        assert states == {"sent": 3, "approved": 2}
    with procs.owner(room_ready) as owner:  # an hour and more later
        owner.execute("UPDATE replies SET sent_ts = %s WHERE state = 'sent'", (time.time() - 3700,))
    with app_conn(room_ready) as conn:
        rest = b.take_due(conn)
        assert sorted(s.reply_id for s in rest) == sorted(
            r for (r,) in conn.execute("SELECT id FROM replies WHERE state = 'sending'"))  # fmt: skip
        assert len(rest) == 2
        assert verify_audit(conn)[1] is None
