"""RSS/Atom against feedparser's own test feeds, served on loopback with their declared headers."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest

from app.sources.base import BadResponse, FetchResult, SourceError
from tests.peers import feeds
from tests.peers.feeds import FeedServer
from tests.sources.helpers import client, rss, run

pytestmark = pytest.mark.peer


async def fetch_all(server: FeedServer, paths: list[str]) -> dict[str, FetchResult | SourceError]:
    out: dict[str, FetchResult | SourceError] = {}
    async with client() as c:
        for rel in paths:
            try:
                out[rel] = await rss(server.url(rel)).fetch(c, {})
            except SourceError as exc:
                out[rel] = exc
    return out


def test_every_well_formed_feed_ingests(feed_peer: FeedServer) -> None:
    paths = feeds.feeds("wellformed")
    assert len(paths) > 1000
    results = run(fetch_all(feed_peer, paths))
    errors = {p: r.reason for p, r in results.items() if isinstance(r, SourceError)}
    assert errors == {}
    entries = 0
    for result in results.values():
        assert isinstance(result, FetchResult)
        for m in result.mentions:
            entries += 1
            assert m.network == "rss" and m.native_id and m.source == "feed"
            assert m.created_at.tzinfo is not None and m.created_at.utcoffset().total_seconds() == 0
            assert "\ud800" not in m.text
            m.text.encode("utf-8")
            m.title.encode("utf-8")
    assert entries > 500


def test_ill_formed_feeds_give_a_clear_error_or_what_could_be_read(feed_peer: FeedServer) -> None:
    paths = feeds.feeds("illformed") + [p for p in feeds.feeds("encoding") if "bozo" in p]
    results = run(fetch_all(feed_peer, paths))
    kinds = Counter(type(r).__name__ for r in results.values())
    assert set(kinds) <= {"FetchResult", "BadResponse"}  # nothing else, and no crash
    for path in ("illformed/aaa_illformed.xml", "illformed/rss_empty_document.xml"):
        error = results[path]
        assert isinstance(error, BadResponse)
        assert "is not a readable RSS/Atom feed" in error.reason or "empty body" in error.reason
    assert kinds["BadResponse"] >= 2 and kinds["FetchResult"] >= 5


def test_entries_become_plain_mentions_with_stable_ids(feed_peer: FeedServer) -> None:
    rel = "wellformed/rss/item_description_escaped_markup.xml"

    async def go() -> tuple[FetchResult, FetchResult]:
        async with client() as c:
            src = rss(feed_peer.url(rel))
            return await src.fetch(c, {}), await src.fetch(c, {})

    first, second = run(go())
    assert [m.native_id for m in first.mentions] == [m.native_id for m in second.mentions]
    assert first.mentions[0].text == "Example description"  # <p>…</p> markup removed


def test_conditional_get_uses_etag_and_last_modified() -> None:
    """An unchanged feed costs a 304 with no body; the validators ride in the cursor."""
    seen: list[httpx.Headers] = []
    body = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item>'
            b"<guid>https://x.test/1</guid><title>One</title><description>&lt;b&gt;Hi&lt;/b&gt; "
            b"&amp;amp; bye</description><pubDate>Mon, 23 Nov 2026 10:00:00 +0200</pubDate>"
            b"</item></channel></rss>")  # fmt: skip

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers)
        if request.headers.get("if-none-match") == '"v1"':
            return httpx.Response(304)
        return httpx.Response(200, content=body, headers={
            "ETag": '"v1"', "Last-Modified": "Mon, 23 Nov 2026 10:00:00 GMT",
            "Content-Type": "application/rss+xml"})  # fmt: skip

    async def go() -> tuple[FetchResult, FetchResult]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as c:
            src = rss("https://globex.test/press.xml")
            first = await src.fetch(c, {})
            return first, await src.fetch(c, first.cursor)

    first, second = run(go())
    assert first.cursor == {"etag": '"v1"', "modified": "Mon, 23 Nov 2026 10:00:00 GMT"}
    m = first.mentions[0]
    assert (m.title, m.text, m.native_id) == ("One", "Hi & bye", "https://x.test/1")
    assert m.created_at.isoformat() == "2026-11-23T08:00:00+00:00"
    assert seen[1]["if-none-match"] == '"v1"'
    assert seen[1]["if-modified-since"] == "Mon, 23 Nov 2026 10:00:00 GMT"
    assert second.mentions == [] and second.cursor == first.cursor
