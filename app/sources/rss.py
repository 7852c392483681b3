"""RSS and Atom feeds (competitor news, press releases) through feedparser.

The feed is fetched here, with the same deadline and size cap as every source, and only
then handed to feedparser as bytes, so feedparser never opens a connection itself. A
conditional GET (``ETag``/``Last-Modified`` kept in the cursor) makes an unchanged feed
cost one empty 304. A feed feedparser can make sense of is ingested even if it is
slightly broken; one it cannot read at all is a :class:`BadResponse` naming the problem.

One bad entry never costs the others: character references no XML may hold (a lone
surrogate ``&#xD800;``, ``&#0;``) are repaired to U+FFFD before parsing, and if the parser
still gives up, the entries are read one by one and the one that fails is dropped (the
health says so). An entry dated in the future (9999) would sit on top of every feed as
"now" and never be pruned: it is dated when it was first seen, and its title says so.
"""

from __future__ import annotations

import asyncio
import calendar
import hashlib
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
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
#: a numeric character reference, also escaped once inside HTML content (``&amp;#xD800;``)
_CHARREF = re.compile(rb"&(amp;)?#(?:[xX]0*([0-9a-fA-F]{1,8})|0*([0-9]{1,10}));")
_ENTRY = re.compile(rb"<(item|entry)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
#: clocks differ a little; an entry dated further ahead than this is dated when seen
FUTURE_SLACK = timedelta(minutes=10)


@dataclass(slots=True)
class Parsed:
    """What was read of a feed: its header, its entries, and how many entries were dropped."""

    feed: Any
    entries: list[Any] = field(default_factory=list)
    dropped: int = 0


def repair_charrefs(body: bytes) -> bytes:
    """Character references to code points XML cannot hold become U+FFFD; the rest stay."""

    def fix(m: re.Match[bytes]) -> bytes:
        value = int(m.group(2), 16) if m.group(2) else int(m.group(3))
        allowed = value in (9, 10, 13) or 0x20 <= value <= 0xD7FF or 0xE000 <= value <= 0xFFFD
        if allowed or 0x10000 <= value <= 0x10FFFF:
            return m.group(0)
        return (b"&amp;" if m.group(1) else b"&") + b"#xFFFD;"

    return _CHARREF.sub(fix, body)


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
        warnings = []
        if parsed.dropped:
            warnings.append(f"dropped {parsed.dropped} feed entr{'y' if parsed.dropped == 1 else 'ies'} "
                            "that could not be read; the others were kept")  # fmt: skip
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
            try:
                mention = self.normalise(entry, feed_title, fetched)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                log.warning("%s: skipped a feed entry that did not parse: %s", self.name, exc)
                continue
            if mention.native_id not in seen:
                seen.add(mention.native_id)
                mentions.append(mention)
        return FetchResult(mentions=mentions, cursor=new_cursor, warnings=warnings)

    def parse(self, resp: http.Response) -> Parsed:
        """The feed's entries, or :class:`BadResponse` if there is no feed in the body."""
        if not resp.body.strip():
            raise BadResponse(f"{resp.where} sent an empty body instead of a feed")
        headers = {k.lower(): v for k, v in resp.headers.items() if k.lower() in
                   {"content-type", "content-location", "content-language"}}  # fmt: skip
        headers.setdefault("content-location", str(resp.url))
        body = repair_charrefs(resp.body)
        try:
            parsed = self._feedparser(body, headers)
        except Exception as exc:  # feedparser gave up on the whole body: save what can be saved
            log.warning("%s: the feed parser failed (%s); reading entry by entry", self.name,
                        type(exc).__name__)  # fmt: skip
            return self._entry_by_entry(body, headers, resp.where)
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
        return Parsed(feed=parsed.feed, entries=list(parsed.entries))

    @staticmethod
    def _feedparser(body: bytes, headers: dict[str, str]) -> Any:
        return feedparser.parse(body, response_headers=headers, sanitize_html=True,
                                resolve_relative_uris=False)  # fmt: skip

    def _entry_by_entry(self, body: bytes, headers: dict[str, str], where: str) -> Parsed:
        """Each entry parsed on its own inside the feed's own header; the ones that fail dropped."""
        spans = [m.span() for m in _ENTRY.finditer(body)]
        if not spans:
            raise BadResponse(f"{where} is not a readable RSS/Atom feed (the parser failed)")
        head = body[: spans[0][0]]
        tail = body[spans[-1][1]:]
        result = Parsed(feed={})
        try:
            result.feed = self._feedparser(head + tail, headers).feed
        except Exception:  # a header that cannot be read: the entries still can
            result.feed = {}
        for start, end in spans:
            try:
                parsed = self._feedparser(head + body[start:end] + tail, headers)
            except Exception:
                result.dropped += 1
                continue
            if parsed.entries:
                result.entries.extend(parsed.entries)
            else:
                result.dropped += 1
        if not result.entries:
            raise BadResponse(f"{where} is not a readable RSS/Atom feed (no entry could be read)")
        log.warning("%s: kept %d entries, dropped %d that could not be read", self.name,
                    len(result.entries), result.dropped)  # fmt: skip
        return result

    def normalise(self, entry: Any, feed_title: str, fetched: datetime) -> Mention:
        link = str(entry.get("link") or "")
        title = _plain(entry.get("title_detail") or entry.get("title"))
        summary = _plain(entry.get("summary_detail") or entry.get("summary"))
        if not summary:
            content = entry.get("content") or []
            summary = _plain(content[0]) if content else ""
        created = _when(entry) or fetched
        if created > fetched + FUTURE_SLACK:
            # a date ahead of now would sit on top as "now" for ever and never be pruned
            label = f"dated {created:%Y-%m-%d %H:%M} UTC, shown as first seen"
            title = f"{title} [{label}]" if title else f"[{label}]"
            created = fetched
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
