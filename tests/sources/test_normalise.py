"""Network shapes → Mention: the details each network's normaliser must get right."""

from __future__ import annotations

import re
from typing import Any

import httpx

from app.sources.base import FetchResult
from app.sources.bluesky import facet_text, make_facets, tid_from_key
from app.sources.mastodon import count_chars
from tests.peers.faults import status
from tests.sources.helpers import bluesky, context, mastodon, run


def test_reblog_counts_once_as_its_original_and_keeps_cw_and_emoji() -> None:
    original = status(10, "<p>Battery :lumio_hot: again</p>") | {
        "spoiler_text": "phone rant", "sensitive": True,
        "emojis": [{"shortcode": "lumio_hot", "url": "https://m.test/e.png"}],
        "mentions": [{"id": "99", "acct": "lumio@brand.test", "username": "lumio"}],
    }  # fmt: skip
    boost = status(11, "") | {"reblog": original, "account": {"acct": "bob@else.test"}}
    pages = [[boost, original]]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=pages[0])

    src = mastodon("https://m.test", context(accounts=["@lumio@brand.test"]), backfill_pages=1)

    async def go() -> FetchResult:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as c:
            return await src.fetch(c, {})

    result = run(go())
    assert len(result.mentions) == 1
    m = result.mentions[0]
    assert (m.native_id, m.text, m.author) == ("10", "Battery :lumio_hot: again", "@ana@m.test")
    assert m.content_warning == "phone rant" and m.sensitive
    assert m.directed_at_us  # it mentions our brand account
    assert m.engagement == 3 and m.author_followers == 12


def test_mastodon_counts_links_and_remote_mentions_like_the_server() -> None:
    text = "@ana@very.long.example.social see https://lumio.example/" + "x" * 80
    assert count_chars(text) == len("@ana see ") + 23


def test_facets_use_byte_offsets_and_show_full_links() -> None:
    text = "😍 naïve #lumio at lumio.example/a…"
    start = len("😍 naïve #lumio at ".encode())
    facets = [{"index": {"byteStart": start, "byteEnd": len(text.encode())},
               "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://lumio.example/a/b"}]},
              {"index": {"byteStart": 999, "byteEnd": 1000}, "features": []}]  # fmt: skip
    assert facet_text(text, facets) == "😍 naïve #lumio at https://lumio.example/a/b"
    made = make_facets("¿Ves #lumio? https://lumio.example/help.")
    spans = {f["features"][0]["$type"].rsplit("#")[1]: f["index"] for f in made}
    raw = "¿Ves #lumio? https://lumio.example/help.".encode()
    assert raw[spans["tag"]["byteStart"]:spans["tag"]["byteEnd"]] == b"#lumio"
    assert raw[spans["link"]["byteStart"]:spans["link"]["byteEnd"]] == b"https://lumio.example/help"


def test_reply_record_keys_are_valid_stable_tids() -> None:
    a, b = tid_from_key("queue-1"), tid_from_key("queue-2")
    assert a == tid_from_key("queue-1") and a != b
    for tid in (a, b):
        assert re.fullmatch(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}", tid)


def test_bluesky_labels_and_replies() -> None:
    view: dict[str, Any] = {
        "uri": "at://did:plc:ana/app.bsky.feed.post/3k1", "cid": "bafy1",
        "author": {"did": "did:plc:ana", "handle": "ana.test", "displayName": "Ana"},
        "record": {"text": "look", "createdAt": "2030-01-01T00:00:00Z", "langs": ["en"],
                   "labels": {"values": [{"val": "graphic-media"}]},
                   "reply": {"root": {"uri": "at://r/app.bsky.feed.post/1", "cid": "c1"},
                             "parent": {"uri": "at://p/app.bsky.feed.post/2", "cid": "c2"}},
                   "embed": {"$type": "app.bsky.embed.external",
                             "external": {"uri": "https://lumio.example/", "title": "Lumio"}}},
        "indexedAt": "2026-11-24T01:00:00.000Z", "likeCount": 3, "repostCount": 1,
    }  # fmt: skip
    m = bluesky("https://pds.test").normalise(view)
    assert m.created_at.isoformat() == "2026-11-24T01:00:00+00:00"  # a clock ahead is capped
    assert m.sensitive and m.content_warning == "graphic-media"
    assert m.text == "look\nLumio https://lumio.example/"
    assert m.reply_ref == {"uri": view["uri"], "cid": "bafy1",
                           "root": {"uri": "at://r/app.bsky.feed.post/1", "cid": "c1"}}  # fmt: skip
    assert m.in_reply_to == "at://p/app.bsky.feed.post/2" and m.engagement == 4


def test_search_where_the_server_allows_it_and_skips_where_it_does_not() -> None:
    searched: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v2/search":
            searched.append(request.url.params["q"])
            if request.url.params["q"] == "globex":
                return httpx.Response(503, text="<html><title>Search is disabled</title></html>",
                                      headers={"Content-Type": "text/html"})  # fmt: skip
            assert request.url.params["type"] == "statuses"
            return httpx.Response(200, json={"accounts": [], "hashtags": [],
                                             "statuses": [status(21)]})  # fmt: skip
        return httpx.Response(200, json=[status(20)])

    src = mastodon("https://m.test", queries=["lumio phone", "globex"])

    async def go() -> tuple[FetchResult, FetchResult]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as c:
            first = await src.fetch(c, {})
            return first, await src.fetch(c, first.cursor)

    first, second = run(go())
    assert sorted(m.native_id for m in first.mentions) == ["20", "21"]
    disabled = first.cursor["streams"]["search:globex"]
    assert "Search is disabled" in disabled["note"]
    assert any("Search is disabled" in w for w in second.warnings)  # the health says so
    globex = [q for q in searched if q == "globex"]
    assert len(globex) == 1  # globex is not asked again within the hour
    assert second.cursor["streams"]["search:globex"] == disabled  # remembered across polls


def test_no_backfill_starts_from_now() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if "min_id" in request.url.params:
            return httpx.Response(200, json=[status(31)])
        return httpx.Response(200, json=[status(30), status(29)])

    src = mastodon("https://m.test", backfill_pages=0)

    async def go() -> tuple[FetchResult, FetchResult]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as c:
            first = await src.fetch(c, {})
            return first, await src.fetch(c, first.cursor)

    first, second = run(go())
    assert first.mentions == [] and first.cursor["streams"]["tag:lumio"]["min_id"] == "30"
    assert [m.native_id for m in second.mentions] == ["31"]


def test_bluesky_reads_a_late_indexed_post_below_the_watermark_once() -> None:
    def post(rkey: str, when: str) -> dict[str, Any]:
        return {"uri": f"at://did:plc:ana/app.bsky.feed.post/{rkey}", "cid": f"c{rkey}",
                "author": {"handle": "ana.test"}, "indexedAt": when,
                "record": {"text": f"lumio {rkey}", "createdAt": when}}  # fmt: skip

    a = post("a", "2026-11-24T02:00:10.000Z")
    late = post("late", "2026-11-24T02:00:08.000Z")  # composed earlier, indexed after our poll
    old = post("old", "2026-11-24T01:00:00.000Z")
    pages = [[a, old], [a, late, old], [a, late, old]]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("createSession"):
            return httpx.Response(200, json={"accessJwt": "ACCESS-JWT-1", "refreshJwt": "REFRESH-JWT-1",
                                             "did": "did:plc:lumio", "handle": "lumio.test"})  # fmt: skip
        return httpx.Response(200, json={"posts": pages.pop(0)})

    src = bluesky("https://pds.test", context({"PW": "pw"}), handle="lumio.test",
                  password_env="PW", notifications=False)  # fmt: skip

    async def go() -> list[list[str]]:
        cursor: dict[str, Any] = {}
        seen = []
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as c:
            for _ in range(3):
                result = await src.fetch(c, cursor)
                cursor = result.cursor
                seen.append([m.text for m in result.mentions])
        assert "JWT-1" not in str(cursor)  # tokens live in memory only, never in the cursor
        return seen

    assert run(go()) == [["lumio a", "lumio old"], ["lumio late"], []]


def test_mastodon_rereads_the_last_minutes_for_late_federated_posts() -> None:
    def snowflake(seconds: float) -> int:
        return int((1_795_500_000 + seconds) * 1000) << 16

    a, b, late = snowflake(0), snowflake(1), snowflake(-120)  # late: created earlier, seen later
    server = [[a], [late, a, b], [late, a, b]]

    def handler(request: httpx.Request) -> httpx.Response:
        above = int(request.url.params.get("min_id", 0))
        ids = sorted(i for i in server[0] if i > above)
        server.pop(0)
        return httpx.Response(200, json=[status(i) for i in reversed(ids)])

    src = mastodon("https://m.test")

    async def go() -> list[list[str]]:
        cursor: dict[str, Any] = {}
        out = []
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as c:
            for _ in range(3):
                result = await src.fetch(c, cursor)
                cursor = result.cursor
                out.append(sorted(m.native_id for m in result.mentions))
        return out

    assert run(go()) == [[str(a)], sorted([str(late), str(b)]), []]


def test_odd_shapes_from_a_hostile_server_are_skipped_not_fatal() -> None:
    odd: list[Any] = [
        status(40) | {"account": "not-an-object"},
        status(41) | {"created_at": "yesterday"},
        status(42) | {"mentions": "nope", "media_attachments": [None], "poll": {"options": [{}]}},
        "just a string",
        status(43),
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=odd)

    async def go() -> FetchResult:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as c:
            return await mastodon("https://m.test").fetch(c, {})

    assert sorted(m.native_id for m in run(go()).mentions) == ["42", "43"]
