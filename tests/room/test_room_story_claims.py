"""Who holds a story, held in the room: keyed by a post every station has, shown on every
station, the same refusal as on one machine, and its new items routed by the active hub's
outbox rounds after the console that claimed it is gone."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from app.config import load_config
from app.room.desk import RoomDesk
from app.room.queue import RoomQueue, verify_audit
from app.room.sender import RoomSender
from app.room.station import Station
from app.store.db import open_reader
from app.store.writer import StoreWriter
from app.workflow import queries
from app.workflow.service import QueueWorkflow
from app.workflow.states import WorkflowError
from tests.room import procs
from tests.room.conftest import RoomDb, wait_until
from tests.room.test_queue import app_conn, fill
from tests.room.test_room_stories import local, post, room_states
from tests.stories.test_detector import BURNED, CRASHING

WAIT = 60


@dataclass
class Machine:
    """A station of the room: its own cache, filled from the room by its own sync."""

    name: str
    cache: Path
    writer: StoreWriter
    sync: Station

    def desk(self, user: str, item: str) -> RoomDesk:
        desk = RoomDesk(QueueWorkflow(), RoomQueue(), cache=self.cache, station=self.name)
        desk.user, desk.item = user, item
        return desk

    def holder(self, mention_id: str) -> str | None:
        """Who the cache's detail pane says holds the item's story."""
        reader = open_reader(self.cache)
        try:
            info = queries.story_info(reader, mention_id)
        finally:
            reader.close()
        return None if info is None else info.assignee

    def members(self) -> int:
        return len(local(self.cache, "SELECT 1 FROM story_members"))


@pytest.fixture
def machines(room_ready: RoomDb, tmp_path: Path) -> Iterator[dict[str, Machine]]:
    out: dict[str, Machine] = {}
    for name in ("desk-a", "desk-b", "hub"):
        config = load_config(room_ready.write_config(tmp_path / f"{name}.toml", station=name))
        assert config.room is not None
        cache = tmp_path / f"{name}.db"
        writer = StoreWriter(cache, config, maintenance=False).start()
        out[name] = Machine(name, cache, writer, Station(config.room, writer).start())
    try:
        yield out
    finally:
        for m in out.values():
            m.sync.stop()
            m.writer.close()


def hub_round(room: RoomDb, tmp_path: Path, cache: Path) -> None:
    """One outbox round of the active hub, its stories found in ``cache``."""
    config = load_config(room.write_config(tmp_path / "hub-round.toml", station="hub"))
    assert config.room is not None
    room_config = config.room

    async def run() -> None:
        async with httpx.AsyncClient() as client:
            sender = RoomSender(room_config, "hub", {}, client, cache=cache)
            await sender.send_due()
            assert sender.error == ""
            await asyncio.to_thread(sender._drop)

    asyncio.run(run())


def test_a_story_claimed_on_one_console_shows_on_the_other_and_is_refused_there_but_to_an_admin(
    room_ready: RoomDb, machines: dict[str, Machine]
) -> None:
    burned = post(room_ready, BURNED[:5])
    crashing = post(room_ready, CRASHING[:3], first=20)
    fill(room_ready, 0, [("ana", "operator"), ("ben", "operator"), ("cleo", "admin")])
    a, b = machines["desk-a"], machines["desk-b"]
    for m in (a, b):
        wait_until(lambda m=m: m.members() == 8, WAIT, f"{m.name}'s stories")  # type: ignore[misc]
    with app_conn(room_ready) as conn:
        out = a.desk("ana", burned[1]).claim_story().call(conn)
        assert sorted(out.done) == sorted(burned)
        (anchor,) = conn.execute("SELECT anchor FROM story_claims").fetchone() or ("",)
    # the key is a post both caches hold: B finds the story through it and says who holds it
    assert anchor in burned
    wait_until(lambda: b.holder(burned[3]) == "ana", WAIT, "B showing ana's story claim")
    assert b.holder(crashing[0]) is None  # the other story is nobody's
    with app_conn(room_ready) as conn:
        with pytest.raises(WorkflowError, match="ana has claimed this story"):
            b.desk("ben", burned[4]).claim_story().call(conn)
        assert room_states(room_ready, burned) == dict.fromkeys(burned, ("claimed", "ana"))
    # an admin takes it over, as on one machine (ana's items gone idle, free to be taken);
    # the room holds one claim of the story, hers, under the same key
    with procs.owner(room_ready) as owner:
        owner.execute("UPDATE queue SET claim_expires = %s WHERE mention_id = ANY (%s)",
                      (time.time() - 1, burned))  # fmt: skip
    with app_conn(room_ready) as conn:
        assert RoomQueue().expire_claims(conn) == len(burned)  # the hub's round frees them
    wait_until(lambda: {s for s, _ in local(b.cache, "SELECT state, 1 FROM queue")} == {"new"},
               WAIT, "B's cache seeing the items free")  # fmt: skip
    assert b.holder(burned[0]) == "ana"  # the story claim is not idle: hers still
    with app_conn(room_ready) as conn:
        out = b.desk("cleo", burned[4]).claim_story().call(conn)
        assert sorted(out.done) == sorted(burned)
        rows = conn.execute("SELECT anchor, assignee FROM story_claims").fetchall()
        assert rows == [(anchor, "cleo")]
        assert verify_audit(conn)[1] is None
    wait_until(lambda: a.holder(burned[0]) == "cleo", WAIT, "A showing cleo's claim")


def test_new_items_of_a_claimed_story_go_to_its_holder_from_the_hub_when_the_console_is_gone(
    room_ready: RoomDb, machines: dict[str, Machine], tmp_path: Path
) -> None:
    burned = post(room_ready, BURNED[:4])
    fill(room_ready, 0, [("ana", "operator")])
    a, hub = machines["desk-a"], machines["hub"]
    wait_until(lambda: a.members() == 4, WAIT, "A's story")
    with app_conn(room_ready) as conn:
        a.desk("ana", burned[0]).claim_story().call(conn)
    a.sync.stop()  # desk A closes: nothing of it routes any more
    a.writer.close()
    joined = post(room_ready, BURNED[4:], first=4)
    other = post(room_ready, CRASHING[:3], first=20)
    wait_until(lambda: hub.members() == len(BURNED) + 3, WAIT, "the hub's cache")
    assert room_states(room_ready, joined) == dict.fromkeys(joined, ("new", None))
    hub_round(room_ready, tmp_path, hub.cache)
    assert room_states(room_ready, joined) == dict.fromkeys(joined, ("claimed", "ana"))
    assert room_states(room_ready, other) == dict.fromkeys(other, ("new", None))
    with app_conn(room_ready) as conn:
        claimed = conn.execute("SELECT target FROM audit WHERE action = 'item.claim'"
                               " AND target = ANY (%s)", (joined,)).fetchall()  # fmt: skip
        assert sorted(t for (t,) in claimed) == sorted(joined)  # each once
        (members,) = conn.execute("SELECT members FROM story_claims").fetchone() or ([],)
        assert set(joined) <= set(members)
    hub_round(room_ready, tmp_path, hub.cache)  # a second round takes nothing twice
    with app_conn(room_ready) as conn:
        (n,) = conn.execute("SELECT count(*) FROM audit WHERE action = 'item.claim'"
                            " AND target = ANY (%s)", (joined,)).fetchone() or (0,)  # fmt: skip
        assert n == len(joined)


def test_a_story_claim_gone_idle_ends_in_the_room_and_on_every_station(
    room_ready: RoomDb, machines: dict[str, Machine], tmp_path: Path
) -> None:
    burned = post(room_ready, BURNED[:4])
    fill(room_ready, 0, [("ana", "operator")])
    a, b, hub = machines["desk-a"], machines["desk-b"], machines["hub"]
    wait_until(lambda: a.members() == 4 and hub.members() == 4, WAIT, "the caches' story")
    with app_conn(room_ready) as conn:
        a.desk("ana", burned[0]).claim_story().call(conn)
    wait_until(lambda: b.holder(burned[0]) == "ana", WAIT, "B showing ana's story claim")
    with procs.owner(room_ready) as owner:
        owner.execute("UPDATE story_claims SET expires = %s", (time.time() - 1,))
        owner.execute("UPDATE queue SET state = 'new', assignee = NULL, claim_expires = NULL"
                      " WHERE mention_id = %s", (burned[2],))  # fmt: skip
    hub_round(room_ready, tmp_path, hub.cache)
    with app_conn(room_ready) as conn:
        assert conn.execute("SELECT count(*) FROM story_claims").fetchone() == (0,)
        ended = conn.execute("SELECT actor, before ->> 'assignee' FROM audit"
                             " WHERE action = 'story.expire'").fetchall()  # fmt: skip
        assert ended == [("system", "ana")]
        assert verify_audit(conn)[1] is None
    # the freed item is not routed to ana: her story claim ended
    assert room_states(room_ready, [burned[2]]) == {burned[2]: ("new", None)}
    wait_until(lambda: b.holder(burned[0]) is None, WAIT, "B no longer showing the claim")
    assert not local(b.cache, "SELECT 1 FROM story_claims")


def test_the_caches_copy_of_the_claims_names_the_story_each_cache_has(tmp_path: Path) -> None:
    """A claim's key post taken out of its story here: the story is found through its items."""
    from app.room.stories import StoryClaim, copy_story_claims

    conn = sqlite3.connect(":memory:")
    conn.executescript(
        "CREATE TABLE stories (id INTEGER PRIMARY KEY, merged_into INTEGER);"
        "CREATE TABLE story_members (mention_id TEXT PRIMARY KEY, story_id INTEGER, ts REAL);"
        "CREATE TABLE story_exclusions (mention_id TEXT PRIMARY KEY, story_id INTEGER, by TEXT, ts REAL);"
        "CREATE TABLE story_claims (story_id INTEGER PRIMARY KEY, assignee TEXT, claimed_ts REAL,"
        " expires REAL);"
        "INSERT INTO stories VALUES (9, NULL);"
        "INSERT INTO story_members VALUES ('k', 9, 1), ('m1', 9, 2), ('m2', 9, 3);"
        "INSERT INTO story_exclusions VALUES ('k', 9, 'ben', 4);"
        "INSERT INTO story_claims VALUES (3, 'stale', 0, 0);"
    )
    claims = [StoryClaim("k", "ana", 1.0, 2e9, ("m2",)), StoryClaim("gone", "ben", 1.0, 2e9, ())]
    assert copy_story_claims(conn, claims) == 1
    assert conn.execute("SELECT story_id, assignee FROM story_claims").fetchall() == [(9, "ana")]


def test_claim_next_leaves_an_item_of_a_story_another_holds_to_them(
    room_ready: RoomDb, machines: dict[str, Machine], tmp_path: Path
) -> None:
    burned = post(room_ready, BURNED[:4])
    crashing = post(room_ready, CRASHING[:1], first=20)
    fill(room_ready, 0, [("ana", "operator"), ("ben", "operator")])
    a, hub = machines["desk-a"], machines["hub"]
    wait_until(lambda: a.members() == 4 and hub.members() == 4, WAIT, "the caches' story")
    queue = RoomQueue()
    with app_conn(room_ready) as conn:
        a.desk("ana", burned[0]).claim_story().call(conn)
        queue.release(conn, "ana", burned[0])  # free in the queue, still of ana's story
        assert room_states(room_ready, [burned[0]]) == {burned[0]: ("new", None)}
        taken = queue.claim_next(conn, "ben")
        assert taken is not None and taken.mention_id == crashing[0]
        assert queue.claim_next(conn, "ben") is None
    hub_round(room_ready, tmp_path, hub.cache)  # and the hub gives it back to its holder
    assert room_states(room_ready, [burned[0]]) == {burned[0]: ("claimed", "ana")}


def test_a_new_post_of_a_held_story_is_its_holders_before_another_console_claims_next(
    room_ready: RoomDb, machines: dict[str, Machine]
) -> None:
    burned = post(room_ready, BURNED[:3])
    fill(room_ready, 0, [("ana", "operator"), ("ben", "operator")])
    a, b = machines["desk-a"], machines["desk-b"]
    wait_until(lambda: a.members() == 3 and b.members() == 3, WAIT, "the caches' story")
    with app_conn(room_ready) as conn:
        a.desk("ana", burned[0]).claim_story().call(conn)
    joiner = post(room_ready, BURNED[3:4], first=3)  # it joins ana's story in every cache
    wait_until(lambda: b.members() == 4, WAIT, "desk-b's cache to see it join")
    # no router has run since: ben's Claim next must not hand him ana's story's new post
    with app_conn(room_ready) as conn:
        assert b.desk("ben", joiner[0]).claim_next().call(conn) is None
    assert room_states(room_ready, joiner) == {joiner[0]: ("claimed", "ana")}
