"""The story actions through the room: a story found in this console's cache, its items acted
on in the room's queue (one transaction, a compare-and-set and an audit row per item), refused
whole when the cache and the room disagree; an item taken out stays out on every station."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.config import load_config
from app.model import Mention
from app.room.desk import RoomDesk
from app.room.mentions import body_from_mention
from app.room.publish import insert_mentions, log_change
from app.room.queue import RoomOutbox, RoomQueue, verify_audit
from app.room.station import Station
from app.store.db import open_reader
from app.store.writer import StoreWriter
from app.ui.console import ConsoleWindow
from app.workflow import queries
from app.workflow.service import QueueWorkflow, Rules
from app.workflow.states import WorkflowError
from app.workflow.story_work import Outcome
from app.workflow.templates import Template
from tests.room import procs
from tests.room.conftest import RoomDb, wait_until
from tests.room.test_console_room import WAIT, consoles, done, ready  # noqa: F401 (a fixture)
from tests.room.test_queue import app_conn, fill
from tests.stories.test_detector import BURNED, CRASHING

SORRY = Template(name="sorry", text="Hi {author_name}, we are sorry: {brand} is on it. ^{operator}")


def post(room: RoomDb, texts: list[str], first: int = 0) -> list[str]:
    """Posts as the hub publishes them, each an item; their ids."""
    start = datetime.now(UTC).timestamp() - 600
    mentions = [Mention(network="demo", native_id=f"s-{n}", source="demo", text=text,
                        created_at=datetime.fromtimestamp(start + 7 * n, tz=UTC),
                        author=f"@user{n}", author_name=f"User {n}", needs_response=True,
                        priority=2) for n, text in enumerate(texts, start=first)]  # fmt: skip
    with app_conn(room) as conn, conn.transaction():
        new = insert_mentions(conn, {m.id: body_from_mention(m) for m in mentions})
        log_change(conn, ["mentions", "queue"], new)  # the stations' wake-up, as the hub's
    return [m.id for m in mentions]


def publish(room: RoomDb, users: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """The two complaints (each post an item), and the users."""
    ids = post(room, [*BURNED, *CRASHING])
    fill(room, 0, users)
    return ids[: len(BURNED)], ids[len(BURNED):]


def local(cache: Path, sql: str) -> list[tuple[object, ...]]:
    if not cache.exists():
        return []
    conn = sqlite3.connect(f"file:{cache}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:  # the schema is not there yet
        return []
    finally:
        conn.close()


def states(cache: Path, ids: list[str]) -> dict[str, tuple[object, ...]]:
    rows = local(cache, "SELECT mention_id, state, assignee FROM queue")
    return {str(r[0]): (r[1], r[2]) for r in rows if r[0] in ids}


def room_states(room: RoomDb, ids: list[str]) -> dict[str, tuple[object, ...]]:
    with app_conn(room) as conn:
        return {str(m): (s, a) for m, s, a in conn.execute(
            "SELECT mention_id, state, assignee FROM queue WHERE mention_id = ANY (%s)", (ids,))}  # fmt: skip


def test_a_story_is_claimed_answered_and_its_duplicates_dismissed_item_by_item_in_the_room(
    room_ready: RoomDb, tmp_path: Path
) -> None:
    burned, crashing = publish(room_ready, [("ana", "operator"), ("ben", "operator")])
    config = load_config(room_ready.write_config(tmp_path / "desk-a.toml", station="desk-a"))
    assert config.room is not None
    cache = tmp_path / "desk-a.db"
    writer = StoreWriter(cache, config, maintenance=False).start()
    sync = Station(config.room, writer).start()
    queue = RoomQueue()
    workflow = QueueWorkflow(Rules(brand="Lumio", templates={"sorry": SORRY}))
    desk = RoomDesk(workflow, queue, cache=cache, station="desk-a")
    try:
        wait_until(lambda: len(local(cache, "SELECT 1 FROM story_members")) == 10, 30,
                   "the stories in A's cache")  # fmt: skip
        reader = open_reader(cache)
        try:
            assert {queries.story_of(reader, m) for m in burned} != {queries.story_of(reader, crashing[0])}
            assert len({queries.story_of(reader, m) for m in burned}) == 1
        finally:
            reader.close()
        with app_conn(room_ready) as conn:
            queue.claim(conn, "ben", burned[3])  # ben is on one of them already
        wait_until(lambda: states(cache, [burned[3]]) == {burned[3]: ("claimed", "ben")}, 30,
                   "ben's claim in A's cache")  # fmt: skip

        desk.user, desk.item = "ana", burned[0]
        job = desk.claim_story()
        assert job.room  # today's desk refuses it as not shared
        with app_conn(room_ready) as conn:
            out = job.call(conn)
        assert isinstance(out, Outcome)
        assert sorted(out.done) == sorted(m for m in burned if m != burned[3])
        assert out.skipped == {burned[3]: "ben has claimed this item"}
        assert room_states(room_ready, burned) == {
            m: ("claimed", "ben" if m == burned[3] else "ana") for m in burned}  # fmt: skip
        wait_until(lambda: states(cache, burned) == room_states(room_ready, burned), 30,
                   "the claims in A's cache")  # fmt: skip

        # one template, one reply per item, each with its own placeholders and its own post
        with app_conn(room_ready) as conn:
            answered = desk.answer_story("sorry").call(conn)
            assert sorted(answered.done) == sorted(out.done)
            texts = dict(conn.execute("SELECT mention_id, text FROM replies WHERE state = 'approved'"
                                      ).fetchall())  # fmt: skip
            sends = RoomOutbox("hub-a").take_due(conn, limit=50)
        assert texts == {m: f"Hi User {burned.index(m)}, we are sorry: Lumio is on it. ^ana"
                         for m in out.done}  # fmt: skip
        assert sorted(s.mention_id for s in sends) == sorted(out.done)
        assert len({s.idempotency_key for s in sends}) == len(out.done)

        # the cache a moment behind the room (its sync away): refused whole, nothing done
        sync.stop()
        with app_conn(room_ready) as conn:
            queue.claim(conn, "ben", crashing[2])
            before = conn.execute("SELECT count(*) FROM audit").fetchone()
            desk.item = crashing[0]
            with pytest.raises(WorkflowError, match=(
                    rf"behind the room for 1 of its 3 open items \({crashing[2]} is claimed by ben"
                    " in the room, new here\\): nothing was done")):  # fmt: skip
                desk.dismiss_duplicates("the same crash report").call(conn)
            assert conn.execute("SELECT count(*) FROM audit").fetchone() == before
        assert room_states(room_ready, crashing)[crashing[1]] == ("new", None)
        sync = Station(config.room, writer).start()
        wait_until(lambda: states(cache, [crashing[2]]) == {crashing[2]: ("claimed", "ben")}, 30,
                   "the cache caught up")  # fmt: skip
        with app_conn(room_ready) as conn:
            gone = desk.dismiss_duplicates("the same crash report").call(conn)
            assert (gone.done, gone.skipped) == ([crashing[1]], {crashing[2]: "claimed by ben"})
            assert room_states(room_ready, crashing) == {
                crashing[0]: ("new", None), crashing[1]: ("dismissed", None),
                crashing[2]: ("claimed", "ben")}  # fmt: skip
            actions = [a for (a,) in conn.execute("SELECT action FROM audit ORDER BY id")]
            assert actions == (["item.claim"] * 7 + ["story.claim"] + ["item.reply"] * 6
                               + ["story.answer"] + ["item.send"] * 6 + ["item.claim", "item.dismiss",
                                                                          "story.dismiss_duplicates"])  # fmt: skip
            assert verify_audit(conn)[1] is None
    finally:
        sync.stop()
        writer.close()


def test_an_item_taken_out_of_its_story_stays_out_on_every_station(
    room_ready: RoomDb, tmp_path: Path, room_env: dict[str, str]
) -> None:
    burned, _ = publish(room_ready, [("ana", "operator"), ("vic", "viewer")])
    a_cache, b_cache = tmp_path / "desk-a.db", tmp_path / "wall-b.db"
    a = procs.station(room_ready, tmp_path, "desk-a", room_env)
    b = procs.station(room_ready, tmp_path, "wall-b", room_env)
    try:
        for cache in (a_cache, b_cache):
            wait_until(lambda c=cache: len(local(c, "SELECT 1 FROM story_members")) == 10, 30,  # type: ignore[misc]
                       "the stories in each cache")  # fmt: skip
        desk = RoomDesk(QueueWorkflow(), RoomQueue(), cache=a_cache, station="desk-a")
        desk.user, desk.item = "vic", burned[5]
        with app_conn(room_ready) as conn:
            with pytest.raises(WorkflowError, match="your role may not handle stories"):
                desk.take_out().call(conn)
            desk.user = "ana"
            job = desk.take_out()
            assert job.room
            story = job.call(conn)
            # twice: the room says so (or A's cache, if its sync was quicker than this line)
            with pytest.raises(WorkflowError, match=r"taken out of its story already|in no story"):
                desk.take_out().call(conn)
        for cache in (a_cache, b_cache):
            wait_until(lambda c=cache: local(c, "SELECT mention_id, by FROM story_exclusions")  # type: ignore[misc]
                       == [(burned[5], "ana")], 30, "the item out in each cache")  # fmt: skip
        with app_conn(room_ready) as conn, pytest.raises(WorkflowError, match="in no story"):
            desk.take_out().call(conn)  # now A's cache says so itself
        reader = open_reader(b_cache)
        try:
            assert queries.story_of(reader, burned[5]) is None
            assert queries.story_of(reader, burned[0]) is not None
        finally:
            reader.close()
        with app_conn(room_ready) as conn:
            audit = conn.execute("SELECT actor, action, target, before ->> 'story' FROM audit").fetchall()
            assert audit == [("ana", "item.take_out", burned[5], str(story))]
            # the story's claim leaves it out
            desk.item = burned[0]
            out = desk.claim_story().call(conn)
            assert burned[5] not in out.done and len(out.done) == len(burned) - 1
    finally:
        assert a.stop() == 0, a.output()
        assert b.stop() == 0, b.output()


def test_new_items_that_join_a_story_claimed_on_a_console_go_to_its_holder(
    qtbot: QtBot, room_ready: RoomDb,
    consoles: Callable[..., ConsoleWindow],  # noqa: F811 (the fixture imported above)
) -> None:  # fmt: skip
    burned = post(room_ready, BURNED[:5])
    crashing = post(room_ready, CRASHING[:2], first=20)
    fill(room_ready, 0, [("ana", "operator")])
    a = consoles(room_ready, "desk-a", "ana", "operator")
    ready(qtbot, a, 7)
    qtbot.waitUntil(lambda: len(local(a.db_path, "SELECT 1 FROM story_members")) == 7, timeout=WAIT)
    assert a.select(burned[0])
    out = done(qtbot, a, a.claim_story())
    assert isinstance(out, Outcome) and sorted(out.done) == sorted(burned), a.error_bar.text()
    # two more people say it, and one more crash report comes
    joined = post(room_ready, BURNED[5:], first=5)
    other = post(room_ready, CRASHING[2:], first=22)
    qtbot.waitUntil(lambda: room_states(room_ready, joined) == dict.fromkeys(joined, ("claimed", "ana")),
                    timeout=WAIT)  # the console's probe claimed them  # fmt: skip
    with app_conn(room_ready) as conn:
        routed = conn.execute("SELECT target, after ->> 'story' FROM audit WHERE action = 'item.claim'"
                              " AND target = ANY (%s)", (joined,)).fetchall()  # fmt: skip
        assert sorted(t for t, _ in routed) == sorted(joined)
        assert len({s for _, s in routed}) == 1 and None not in {s for _, s in routed}
        assert verify_audit(conn)[1] is None
    # the crash reports are another story: nobody's (a routing on the link's thread says so)
    qtbot.waitUntil(lambda: len(local(a.db_path, "SELECT 1 FROM story_members")) == 10, timeout=WAIT)
    assert a.room_part is not None
    stories = a.desk.room_stories  # type: ignore[attr-defined]
    assert a.room_part.link.submit(stories.route_joiners).result(timeout=30) == []
    assert room_states(room_ready, [*crashing, *other]) == dict.fromkeys([*crashing, *other],
                                                                         ("new", None))  # fmt: skip


def test_a_claim_gone_idle_is_free_to_a_story_claim_whether_or_not_the_cache_freed_it(
    room_ready: RoomDb, tmp_path: Path
) -> None:
    _, crashing = publish(room_ready, [("ana", "operator"), ("ben", "operator")])
    config = load_config(room_ready.write_config(tmp_path / "desk-a.toml", station="desk-a"))
    assert config.room is not None
    cache = tmp_path / "desk-a.db"
    writer = StoreWriter(cache, config, maintenance=False).start()
    sync = Station(config.room, writer).start()
    queue = RoomQueue()
    try:
        with app_conn(room_ready) as conn:
            queue.claim(conn, "ben", crashing[1])
            queue.claim(conn, "ben", crashing[2])
        wait_until(lambda: states(cache, crashing[1:]) == dict.fromkeys(crashing[1:], ("claimed", "ben"))
                   and len(local(cache, "SELECT 1 FROM story_members")) == 10, 30, "A's cache")  # fmt: skip
        sync.stop()
        idle = time.time() - 60  # ben went home: both claims idle since a minute
        with procs.owner(room_ready) as conn:
            conn.execute("UPDATE queue SET claim_expires = %s WHERE mention_id = ANY (%s)",
                         (idle, crashing[1:]))  # fmt: skip

        def local_idle(c: sqlite3.Connection) -> int:  # the cache's own outbox round frees one
            c.execute("UPDATE queue SET claim_expires = ? WHERE mention_id = ?", (idle, crashing[1]))
            freed = QueueWorkflow().expire_claims(c)
            # the other one's idleness comes to the cache after its round (not freed here yet)
            c.execute("UPDATE queue SET claim_expires = ? WHERE mention_id = ?", (idle, crashing[2]))
            return freed

        assert writer.call(local_idle, tables=("queue", "audit")).result(timeout=30) == 1
        assert states(cache, crashing) == {crashing[0]: ("new", None), crashing[1]: ("new", None),
                                           crashing[2]: ("claimed", "ben")}  # fmt: skip
        desk = RoomDesk(QueueWorkflow(), queue, cache=cache, station="desk-a")
        desk.user, desk.item = "ana", crashing[0]
        with app_conn(room_ready) as conn:
            out = desk.claim_story().call(conn)
        assert sorted(out.done) == sorted(crashing) and out.skipped == {}
        assert room_states(room_ready, crashing) == dict.fromkeys(crashing, ("claimed", "ana"))
    finally:
        sync.stop()
        writer.close()
