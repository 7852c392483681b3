"""The room's queue: claims as compare-and-set, claim-next with SKIP LOCKED, the audit chain."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from app.model import Mention
from app.room.mentions import body_from_mention
from app.room.publish import insert_mentions
from app.room.queue import RoomQueue, verify_audit
from app.workflow.states import WorkflowError
from tests.room import cluster as pg
from tests.room import procs
from tests.room.conftest import RoomDb, wait_until
from tests.room.racer import START_LOCK


def app_conn(room: RoomDb) -> psycopg.Connection[Any]:
    return psycopg.connect(room.url, password=pg.APP_PASSWORD, autocommit=True,
                           options="-c search_path=watchfloor")  # fmt: skip


def fill(room: RoomDb, items: int, users: list[tuple[str, str]]) -> None:
    """``items`` queue items (as the hub publishes them) and the console users."""
    start = time.time() - 3600
    mentions = [Mention(network="demo", native_id=f"q-{n}", source="demo", text=f"@lumio help {n}",
                        created_at=datetime.fromtimestamp(start + n, tz=UTC),
                        needs_response=True, priority=1 + n % 4) for n in range(items)]  # fmt: skip
    with app_conn(room) as conn:
        with conn.transaction():
            insert_mentions(conn, {m.id: body_from_mention(m) for m in mentions})
        for name, role in users:
            conn.execute("INSERT INTO users (name, role, password, created_ts) VALUES (%s, %s,"
                         " 'scrypt$unused', 0)", (name, role))  # fmt: skip


def test_three_stations_race_claim_next_each_item_claimed_once(
    room_ready: RoomDb, room_env: dict[str, str]
) -> None:
    stations = ["ana", "ben", "chloe"]
    fill(room_ready, 1000, [(s, "operator") for s in stations])
    with procs.owner(room_ready) as gate:
        gate.execute("SELECT pg_advisory_lock(%s)", (START_LOCK,))  # hold every racer back
        racers = [subprocess.Popen([sys.executable, "-m", "tests.room.racer", room_ready.url, s,
                                    "667"], stdout=subprocess.PIPE, text=True, env=room_env)
                  for s in stations]  # fmt: skip
        with procs.owner(room_ready) as look:
            wait_until(lambda: look.execute("SELECT count(*) FROM pg_locks WHERE locktype ="
                                            " 'advisory' AND NOT granted").fetchone() == (3,),
                       60, "the racers at the start")  # fmt: skip
        gate.execute("SELECT pg_advisory_unlock(%s)", (START_LOCK,))
        results = [json.loads(r.communicate(timeout=120)[0]) for r in racers]
    assert [r.returncode for r in racers] == [0, 0, 0]
    counts = {r["user"]: len(r["claimed"]) for r in results}
    print(f"\nclaims per station: {counts}")
    every = [i for r in results for i in r["claimed"]]
    assert len(every) == len(set(every)) == 1000  # each claimed exactly once
    assert min(counts.values()) > 0  # nobody starved
    with procs.owner(room_ready) as conn:
        held = dict(conn.execute("SELECT mention_id, assignee FROM queue").fetchall())
        assert conn.execute("SELECT count(*) FROM queue WHERE state = 'claimed'").fetchone() == (
            1000,
        )
        rows, broken = verify_audit(conn)
        claims = conn.execute(
            "SELECT target, actor FROM audit WHERE action = 'item.claim'"
        ).fetchall()
    assert (rows, broken) == (1000, None)
    assert all(held[i] == r["user"] for r in results for i in r["claimed"])
    assert sorted(t for t, _ in claims) == sorted(every)


def test_a_claim_is_a_compare_and_set_and_the_rules_are_the_workflows(
    room_ready: RoomDb,
) -> None:
    fill(room_ready, 3, [("ana", "operator"), ("ben", "operator"), ("vic", "viewer")])
    queue = RoomQueue()
    with app_conn(room_ready) as a, app_conn(room_ready) as b:
        first = queue.claim_next(a, "ana")
        assert first is not None and first.priority == 1 and first.assignee == "ana"
        with pytest.raises(WorkflowError, match="ana has claimed this item"):
            queue.claim(b, "ben", first.mention_id)
        with pytest.raises(
            WorkflowError, match="only the person who claimed this item may release"
        ):
            queue.release(b, "ben", first.mention_id)
        with pytest.raises(WorkflowError, match="your role may not claim"):
            queue.claim_next(b, "vic")
        # a stale view loses: ben read the item, ana released and re-claimed meanwhile
        stale = queue.item(b, first.mention_id)
        queue.release(a, "ana", first.mention_id)
        queue.claim(a, "ana", first.mention_id)
        with pytest.raises(WorkflowError, match="someone else changed this item"), b.transaction():
            queue._move(b, "ben", stale, "claim", "claimed", "ben", time.time())
        # an idle claim expires back to new, audited by the system
        assert queue.expire_claims(a, now=time.time() + 16 * 60) == 1
        assert queue.item(a, first.mention_id).state == "new"
        rows, broken = verify_audit(a)
        actions = [r[0] for r in a.execute("SELECT action || ':' || actor FROM audit ORDER BY id")]
    assert broken is None and rows == 4
    assert actions == ["item.claim:ana", "item.release:ana", "item.claim:ana", "item.expire:system"]


def test_a_rewritten_audit_row_is_found(room_ready: RoomDb) -> None:
    fill(room_ready, 2, [("ana", "operator")])
    queue = RoomQueue()
    with app_conn(room_ready) as conn:
        queue.claim_next(conn, "ana")
        queue.claim_next(conn, "ana")
    with procs.owner(room_ready) as owner:  # the owner drops the trigger to forge history
        owner.execute("ALTER TABLE audit DISABLE TRIGGER audit_no_change")
        owner.execute("UPDATE audit SET actor = 'mallory' WHERE id = 1")
        assert verify_audit(owner) == (0, 1)


def test_claim_next_takes_over_a_claim_gone_idle(room_ready: RoomDb) -> None:
    fill(room_ready, 1, [("ana", "operator"), ("ben", "operator")])
    hasty = RoomQueue(claim_idle_s=-1)  # every claim is idle at once
    with app_conn(room_ready) as conn:
        first = hasty.claim_next(conn, "ana")
        assert first is not None and first.assignee == "ana"
        taken = RoomQueue().claim_next(conn, "ben")
        assert taken is not None and (taken.mention_id, taken.assignee) == (first.mention_id, "ben")
        assert RoomQueue().claim_next(conn, "ana") is None  # ben's claim is live: nothing free
        last = conn.execute("SELECT before, after FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    assert last == (
        {"state": "claimed", "assignee": "ana"},
        {"state": "claimed", "assignee": "ben"},
    )


def test_a_reply_goes_from_claim_to_sent_by_the_same_rules(room_ready: RoomDb) -> None:
    from app.room.queue import RoomOutbox

    fill(room_ready, 1, [("ana", "operator"), ("ben", "approver")])
    queue = RoomQueue()
    with app_conn(room_ready) as desk_a, app_conn(room_ready) as desk_b:
        item = queue.claim_next(desk_a, "ana")
        assert item is not None
        rid = queue.submit(desk_a, "ana", item.mention_id, "So sorry, we are on it.",
                           seen_version=item.version)  # fmt: skip
        with pytest.raises(WorkflowError, match="your role may not approve"):
            queue.approve(desk_a, "ana", rid)
        queue.approve(desk_b, "ben", rid)
        assert queue.item(desk_b, item.mention_id).state == "approved"
        outbox = RoomOutbox("desk-b")
        (send,) = outbox.take_due(desk_b)
        assert (send.reply_id, send.text) == (rid, "So sorry, we are on it.")
        assert outbox.mark_sent(desk_b, rid, "109")
        assert queue.item(desk_a, item.mention_id).state == "sent"
        rows, broken = verify_audit(desk_a)
        actions = [r[0] for r in desk_a.execute("SELECT action FROM audit ORDER BY id")]
    assert broken is None and rows == 5
    assert actions == ["item.claim", "item.submit", "item.approve", "item.send", "item.sent"]


def test_a_reply_to_an_item_changed_meanwhile_is_refused_saying_how(room_ready: RoomDb) -> None:
    fill(room_ready, 1, [("ana", "operator"), ("ben", "admin")])
    queue = RoomQueue()
    with app_conn(room_ready) as desk_a, app_conn(room_ready) as desk_b:
        item = queue.claim_next(desk_a, "ana")
        assert item is not None
        opened = item.version  # what ana's screen shows while she types
        queue.dismiss(desk_b, "ben", item.mention_id, "duplicate of a thread we answered")
        with pytest.raises(WorkflowError, match="changed since you opened it: it is now dismissed"):
            queue.submit(desk_a, "ana", item.mention_id, "Sorry!", seen_version=opened)
        replies = desk_a.execute("SELECT count(*) FROM replies").fetchone()
    assert replies == (0,)  # nothing half-done


def test_a_rejected_reply_goes_back_to_its_writer_and_an_escalation_to_an_approver(
    room_ready: RoomDb,
) -> None:
    fill(room_ready, 2, [("ana", "operator"), ("ben", "approver")])
    queue = RoomQueue()
    with app_conn(room_ready) as conn:
        item = queue.claim_next(conn, "ana")
        assert item is not None
        queue.save_draft(conn, "ana", item.mention_id, "Hi!")
        rid = queue.submit(conn, "ana", item.mention_id, "Hi, sorry about that.")
        with pytest.raises(WorkflowError, match="reject needs a reason"):
            queue.reject(conn, "ben", rid, " ")
        queue.reject(conn, "ben", rid, "say what we will do")
        assert queue.item(conn, item.mention_id).state == "draft"
        (state, note) = conn.execute("SELECT state, review_note FROM replies WHERE id = %s",
                                     (rid,)).fetchone() or ("", "")  # fmt: skip
        assert (state, note) == ("draft", "say what we will do")
        other = queue.claim_next(conn, "ana")
        assert other is not None
        queue.escalate(conn, "ana", other.mention_id, "a journalist asking")
        with pytest.raises(WorkflowError, match="taken over by an approver"):
            queue.claim(conn, "ana", other.mention_id)
        assert queue.claim(conn, "ben", other.mention_id).assignee == "ben"
        assert verify_audit(conn)[1] is None
