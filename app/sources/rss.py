"""RSS and Atom feeds (competitor news, press releases) through feedparser.

The feed is fetched here, with the same deadline and size cap as every source, and only
then handed to feedparser as bytes, so feedparser never opens a connection itself. A
conditional GET (``ETag``/``Last-Modified`` kept in the cursor) makes an unchanged feed
cost one empty 304. A feed feedparser can make sense of is ingested even if it is
slightly broken; one it cannot read at all is a :class:`BadResponse` naming the problem.
"""

from __future__ import annotations

import asyncio
import calendar
import hashlib
import logging
from datetime import UTC, datetime
from typing import Any

import feedparser
import httpx

from app.config import RssSourceConfig
from app.model import Mention
from app.sources import http
from app.sources.base import BadResponse, Cursor, FetchResult, Source, SourceContext
from app.sources.html import clean_text, html_to_text

log = logging.getLogger(__name__)

#: bozo reasons that lose nothing: the charset or media type was wrong but the feed was read
_SOFT = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
_ACCEPT = "application/atom+xml, application/rss+xml, application/rdf+xml;q=0.9, application/xml;q=0.8, text/xml;q=0.8, */*;q=0.1"


class RssSource(Source):
    type = "rss"
    config: RssSourceConfig

    def __init__(self, config: RssSourceConfig, context: SourceContext) -> None:
        super().__init__(config, context)

    async def _get(self, client: httpx.AsyncClient, cursor: Cursor) -> http.Response:
        headers = {"Accept": _ACCEPT, "User-Agent": self.context.user_agent}
        if cursor.get("etag"):
            headers["If-None-Match"] = str(cursor["etag"])
        if cursor.get("modified"):
            headers["If-Modified-Since"] = str(cursor["modified"])
        resp = await http.request(
            client, "GET", self.config.url, headers=headers, timeout_s=self.config.timeout_s,
            max_bytes=self.context.max_body_bytes, check=False,
            auth_hint="the feed needs credentials; watchfloor reads public feeds only",
        )  # fmt: skip
        if resp.status != 304:
            http.raise_for_status(resp)
        return resp

    async def fetch(self, client: httpx.AsyncClient, cursor: Cursor) -> FetchResult:
        resp = await self._get(client, cursor)
        if resp.status == 304:
            return FetchResult(mentions=[], cursor=dict(cursor))
        # parsing a big feed takes a while: off the event loop, which may be the GUI's
        parsed = await asyncio.to_thread(self.parse, resp)
        new_cursor: Cursor = {}
        if resp.headers.get("etag"):
            new_cursor["etag"] = resp.headers["etag"]
        if resp.headers.get("last-modified"):
            new_cursor["modified"] = resp.headers["last-modified"]
        fetched = datetime.now(UTC)
        feed_title = _plain(parsed.feed.get("title_detail") or parsed.feed.get("title"))
        mentions: list[Mention] = []
        seen: set[str] = set()
        for entry in parsed.entries[: self.config.max_entries]:
            mention = self.normalise(entry, feed_title, fetched)
            if mention.native_id not in seen:
                seen.add(mention.native_id)
                mentions.append(mention)
        return FetchResult(mentions=mentions, cursor=new_cursor)

    def parse(self, resp: http.Response) -> Any:
        """feedparser's result, or :class:`BadResponse` if there is no feed in the body."""
        if not resp.body.strip():
            raise BadResponse(f"{resp.where} sent an empty body instead of a feed")
        headers = {k.lower(): v for k, v in resp.headers.items() if k.lower() in
                   {"content-type", "content-location", "content-language"}}  # fmt: skip
        headers.setdefault("content-location", str(resp.url))
        parsed = feedparser.parse(resp.body, response_headers=headers, sanitize_html=True,
                                  resolve_relative_uris=False)  # fmt: skip
        problem = parsed.get("bozo_exception")
        soft = isinstance(problem, _SOFT)  # feedparser read it all; it only guessed the charset
        html = http.looks_like_html(resp.body, resp.headers.get("content-type", ""))
        if parsed.get("bozo") and not parsed.entries and (html or not soft):
            what = f"{type(problem).__name__}: {problem}" if problem else "not a feed"
            if html:
                what = "an HTML page, not a feed"
            raise BadResponse(f"{resp.where} is not a readable RSS/Atom feed ({_short(what)})")
        if parsed.get("bozo"):
            log.info("%s: the feed is not well-formed but readable: %s", self.name,
                     _short(str(parsed.get("bozo_exception"))))  # fmt: skip
        return parsed

    def normalise(self, entry: Any, feed_title: str, fetched: datetime) -> Mention:
        link = str(entry.get("link") or "")
        title = _plain(entry.get("title_detail") or entry.get("title"))
        summary = _plain(entry.get("summary_detail") or entry.get("summary"))
        if not summary:
            content = entry.get("content") or []
            summary = _plain(content[0]) if content else ""
        created = _when(entry) or fetched
        author = clean_text(str(entry.get("author") or "")).strip()
        return Mention(
            network="rss",
            native_id=self._native_id(entry, link, title, summary),
            source=self.name,
            text=summary or title,
            created_at=created,
            url=link if link.startswith(("http://", "https://")) else "",
            author=author or feed_title,
            author_name=feed_title,
            lang=(entry.get("language") or None),
            title=title,
        )

    def _native_id(self, entry: Any, link: str, title: str, summary: str) -> str:
        """Stable across polls: the entry's id, else its link, else a hash of its words.

        A bare id ("42") is only unique within its feed, so it is qualified by the feed URL.
        """
        ident = clean_text(str(entry.get("id") or "")).strip() or link
        if ident and (":" in ident):
            return ident
        if ident:
            return f"{self.config.url}#{ident}"
        digest = hashlib.sha256(f"{title}\n{summary}".encode()).hexdigest()[:24]
        return f"{self.config.url}#{digest}"

    async def check(self, client: httpx.AsyncClient) -> list[str]:
        from app.sources.base import SourceError

        try:
            self.parse(await self._get(client, {}))
        except SourceError as exc:
            return [exc.reason]
        return []


def _plain(value: Any) -> str:
    """A feedparser text construct (or plain string) as plain text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return html_to_text(value)
    text = str(value.get("value") or "")
    kind = str(value.get("type") or "text/html")
    if "html" in kind:
        return html_to_text(text)
    return " ".join(clean_text(text).split()) if "\n" not in text else clean_text(text).strip()


def _when(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
            except (OverflowError, ValueError, OSError, TypeError):
                continue
    return None


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
