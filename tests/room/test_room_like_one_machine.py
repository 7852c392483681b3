"""Where the room's queue must do what one machine does: a dismissed item's reply is withdrawn
(and never stops the outbox), free text in a crisis waits for a spokesperson, an escalation
declares or joins the crisis, a server's Retry-After is kept, and a retried reply is looked
for before it is posted again."""

from __future__ import annotations

import time

import pytest

from app.room.alerts import RoomAlerts
from app.room.queue import RoomOutbox, RoomQueue, verify_audit
from app.workflow.states import WorkflowError
from tests.room.conftest import RoomDb
from tests.room.test_queue import app_conn, fill

USERS = [("ana", "operator"), ("ben", "approver"), ("sam", "approver")]


def test_a_dismissed_item_withdraws_its_reply_and_the_outbox_goes_on(room_ready: RoomDb) -> None:
    fill(room_ready, 2, USERS)
    queue, outbox = RoomQueue(), RoomOutbox("hub")
    with app_conn(room_ready) as conn:
        for n in range(2):
            queue.claim(conn, "ana", f"demo:q-{n}")
            queue.approve(conn, "ben", queue.submit(conn, "ana", f"demo:q-{n}", f"On it {n}."))
        queue.dismiss(conn, "ben", "demo:q-0", "answered by phone")
        due = outbox.take_due(conn)  # the dismissed item neither stops the round nor is posted
        assert [d.mention_id for d in due] == ["demo:q-1"]
        states = dict(conn.execute("SELECT mention_id, state FROM replies").fetchall())
        assert states == {"demo:q-0": "withdrawn", "demo:q-1": "sending"}
        assert queue.item(conn, "demo:q-0").state == "dismissed"
        assert verify_audit(conn)[1] is None


def test_free_text_during_a_crisis_needs_a_spokesperson(room_ready: RoomDb) -> None:
    fill(room_ready, 1, USERS)
    queue = RoomQueue()
    with app_conn(room_ready) as conn:
        conn.execute("UPDATE users SET send_unapproved = true WHERE name = 'ana'")
        queue.claim(conn, "ana", "demo:q-0")
        RoomAlerts().declare(conn, "ben", None, "payments down everywhere")
        with pytest.raises(WorkflowError, match="needs a spokesperson's sign-off"):
            queue.reply(conn, "ana", "demo:q-0", "All fine, just restart it.")
        assert conn.execute("SELECT count(*) FROM replies").fetchone() == (0,)
        assert queue.item(conn, "demo:q-0").state == "claimed"


def test_an_escalation_declares_the_crisis_or_joins_the_open_one(room_ready: RoomDb) -> None:
    fill(room_ready, 2, USERS)
    queue = RoomQueue()
    with app_conn(room_ready) as conn:
        for n in range(2):
            queue.claim(conn, "ana", f"demo:q-{n}")
        first = queue.escalate(conn, "ana", "demo:q-0", "a burn injury")  # an operator may
        assert queue.escalate(conn, "ana", "demo:q-1", "another burn") == first
        crises = conn.execute("SELECT id, reason, declared_by, ended_ts FROM crises").fetchall()
        assert crises == [(first, "escalated: a burn injury", "ana", None)]
        held = conn.execute("SELECT mention_id, state, crisis_id FROM queue ORDER BY 1").fetchall()
        assert held == [("demo:q-0", "escalated", first), ("demo:q-1", "escalated", first)]
        assert verify_audit(conn)[1] is None


def test_retry_after_is_kept_and_a_retried_reply_is_looked_for_first(room_ready: RoomDb) -> None:
    fill(room_ready, 1, USERS)
    queue, outbox = RoomQueue(), RoomOutbox("hub", max_attempts=1)
    with app_conn(room_ready) as conn:
        queue.claim(conn, "ana", "demo:q-0")
        queue.approve(conn, "ben", queue.submit(conn, "ana", "demo:q-0", "On it."))
        (send,) = outbox.take_due(conn)
        assert send.attempt == 1
        RoomOutbox("hub", max_attempts=5).mark_failed(conn, send.reply_id, "429", retryable=True,
                                                      retry_after=900.0)  # fmt: skip
        (due_at,) = conn.execute("SELECT next_attempt_ts FROM replies").fetchone()
        assert due_at >= time.time() + 890  # not the 30 s backoff: the server said 15 minutes
        conn.execute("UPDATE replies SET next_attempt_ts = 0")
        (send,) = outbox.take_due(conn)
        assert not outbox.mark_failed(conn, send.reply_id, "timed out", retryable=True)  # gave up
        queue.retry(conn, "ana", "demo:q-0")
        (again,) = outbox.take_due(conn)
        assert again.attempt > 1  # so the sender first looks for a reply already posted
