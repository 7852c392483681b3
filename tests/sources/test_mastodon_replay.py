"""Mastodon against real Mastodon 4.7.3 answers (Mastodon.py's recorded cassettes, replayed)."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import pytest

from app.model import Mention
from app.sources.base import AuthError, SourceError
from app.sources.mastodon import MastodonSource
from tests.peers import mastodon_replay
from tests.peers.mastodon_replay import TOKEN, Replay
from tests.sources.helpers import client, context, mastodon, run

pytestmark = pytest.mark.peer

TAG = "fgiztsshwiaqqiztpmmjbtvmescsculuvmgjgopwoeidbcrixp"  # 30 recorded toots, Link-paged by 10


def source(peer: Replay, **kw: Any) -> MastodonSource:
    ctx = context({"MASTO": TOKEN}, accounts=["@admin@127.0.0.1"])
    opts: dict[str, Any] = {"token_env": "MASTO", "hashtags": [TAG], "page_size": 10}
    opts.update(kw)
    return mastodon(peer.url, ctx, **opts)


def assert_plain_mention(m: Mention) -> None:
    assert m.network == "mastodon" and m.native_id.isdigit()
    assert m.created_at.tzinfo is not None and m.created_at.utcoffset() == UTC.utcoffset(None)
    assert "<" not in m.text and "&amp;" not in m.text
    assert m.reply_ref and m.reply_ref["status_id"] == m.native_id


def test_tag_timeline_backfills_a_bounded_number_of_pages_then_follows_min_id(
    mastodon_peer: Replay,
) -> None:
    src = source(mastodon_peer, backfill_pages=2)

    async def go() -> tuple[Any, list[Any]]:
        async with client() as c:
            first = await src.fetch(c, {})
            later = [await src.fetch(c, first.cursor)]
            while later[-1].more:
                later.append(await src.fetch(c, later[-1].cursor))
        return first, later

    first, later = run(go())
    texts = [m.text for m in first.mentions]
    assert len(first.mentions) == 20  # two pages of ten, then it stops going back
    assert texts[0] == f"Toot number 29! #{TAG}" and texts[-1] == f"Toot number 10! #{TAG}"
    for m in first.mentions:
        assert_plain_mention(m)
        assert m.author == "@mastodonpy_test_2@127.0.0.1" and m.lang
    newest = max(first.mentions, key=lambda m: int(m.native_id)).native_id
    state = first.cursor["streams"][f"tag:{TAG}"]
    oldest = min((m.native_id for m in first.mentions), key=int)
    assert state["min_id"] == newest and state["floor"] == oldest
    # the next poll re-reads the last minutes (never below the backfill) for late posts,
    # finds nothing it has not seen, and then asks for what is newer than the newest
    assert [m for r in later for m in r.mentions] == []
    asked = [r for r in mastodon_peer.requests if r["path"].endswith(TAG)]
    polls = [r["query"]["min_id"] for r in asked if "min_id" in r["query"]][-len(later):]
    assert polls[0] == oldest and polls[-1] == newest
    assert any("max_id" in r["query"] for r in asked)  # the backfill followed Link rel="next"


def test_a_full_page_of_news_says_more_is_ready(mastodon_peer: Replay) -> None:
    src = source(mastodon_peer)
    oldest_recorded = min(mastodon_peer.timelines[f"/api/v1/timelines/tag/{TAG}"], key=int)
    state = {"min_id": oldest_recorded, "recent": [oldest_recorded], "floor": oldest_recorded}
    cursor = {"streams": {f"tag:{TAG}": state}}

    async def go() -> list[Any]:
        out = []
        async with client() as c:
            result = await src.fetch(c, cursor)
            out.append(result)
            while result.more:
                result = await src.fetch(c, result.cursor)
                out.append(result)
        return out

    pages = run(go())
    ids = [m.native_id for page in pages for m in page.mentions]
    assert len(ids) == len(set(ids)) == 29  # everything after the oldest, each once
    assert [p.more for p in pages] == [True, True, False]


def test_hashtag_and_notification_mentions(mastodon_peer: Replay) -> None:
    src = source(mastodon_peer, hashtags=["hoot"], notifications=True)

    async def go() -> list[Mention]:
        async with client() as c:
            return (await src.fetch(c, {})).mentions

    found = {m.text: m for m in run(go())}
    hoot = found["#hoot (hashtag toot)"]
    assert hoot.author == "@mastodonpy_test_2@127.0.0.1" and not hoot.directed_at_us
    mention = found["@mastodonpy_test hello!"]
    assert mention.directed_at_us  # from notifications: it goes to the queue
    assert mention.author == "@admin@127.0.0.1"
    notif = next(r for r in mastodon_peer.requests if r["path"] == "/api/v1/notifications")
    assert notif["query"]["types[]"] == "mention"
    assert notif["headers"]["Authorization"] == f"Bearer {TOKEN}"


def test_reply_is_threaded_idempotent_and_length_checked(mastodon_peer: Replay) -> None:
    src = source(mastodon_peer)
    ref = {"status_id": "117440826670289215", "acct": "mastodonpy_test_2", "visibility": "public"}

    async def go() -> list[Any]:
        async with client() as c:
            first = await src.reply(c, ref, "same!", "queue-42-attempt")
            again = await src.reply(c, ref, "same!", "queue-42-attempt")
            with pytest.raises(SourceError, match="allows 500") as too_long:
                await src.reply(c, ref, "x" * 490, "queue-43")
        return [first, again, too_long.value]

    first, again, _ = run(go())
    assert first.native_id == again.native_id == "117440826677780974"
    assert mastodon_peer.created == ["117440826677780974"]  # the retry created nothing new
    posts = [r for r in mastodon_peer.requests if r["method"] == "POST"]
    assert len(posts) == 2  # the over-long reply was refused before sending
    import json

    body = json.loads(posts[0]["body"])
    assert body["in_reply_to_id"] == "117440826670289215"
    assert body["status"] == "@mastodonpy_test_2 same!" and body["visibility"] == "public"
    assert {p["headers"]["Idempotency-Key"] for p in posts} == {"queue-42-attempt"}
    assert src.reply_limit() == 500  # read from /api/v2/instance


def test_a_wrong_token_is_an_auth_error_naming_the_setting(mastodon_peer: Replay) -> None:
    src = mastodon(mastodon_peer.url, context({"MASTO": "not-the-token"}), token_env="MASTO",
                   notifications=True)  # fmt: skip

    async def go() -> None:
        async with client() as c:
            await src.fetch(c, {})

    with pytest.raises(AuthError, match="MASTO") as info:
        run(go())
    assert "not-the-token" not in str(info.value)


def test_every_recorded_status_normalises(mastodon_peer: Replay) -> None:
    """All statuses in all ~200 recordings: reblogs, CWs, polls, media, deleted ones."""
    src = source(mastodon_peer)
    seen = 0
    reblogs = 0
    warned = 0

    def statuses(body: Any) -> list[dict[str, Any]]:
        items = body if isinstance(body, list) else [body]
        out = []
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("status"), dict):
                item = item["status"]
            if isinstance(item, dict) and "account" in item and "visibility" in item:
                out.append(item)
        return out

    for _name, body in mastodon_replay.all_recorded_bodies():
        for status in statuses(body):
            m = src.normalise(status)
            assert m is not None
            assert_plain_mention(m)
            if status.get("reblog"):
                reblogs += 1
                assert m.native_id == status["reblog"]["id"]  # counted as its original
            if status.get("spoiler_text"):
                warned += 1
                assert m.content_warning == status["spoiler_text"] and m.sensitive
            seen += 1
    assert seen > 200 and reblogs >= 1 and warned >= 5


def test_thread_context_reads_the_recorded_context() -> None:
    """Mastodon 4.7.3's answer for a status with no ancestors, from its own recording."""
    from tests.peers.mastodon_replay import serve

    with serve(("test_status_context.yaml",)) as peer:
        src = source(peer)

        async def go() -> list[Mention]:
            async with client() as c:
                return await src.thread(c, {"status_id": "117440830896259821"})

        assert run(go()) == []
        (asked,) = [r for r in peer.requests if r["path"].endswith("/context")]
        assert asked["path"] == "/api/v1/statuses/117440830896259821/context"
        assert asked["headers"]["Authorization"] == f"Bearer {TOKEN}"

        async def missing() -> list[Mention]:
            async with client() as c:
                return await src.thread(c, {"status_id": "1"})

        with pytest.raises(SourceError, match="404"):
            run(missing())
