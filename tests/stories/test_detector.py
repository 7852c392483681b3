"""Stories through the real store writer: paraphrases group, different complaints stay apart,
stories merge, expire, survive a restart, and private posts never join one."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.config import Config
from app.model import Mention
from app.store.db import open_reader
from app.store.writer import IngestBatch, StoreWriter
from app.stories import queries
from app.stories.detector import StoryParams

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

BURNED = [
    "Lumio battery got so hot it burned my hand. #LumioRecall now! 😡",
    "my lumio got sooo hot it burnt my hand!! #lumiorecall @lumio",
    "@lumio the battery on my Lumio X burned my hand, recall it now 🤬",
    "Lumio batery got so hott it burnd my hand #LumioRecall",  # typos
    "Burned my hand on my Lumio X battery. Recall these phones! #LumioRecall",
    "ouch 🔥 my Lumio X burned my hand while charging #LumioRecall @lumio @techdaily",
    "LUMIO BATTERY BURNED MY HAND!!! #LumioRecall",
]
CRASHING = [
    "My Lumio X keeps crashing since the update. Really disappointed @lumio",
    "my lumio x keeps crashing after the update, really disappointed 😤",
    "@lumio since the update my Lumio X keeps crashing. So disappointed",
]
CHARGED_TWICE = [
    "My Lumio X order was charged twice on my card. Really disappointed @lumio",
    "@lumio you charged my card twice for one Lumio X order!",
    "Lumio charged twice on my credit card for the same order 😡",
]
CHATTER = [
    "Lumio store downtown was busy this morning",
    "Picked up a Lumio Air today, let's see how it goes",
    "Smartphone shipments up 4% this quarter according to analysts",
]


def mention(i: int, text: str, *, seconds: float | None = None, **kw: object) -> Mention:
    return Mention(
        network="test", native_id=str(i), source="s", text=text,
        created_at=T0 + timedelta(seconds=7 * i if seconds is None else seconds),
        author=f"@user{i}", author_followers=100 * i, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def ingest(writer: StoreWriter, texts: list[str], start: int = 0, **kw: object) -> list[str]:
    batch = [mention(start + i, t, **kw) for i, t in enumerate(texts)]  # type: ignore[arg-type]
    writer.submit(IngestBatch("s", "test", batch, {"n": start})).result(30)
    return [m.id for m in batch]


def groups(conn: sqlite3.Connection) -> dict[str, int]:
    return dict(conn.execute("SELECT mention_id, story_id FROM story_members").fetchall())


@pytest.fixture
def writer(db_path: Path, demo_config: Config):  # type: ignore[no-untyped-def]
    w = StoreWriter(db_path, demo_config, maintenance=False).start()
    yield w
    w.close()


def test_paraphrases_of_one_complaint_are_one_story(writer: StoreWriter, db_path: Path) -> None:
    ids = ingest(writer, BURNED)
    conn = open_reader(db_path)
    member = groups(conn)
    assert set(member) == set(ids)  # every paraphrase joined
    assert len(set(member.values())) == 1
    (story,) = conn.execute("SELECT id, label, size, neg FROM stories").fetchall()
    assert story[2] == len(BURNED)
    assert story[1] in BURNED
    assert story[3] >= 5  # the sentiment mix is kept


def test_different_complaints_that_share_words_stay_apart(
    writer: StoreWriter, db_path: Path
) -> None:
    # all three share "my Lumio X", "really disappointed", "@lumio" and overlap in words
    texts = BURNED[:4] + CRASHING + CHARGED_TWICE + CHATTER
    ids = ingest(writer, texts)
    member = groups(open_reader(db_path))
    burned, crashing, twice = ids[:4], ids[4:7], ids[7:10]
    for part in (burned, crashing, twice):
        assert len({member.get(i) for i in part}) == 1, part
        assert member.get(part[0]) is not None
    assert len({member[burned[0]], member[crashing[0]], member[twice[0]]}) == 3
    assert not set(ids[10:]) & set(member)  # lone posts are no story


def test_a_story_keeps_growing_across_batches_and_its_rollups_count(
    writer: StoreWriter, db_path: Path
) -> None:
    ingest(writer, BURNED[:2])
    ingest(writer, BURNED[2:], start=100)
    conn = open_reader(db_path)
    assert len(set(groups(conn).values())) == 1
    (n,) = conn.execute("SELECT sum(n) FROM story_rollups WHERE topic = '*'").fetchone()
    (lumio,) = conn.execute("SELECT sum(n) FROM story_rollups WHERE topic = 'lumio'").fetchone()
    assert n == lumio == len(BURNED)
    (size,) = conn.execute("SELECT size FROM stories").fetchone()
    assert size == len(BURNED)


def test_stories_merge_when_a_post_bridges_them(writer: StoreWriter, db_path: Path) -> None:
    # two groups far enough apart to start as two stories, then posts that say both
    first = ["Lumio overheating while charging overnight",
             "Lumio overheating while charging overnight!!"]  # fmt: skip
    second = ["charging overnight burned my hand", "charging overnight burned my hand 😡"]
    ingest(writer, first + second)
    conn = open_reader(db_path)
    before = set(groups(conn).values())
    assert len(before) == 2
    bridge = ["Lumio overheating charging overnight burned my hand",
              "Lumio overheating, charging overnight burned my hand"]  # fmt: skip
    ingest(writer, bridge, start=50)
    after = groups(conn)
    assert len(set(after.values())) == 1
    (live,) = conn.execute("SELECT count(*) FROM stories WHERE merged_into IS NULL").fetchone()
    assert live == 1
    (size,) = conn.execute("SELECT size FROM stories WHERE merged_into IS NULL").fetchone()
    assert size == 6
    (n,) = conn.execute("SELECT sum(n) FROM story_rollups WHERE topic = '*'").fetchone()
    assert n == 6


def test_private_posts_never_join_a_story(writer: StoreWriter, db_path: Path) -> None:
    ingest(writer, BURNED[:3], private=True)
    conn = open_reader(db_path)
    assert groups(conn) == {}
    ingest(writer, BURNED[3:], start=20)
    member = groups(conn)
    assert member and not any(m in member for m in ("test:0", "test:1", "test:2"))
    labels = [label for (label,) in conn.execute("SELECT label FROM stories")]
    assert labels and not set(labels) & set(BURNED[:3])


def test_the_index_is_rebuilt_from_the_store_after_a_restart(
    db_path: Path, demo_config: Config
) -> None:
    with StoreWriter(db_path, demo_config, maintenance=False) as w:
        ingest(w, BURNED[:3])
    with StoreWriter(db_path, demo_config, maintenance=False) as w:
        ingest(w, BURNED[3:], start=30)
    conn = open_reader(db_path)
    assert len(set(groups(conn).values())) == 1
    assert conn.execute("SELECT count(*), max(size) FROM stories").fetchone() == (1, len(BURNED))


def test_a_story_quiet_past_its_horizon_expires(db_path: Path, demo_config: Config) -> None:
    with StoreWriter(db_path, demo_config, maintenance=False) as w:
        assert w.stories is not None
        w.stories.params = StoryParams(expire_s=3600)
        ingest(w, BURNED[:2])
        ingest(w, BURNED[2:4], start=10, seconds=2 * 3600)  # two hours later: a new story
    conn = open_reader(db_path)
    assert len(set(groups(conn).values())) == 2


def test_open_items_of_a_story_and_top_stories(writer: StoreWriter, db_path: Path) -> None:
    ids = ingest(writer, BURNED + CRASHING)
    conn = open_reader(db_path)
    member = groups(conn)
    story = member[ids[0]]
    items = queries.open_items(conn, story)
    queued = {
        m for (m,) in conn.execute("SELECT mention_id FROM queue WHERE state = 'new'")
    } & {i for i in ids[: len(BURNED)]}  # fmt: skip
    assert queued and {i.mention_id for i in items} == queued
    assert [i.priority for i in items] == sorted(i.priority for i in items)
    now = T0.timestamp() + 7 * len(ids) + 30
    top = queries.top_stories(conn, "lumio", 600, 5, now)
    assert [r.id for r in top][:2] == [story, member[ids[len(BURNED)]]]
    assert top[0].count == len(BURNED) and top[0].previous == 0 and top[0].rise is None


def test_short_posts_and_shared_hashtags_make_no_story(writer: StoreWriter, db_path: Path) -> None:
    texts = [
        "I love this beer",
        "I love this feeling",  # two words each, one shared: no story
        "Recall the Lumio X now #LumioRecall #LumioX",
        "Lumio store queue this morning #LumioRecall #LumioX",  # the topic's tags only
    ]
    ingest(writer, texts)
    assert groups(open_reader(db_path)) == {}


def test_stories_quiet_for_their_keep_time_leave_the_store(
    db_path: Path, demo_config: Config
) -> None:
    with StoreWriter(db_path, demo_config, maintenance=False) as w:
        assert w.stories is not None
        w.stories.params = StoryParams(expire_s=600, keep_s=3600)
        ingest(w, BURNED)
        ingest(w, CRASHING, start=20, seconds=3 * 3600)
    conn = open_reader(db_path)
    (size,) = conn.execute("SELECT group_concat(size) FROM stories").fetchone()
    assert size == str(len(CRASHING))
    assert set(groups(conn)) == {f"test:{20 + i}" for i in range(len(CRASHING))}
    (old,) = conn.execute("SELECT count(*) FROM story_rollups WHERE bucket < ?",
                          (T0.timestamp() + 3600,)).fetchone()  # fmt: skip
    assert old == 0


def test_one_loose_likeness_is_no_bridge_into_a_story(writer: StoreWriter, db_path: Path) -> None:
    story = ["My Lumio X won't charge anymore. A bit disappointed"] * 3 + [
        "Lumio's charger could be better, my Lumio X won't charge anymore"
    ]
    ids = ingest(writer, story)
    # like the last member (0.48) but not like the story's most typical post (0.23)
    (bridge,) = ingest(writer, ["Lumio's charger could be better, it burned my hand"], start=10)
    member = groups(open_reader(db_path))
    assert len({member[i] for i in ids}) == 1
    assert bridge not in member


def test_a_story_of_copies_keeps_the_authors_with_most_reach_across_batches_and_a_restart(
    db_path: Path, demo_config: Config
) -> None:
    # reach rises and falls (never in order), and one author comes back with more of it
    reach = {f"@fan{i}": (i * 919) % 1000 for i in range(60)}
    posts = [(a, f) for a, f in reach.items()]
    posts[10:10] = [("@comeback", 5)]
    posts.append(("@comeback", 990))
    reach["@comeback"] = 990

    def copies(part: list[tuple[str, int]], start: int) -> list[Mention]:
        return [
            Mention(network="test", native_id=str(start + k), source="s", text=BURNED[0],
                    created_at=T0 + timedelta(seconds=start + k), author=a, author_followers=f)
            for k, (a, f) in enumerate(part)
        ]  # fmt: skip

    half = len(posts) // 2
    with StoreWriter(db_path, demo_config, maintenance=False) as w:
        for start in range(0, half, 7):
            part = copies(posts[start : min(start + 7, half)], start)
            w.submit(IngestBatch("s", "test", part, {"n": start})).result(30)
    with StoreWriter(db_path, demo_config, maintenance=False) as w:
        w.submit(IngestBatch("s", "test", copies(posts[half:], half), {"n": half})).result(30)
    conn = open_reader(db_path)
    size, authors = conn.execute("SELECT size, authors FROM stories").fetchone()
    assert size == len(posts)
    top = sorted(reach.items(), key=lambda a: -a[1])[:5]
    assert [(a, f) for a, _, f in json.loads(authors)] == top
    (n,) = conn.execute("SELECT sum(n) FROM story_rollups WHERE topic = '*'").fetchone()
    assert n == len(posts) == conn.execute("SELECT count(*) FROM story_members").fetchone()[0]


def test_a_late_copy_in_a_batch_that_reaches_past_the_horizon_is_stored_with_its_story(
    writer: StoreWriter, db_path: Path
) -> None:
    # a backfill page (or a station's catch-up after a weekend) holds a copy of an old post
    # and a post a day and more newer: the story the copy starts is swept from memory by
    # the same batch's newest post, yet it must be written (the whole batch was lost)
    text = "Lumio X screen went black after the update and will not turn on"
    ingest(writer, [text], start=0, seconds=0)
    late = [mention(1, text, seconds=10), mention(2, "Smartphone prices fall again", seconds=26 * 3600)]
    writer.submit(IngestBatch("s", "test", late, {"n": 1})).result(30)
    conn = open_reader(db_path)
    assert conn.execute("SELECT count(*) FROM mentions").fetchone() == (3,)
    sizes = conn.execute("SELECT s.size, count(m.mention_id) FROM stories s"
                         " JOIN story_members m ON m.story_id = s.id GROUP BY s.id").fetchall()  # fmt: skip
    assert sizes == [(2, 2)]  # the story's size is its members
