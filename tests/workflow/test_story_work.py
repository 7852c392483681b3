"""A story as one piece of work, through the real store writer (analysis and story detection
as ingest runs them) and the real outbox: claimed whole, answered in bulk within a
network's rate limit, joined by new items that go to the same operator, and an item taken
out that stays out."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from app.config import Config
from app.model import Mention
from app.poller import Poller
from app.store.db import open_reader
from app.store.writer import IngestBatch, StoreWriter
from app.workflow import audit, queries
from app.workflow.limits import build_reply_sources
from app.workflow.outbox import Outbox
from app.workflow.pacing import Rate
from app.workflow.service import QueueWorkflow
from app.workflow.setup import build_workflow
from app.workflow.states import WorkflowError
from app.workflow.story_work import StoryWork
from app.workflow.users import add_user
from tests.workflow.conftest import PASSWORD, PASSWORD_HASH

BURNED = [
    "@lumio my Lumio battery got so hot it burned my hand. Recall it now!",
    "@lumio my lumio got sooo hot it burnt my hand!! recall it",
    "@lumio the battery on my Lumio X burned my hand, recall it now",
    "@lumio Lumio batery got so hott it burnd my hand, recall",
    "@lumio Burned my hand on my Lumio X battery. Recall these phones!",
    "@lumio my Lumio X battery burned my hand while charging, recall it",
    "@lumio LUMIO BATTERY BURNED MY HAND!!! RECALL",
    "@lumio my Lumio battery got so hot it burned my hand, please recall it",
    "@lumio Lumio X battery so hot it burned my hand. recall now",
]


def ingest(writer: StoreWriter, texts: list[str], start: int = 0) -> list[str]:
    now = datetime.now(UTC)
    batch = [Mention(network="demo", native_id=f"s{start + i}", source="demo", text=t,
                     created_at=now - timedelta(seconds=60 - i), author=f"@fan{start + i}",
                     author_name=f"Fan {start + i}", directed_at_us=True,
                     reply_ref={"demo_id": f"s{start + i}"})
             for i, t in enumerate(texts)]  # fmt: skip
    writer.submit(IngestBatch("demo", "demo", batch, {"n": start})).result(30)
    return [m.id for m in batch]


@pytest.fixture
def writer(db_path: Path, demo_config: Config) -> Iterator[StoreWriter]:
    w = StoreWriter(db_path, demo_config, maintenance=False).start()
    w.call(lambda c: [add_user(c, n, "operator", PASSWORD, password_hash=PASSWORD_HASH)
                      for n in ("olga", "omar")]).result(30)  # fmt: skip
    yield w
    w.close()


@pytest.fixture
def workflow(demo_config: Config) -> QueueWorkflow:
    wf = build_workflow(demo_config)
    # the demo network publishes no limit; this one allows five replies an hour
    wf.rules = dataclasses.replace(wf.rules, reply_rates={"demo": (Rate(5, 3600.0),)})
    return wf


def one_story(db: Path, ids: list[str]) -> int:
    conn = open_reader(db)
    stories = {queries.story_of(conn, mid) for mid in ids}
    queued = conn.execute(f"SELECT count(*) FROM queue WHERE mention_id IN ({','.join('?' * len(ids))})",
                          ids).fetchone()[0]  # fmt: skip
    conn.close()
    assert queued == len(ids), "every paraphrase addressed to us is queued"
    assert len(stories) == 1 and None not in stories, stories
    story = stories.pop()
    assert story is not None
    return story


def states(db: Path, ids: list[str]) -> dict[str, tuple[str, str | None]]:
    conn = open_reader(db)
    rows = {r[0]: (r[1], r[2]) for r in conn.execute("SELECT mention_id, state, assignee FROM queue")}
    conn.close()
    return {mid: rows[mid] for mid in ids}


def outbox_round(config: Config, writer: StoreWriter, workflow: QueueWorkflow) -> int:
    """One round of the outbox as the poller's loop runs it (send, then the chores)."""

    async def go() -> int:
        async with httpx.AsyncClient() as client:
            return await Outbox(writer, workflow, build_reply_sources(config.sources), client).round()

    return asyncio.run(go())


def test_a_story_answered_in_bulk_sends_one_reply_per_item_within_the_rate_limit(
    writer: StoreWriter, workflow: QueueWorkflow, demo_config: Config, db_path: Path
) -> None:
    ids = ingest(writer, BURNED[:7])
    story = one_story(db_path, ids)
    work = StoryWork(workflow)
    claimed = writer.call(lambda c: work.claim_story(c, "olga", story)).result(30)
    assert sorted(claimed.done) == sorted(ids)
    assert set(states(db_path, ids).values()) == {("claimed", "olga")}
    with pytest.raises(WorkflowError, match="olga has claimed this story"):
        writer.call(lambda c: work.claim_story(c, "omar", story)).result(30)
    answered = writer.call(lambda c: work.answer_story(c, "olga", story, "dm-details")).result(30)
    assert sorted(answered.done) == sorted(ids) and not answered.skipped
    # one outbox round as `watchfloor poll` runs it, then another: the hour's five, no more
    for _ in range(2):
        asyncio.run(Poller(demo_config, writer, workflow=workflow, fetch=False).run(once=True))
    conn = open_reader(db_path)
    replies = conn.execute("SELECT mention_id, text, state FROM replies ORDER BY id").fetchall()
    assert sorted(r[0] for r in replies) == sorted(ids)  # one reply per item, each its own post
    for mid, text, _ in replies:
        assert text.startswith(f"Sorry to hear that, Fan {ids.index(mid)}.")  # its own placeholders
    assert sorted(r[2] for r in replies) == ["approved"] * 2 + ["sent"] * 5
    for mid, _, state in replies:
        trail = [r["action"] for r in audit.rows(conn, mid)]
        assert trail == ["item.claim", "item.reply"] + (["item.send", "item.sent"] if state == "sent" else [])
        assert next(iter(audit.rows(conn, mid)))["after"]["story"] == story
    story_rows = [r["action"] for r in audit.rows(conn, f"story:{story}")]
    assert story_rows == ["story.claim", "story.answer"]
    assert audit.verify(conn).ok
    conn.close()
    # when the hour has passed, the other two go
    later = time.time() + 3601
    taken = writer.call(lambda c: workflow.take_due(c, now=later)).result(30)
    assert len(taken) == 2


def test_a_new_item_joins_its_claimed_story_and_goes_to_the_same_operator(
    writer: StoreWriter, workflow: QueueWorkflow, demo_config: Config, db_path: Path
) -> None:
    first = ingest(writer, BURNED[:4])
    story = one_story(db_path, first)
    work = StoryWork(workflow)
    writer.call(lambda c: work.claim_story(c, "olga", story)).result(30)
    later = ingest(writer, BURNED[4:7], start=10)
    assert one_story(db_path, first + later) == story
    assert set(states(db_path, later).values()) == {("new", None)}
    # meanwhile another operator's "claim next" leaves them to her
    assert writer.call(lambda c: workflow.claim_next(c, "omar")).result(30) is None
    outbox_round(demo_config, writer, workflow)
    assert set(states(db_path, later).values()) == {("claimed", "olga")}
    conn = open_reader(db_path)
    for mid in later:
        (row,) = list(audit.rows(conn, mid))
        assert (row["actor"], row["action"], row["after"]["story"]) == ("olga", "item.claim", story)
    conn.close()


def test_an_item_taken_out_of_a_story_stays_out(
    writer: StoreWriter, workflow: QueueWorkflow, demo_config: Config, db_path: Path
) -> None:
    ids = ingest(writer, BURNED[:4])
    story = one_story(db_path, ids)
    work = StoryWork(workflow)
    out = ids[1]
    writer.call(lambda c: work.take_out(c, "omar", out)).result(30)
    with pytest.raises(WorkflowError, match="in no story"):
        writer.call(lambda c: work.take_out(c, "omar", out)).result(30)
    claimed = writer.call(lambda c: work.claim_story(c, "olga", story)).result(30)
    assert out not in claimed.done and out not in claimed.skipped
    # more of the same arrive, and the writer restarts (its index rebuilt from the store)
    ingest(writer, BURNED[4:6], start=10)
    with StoreWriter(db_path, demo_config, maintenance=False) as again:
        more = ingest(again, BURNED[6:9], start=20)
        outbox_round(demo_config, again, workflow)
        again.call(lambda c: work.answer_story(c, "olga", story, "dm-details")).result(30)
        dismissed = again.call(lambda c: work.dismiss_duplicates(c, "olga", story, "one answer")).result(30)
    conn = open_reader(db_path)
    assert queries.story_of(conn, out) is None
    assert out not in {i.mention_id for i in queries.story_items(conn, story)}
    assert set(more) <= {r[0] for r in conn.execute("SELECT mention_id FROM replies")}
    assert conn.execute("SELECT count(*) FROM replies WHERE mention_id = ?", (out,)).fetchone() == (0,)
    assert conn.execute("SELECT state, assignee FROM queue WHERE mention_id = ?", (out,)).fetchone() == (
        "new", None)  # nobody took it with the story, and it is nobody's yet
    assert out not in dismissed.done
    rows = queries.fetch_queue(conn, queries.QueueFilter())
    assert next(r for r in rows if r.mention_id == out).story is None
    assert [r["action"] for r in audit.rows(conn, out)] == ["item.take_out"]
    conn.close()


def test_duplicates_are_dismissed_in_one_action_with_a_reason(
    writer: StoreWriter, workflow: QueueWorkflow, db_path: Path
) -> None:
    ids = ingest(writer, BURNED[:5])
    story = one_story(db_path, ids)
    work = StoryWork(workflow)
    writer.call(lambda c: workflow.claim(c, "omar", ids[3])).result(30)  # omar is on one of them
    with pytest.raises(WorkflowError, match="needs a reason"):
        writer.call(lambda c: work.dismiss_duplicates(c, "olga", story, " ")).result(30)
    out = writer.call(lambda c: work.dismiss_duplicates(c, "olga", story, "answered in one post",
                                                        keep=ids[2])).result(30)  # fmt: skip
    assert sorted(out.done) == sorted([ids[0], ids[1], ids[4]])
    assert out.skipped == {ids[3]: "claimed by omar"}
    got = states(db_path, ids)
    assert got[ids[2]] == ("new", None) and got[ids[3]] == ("claimed", "omar")
    conn = open_reader(db_path)
    notes = {r[0] for r in conn.execute("SELECT note FROM queue WHERE state = 'dismissed'")}
    assert notes == {"answered in one post"}
    for mid in out.done:
        assert list(audit.rows(conn, mid))[-1]["after"]["reason"] == "answered in one post"
    conn.close()


def test_the_queue_groups_open_items_by_story(writer: StoreWriter, db_path: Path) -> None:
    lone = ingest(writer, ["@lumio where is the nearest store to Lyon?"], start=50)
    ids = ingest(writer, BURNED[:4])
    story = one_story(db_path, ids)
    conn = open_reader(db_path)
    rows = queries.fetch_queue(conn, queries.QueueFilter())
    conn.close()
    got = [(r.mention_id, r.story, r.story_open) for r in rows]
    grouped = [g for g in got if g[1] == story]
    assert len(grouped) == 4 and {g[2] for g in grouped} == {4}
    first = [g[0] for g in got].index(grouped[0][0])
    assert [g[0] for g in got[first:first + 4]] == [g[0] for g in grouped]  # together
    assert any(g[0] == lone[0] and g[1] is None for g in got)


def test_a_disabled_operator_s_story_is_free_again(
    writer: StoreWriter, workflow: QueueWorkflow, demo_config: Config, db_path: Path
) -> None:
    from app.workflow.users import set_disabled

    first = ingest(writer, BURNED[:3])
    story = one_story(db_path, first)
    work = StoryWork(workflow)
    writer.call(lambda c: work.claim_story(c, "olga", story)).result(30)
    writer.call(lambda c: set_disabled(c, "olga", True, by="root")).result(30)
    later = ingest(writer, BURNED[3:5], start=10)
    outbox_round(demo_config, writer, workflow)
    assert set(states(db_path, later).values()) == {("new", None)}  # not handed to a disabled user
    conn = open_reader(db_path)
    assert conn.execute("SELECT count(*) FROM story_claims").fetchone() == (0,)
    assert [r["action"] for r in audit.rows(conn, f"story:{story}")] == ["story.claim", "story.release"]
    conn.close()
    assert writer.call(lambda c: workflow.claim_next(c, "omar")).result(30) is not None
