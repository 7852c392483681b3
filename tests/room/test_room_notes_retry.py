"""Notes and retries through the room: a console's note shows in another station's cache, a
failed reply goes out again through the room's outbox under its own key, audited in the room."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.room.desk import RoomDesk
from app.room.queue import RoomOutbox, RoomQueue, verify_audit
from app.workflow.desk import NotReady
from app.workflow.service import QueueWorkflow
from app.workflow.states import WorkflowError
from tests.room import procs
from tests.room.conftest import RoomDb, wait_until
from tests.room.test_queue import app_conn, fill
from tests.room.test_room_alerts import local_rows


def cache_notes(cache: Path, mention_id: str) -> list[tuple[str, str]]:
    if not cache.exists():
        return []
    try:
        return [(str(a), str(t)) for a, t in local_rows(
            cache, f"SELECT author, text FROM notes WHERE mention_id = '{mention_id}' ORDER BY ts")]  # fmt: skip
    except Exception:  # the schema is not there yet
        return []


def test_a_note_written_on_one_console_reaches_another_stations_cache_audited(
    room_ready: RoomDb, tmp_path: Path, room_env: dict[str, str]
) -> None:
    fill(room_ready, 2, [("ana", "operator"), ("vic", "viewer")])
    cache = tmp_path / "desk-b.db"
    station = procs.station(room_ready, tmp_path, "desk-b", room_env)
    try:
        desk = RoomDesk(QueueWorkflow(), RoomQueue())
        desk.user, desk.item = "ana", "demo:q-0"
        job = desk.add_note("  called the customer back, waiting on the shop  ")
        assert job.room  # today's desk refuses it as not shared
        with pytest.raises(NotReady):
            desk.add_note("   ")
        with app_conn(room_ready) as conn:
            nid = job.call(conn)
            assert conn.execute("SELECT mention_id, author, text FROM notes WHERE id = %s",
                                (nid,)).fetchone() == (
                "demo:q-0", "ana", "called the customer back, waiting on the shop")  # fmt: skip
            # a note is no change of state: the item's version (what a screen checks) stays
            assert RoomQueue().item(conn, "demo:q-0").version == 0
            desk.user = "vic"
            with pytest.raises(WorkflowError, match="may not write notes"):
                desk.add_note("I only watch").call(conn)
            desk.user, desk.item = "ana", "demo:nope"
            with pytest.raises(WorkflowError, match="no queue item demo:nope"):
                desk.add_note("lost").call(conn)
            audit = conn.execute("SELECT actor, action, target, after ->> 'text' FROM audit"
                                 " ORDER BY id").fetchall()  # fmt: skip
            assert audit == [("ana", "item.note", "demo:q-0",
                              "called the customer back, waiting on the shop")]  # fmt: skip
            assert verify_audit(conn) == (1, None)
        wait_until(lambda: cache_notes(cache, "demo:q-0") == [
            ("ana", "called the customer back, waiting on the shop")], 30, "the note in B's cache")  # fmt: skip
    finally:
        assert station.stop() == 0, station.output()
    # a station started later (or back after a while away) copies the notes it lacks, once
    again = procs.station(room_ready, tmp_path, "desk-b", room_env)
    late = tmp_path / "desk-c.db"
    other = procs.station(room_ready, tmp_path, "desk-c", room_env)
    try:
        wait_until(lambda: len(cache_notes(late, "demo:q-0")) == 1, 30, "the note in C's cache")
        with app_conn(room_ready) as conn:
            desk.item = "demo:q-0"
            desk.add_note("shop confirmed").call(conn)
        wait_until(lambda: len(cache_notes(cache, "demo:q-0")) == 2
                   and len(cache_notes(late, "demo:q-0")) == 2, 30, "the second note")  # fmt: skip
    finally:
        assert again.stop() == 0, again.output()
        assert other.stop() == 0, other.output()
    assert [t for _, t in cache_notes(cache, "demo:q-0")] == [
        "called the customer back, waiting on the shop", "shop confirmed"]  # fmt: skip


def test_a_failed_reply_is_retried_through_the_room_under_its_own_key(room_ready: RoomDb) -> None:
    fill(room_ready, 1, [("ana", "operator"), ("ben", "operator"), ("vic", "viewer")])
    queue = RoomQueue()
    with app_conn(room_ready) as conn:
        item = queue.claim(conn, "ana", "demo:q-0")
        rid = queue.reply(conn, "ana", item.mention_id, "Sorry, we are on it.", template="sorry")
        outbox = RoomOutbox("hub-a")
        (send,) = outbox.take_due(conn)
        assert outbox.mark_failed(conn, rid, "the thread is gone", retryable=False) is False
        failed = queue.item(conn, item.mention_id)
        assert failed.state == "failed"

        desk = RoomDesk(QueueWorkflow(), queue)
        desk.user, desk.item = "ana", item.mention_id
        desk.open(item.mention_id, failed.version - 1)  # the screen showed it before it failed
        with pytest.raises(WorkflowError, match="changed since you opened it: it is now failed"):
            desk.retry().call(conn)
        desk.opened = None
        desk.open(item.mention_id, failed.version)
        desk.user = "vic"
        with pytest.raises(WorkflowError, match="your role may not retry"):
            desk.retry().call(conn)
        desk.user = "ana"
        job = desk.retry()
        assert job.room
        again = job.call(conn)
        assert (again.state, again.version) == ("approved", failed.version + 1)
        assert desk.seen == again.version  # my own change is no news to me
        row = conn.execute("SELECT state, attempts, next_attempt_ts, sending_by, idempotency_key"
                           " FROM replies WHERE id = %s", (rid,)).fetchone()  # fmt: skip
        # one attempt on record: the next first looks for the reply an earlier one may have posted
        assert row == ("approved", 1, None, None, send.idempotency_key)
        with pytest.raises(WorkflowError, match="cannot retry an item that is approved"):
            desk.retry().call(conn)
        # the outbox sends the same reply again, with the same key: never a second post
        (resend,) = RoomOutbox("hub-b").take_due(conn)
        assert (resend.reply_id, resend.idempotency_key, resend.attempt) == (
            rid, send.idempotency_key, 2)  # fmt: skip
        assert conn.execute("SELECT count(*) FROM replies").fetchone() == (1,)
        actions = [a for (a,) in conn.execute("SELECT action FROM audit ORDER BY id")]
        assert actions == ["item.claim", "item.reply", "item.send", "item.fail", "item.retry",
                           "item.send"]  # fmt: skip
        assert verify_audit(conn)[1] is None
