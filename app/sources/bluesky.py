"""Bluesky (atproto): post search, the account's mentions and replies, and answering them.

The source logs in with the handle and an app password (``createSession``), keeps the
tokens in memory only (never in the cursor, which is stored), refreshes the session
when the server says it expired, and logs in again if the refresh is refused too.
Search and notifications are read newest first down to a watermark kept in the cursor
(the newest ``indexedAt`` already seen), at most a few pages per poll. Rich-text facets
become readable text; a reply names its thread's root and parent (uri + cid) and is
created under a record key derived from the idempotency key, so a retry finds the post
it already made instead of making a second one.
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import grapheme
import httpx

from app.config import BlueskySourceConfig
from app.model import Mention
from app.secrets import remember
from app.sources import http
from app.sources.base import (
    AuthError,
    BadResponse,
    Cursor,
    FetchResult,
    Finding,
    NothingToRead,
    ReplyResult,
    Source,
    SourceContext,
    SourceError,
)
from app.sources.html import clean_text

log = logging.getLogger(__name__)

GRAPHEME_LIMIT = 300
#: how far below the watermark posts are read again (indexing lags; see _read_stream)
OVERLAP = timedelta(minutes=5)
#: uris remembered inside that window, per stream
MAX_RECENT = 1000
POST = "app.bsky.feed.post"
_SENSITIVE = {"porn", "sexual", "nudity", "graphic-media", "gore", "sexual-figurative"}
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")
_TAG = re.compile(r"(?<![\w#])#([^\s#.,;:!?()\[\]\"']{1,64})")
_SESSION_ERRORS = {"ExpiredToken", "InvalidToken"}


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def tid_from_key(key: str) -> str:
    """A valid atproto TID derived from ``key``: the same key always names the same record.

    The timestamp part is placed in the past (2020–2023) so no server takes it for a
    clock running ahead; the clock-id bits come from the key too.
    """
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
    micros = 1_600_000_000_000_000 + digest % 100_000_000_000_000
    value = (micros << 10) | (digest >> 54)
    out = ""
    for _ in range(13):
        out = _TID_ALPHABET[value & 31] + out
        value >>= 5
    return out


def facet_text(text: str, facets: Any) -> str:
    """Post text with link facets shown as their full address (the text may shorten them)."""
    if not isinstance(facets, list) or not facets:
        return text
    data = text.encode("utf-8")
    spans: list[tuple[int, int, str]] = []
    for facet in facets:
        try:
            start = int(facet["index"]["byteStart"])
            end = int(facet["index"]["byteEnd"])
            features = facet.get("features") or []
        except (KeyError, TypeError, ValueError):
            continue
        if not 0 <= start < end <= len(data):
            continue
        for feature in features:
            if isinstance(feature, dict) and str(feature.get("$type", "")).endswith("#link"):
                uri = str(feature.get("uri") or "")
                shown = data[start:end].decode("utf-8", "replace")
                if uri.startswith(("http://", "https://")) and not _same_link(shown, uri):
                    spans.append((start, end, uri))
    if not spans:
        return text
    spans.sort()
    out = bytearray()
    pos = 0
    for start, end, uri in spans:
        if start < pos:
            continue  # overlapping facets: keep the first
        out += data[pos:start] + uri.encode()
        pos = end
    out += data[pos:]
    return out.decode("utf-8", "replace")


def _same_link(shown: str, uri: str) -> bool:
    bare = re.sub(r"^https?://(www\.)?", "", uri).rstrip("/")
    shown = re.sub(r"^https?://(www\.)?", "", shown).rstrip("/").rstrip("…").rstrip(".")
    return bare == shown


def make_facets(text: str) -> list[dict[str, Any]]:
    """Link and hashtag facets for a reply we post (byte offsets, as atproto wants)."""
    facets: list[dict[str, Any]] = []

    def index(m: re.Match[str]) -> dict[str, int]:
        return {
            "byteStart": len(text[: m.start()].encode()),
            "byteEnd": len(text[: m.end()].encode()),
        }

    for m in _URL.finditer(text):
        facets.append({"index": index(m), "features": [
            {"$type": "app.bsky.richtext.facet#link", "uri": m.group(0)}]})  # fmt: skip
    for m in _TAG.finditer(text):
        facets.append({"index": index(m), "features": [
            {"$type": "app.bsky.richtext.facet#tag", "tag": m.group(1)}]})  # fmt: skip
    return facets


def nothing_to_read(config: BlueskySourceConfig) -> str | None:
    """Why a Bluesky source so configured can read nothing at all, or None if it can read."""
    if config.queries or config.notifications:
        return None
    return "nothing to read: no queries, and notifications are off"


class BlueskySource(Source):
    type = "bluesky"
    secret_keys = ("password_env",)
    config: BlueskySourceConfig

    def __init__(self, config: BlueskySourceConfig, context: SourceContext) -> None:
        super().__init__(config, context)
        self.base = config.base_url.rstrip("/")
        self._session: dict[str, str] | None = None
        ours = [
            a.lstrip("@").casefold() for a in context.brand_accounts if "@" not in a.lstrip("@")
        ]
        if config.handle:
            ours.append(config.handle.lstrip("@").casefold())
        self._our_handles = set(ours)
        self._warnings: list[str] = []

    # ── session ─────────────────────────────────────────────────────────────────────
    def _password(self) -> str | None:
        return self.secret(self.config.password_env)

    def _auth_hint(self) -> str:
        return (
            f"check the handle {self.config.handle!r} and the app password in "
            f"{self.config.password_env} (an app password, not the account password)"
        )

    @property
    def did(self) -> str | None:
        return self._session["did"] if self._session else None

    async def _login(self, client: httpx.AsyncClient) -> dict[str, str]:
        if not self.config.handle or not self.config.password_env:
            raise AuthError("Bluesky needs handle and password_env in the source's config")
        await self.resolve_secrets()
        password = self._password()
        if not password:
            raise AuthError(f"the app password secret {self.config.password_env} is not set")
        resp = await self._raw(
            client, "POST", "com.atproto.server.createSession",
            body={"identifier": self.config.handle.lstrip("@"), "password": password}, token=None,
        )  # fmt: skip
        if resp.status in (400, 401) and _xrpc_error(resp) in {"AuthenticationRequired", ""}:
            raise AuthError(
                f"{resp.where}: the handle or app password was refused — {self._auth_hint()}"
            )
        http.raise_for_status(resp, auth_hint=self._auth_hint())
        self._session = self._session_from(resp)
        log.info("%s: logged in as %s", self.name, self._session["handle"])
        return self._session

    def _session_from(self, resp: http.Response) -> dict[str, str]:
        data = resp.json()
        try:
            session = {
                "access": str(data["accessJwt"]),
                "refresh": str(data["refreshJwt"]),
                "did": str(data["did"]),
                "handle": str(data.get("handle") or self.config.handle or ""),
            }
        except (KeyError, TypeError):
            raise BadResponse(f"{resp.where} did not return a session") from None
        remember(session["access"], session=True)  # session tokens are secrets too: masked
        remember(session["refresh"], session=True)
        return session

    async def _refresh(self, client: httpx.AsyncClient) -> None:
        assert self._session is not None
        resp = await self._raw(
            client, "POST", "com.atproto.server.refreshSession", token=self._session["refresh"]
        )
        if resp.status >= 400:
            log.info("%s: session refresh refused (%s); logging in again", self.name,
                     _xrpc_error(resp) or resp.status)  # fmt: skip
            self._session = None
            await self._login(client)
            return
        fresh = self._session_from(resp)
        self._session.update(fresh)

    async def _raw(
        self, client: httpx.AsyncClient, method: str, nsid: str, *, params: Any = None,
        body: Any = None, token: str | None,
    ) -> http.Response:  # fmt: skip
        headers = {"Accept": "application/json", "User-Agent": self.context.user_agent}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return await http.request(
            client, method, f"{self.base}/xrpc/{nsid}", params=params, headers=headers,
            json_body=body, timeout_s=self.config.timeout_s,
            max_bytes=self.context.max_body_bytes, check=False, home=self.base,
        )  # fmt: skip

    async def _xrpc(
        self, client: httpx.AsyncClient, method: str, nsid: str, *, params: Any = None,
        body: Any = None, check: bool = True,
    ) -> http.Response:  # fmt: skip
        """An authenticated XRPC call; an expired session is refreshed and the call retried once."""
        if self._session is None:
            await self._login(client)
        assert self._session is not None
        resp = await self._raw(client, method, nsid, params=params, body=body,
                               token=self._session["access"])  # fmt: skip
        if resp.status in (400, 401) and _xrpc_error(resp) in _SESSION_ERRORS:
            await self._refresh(client)
            resp = await self._raw(client, method, nsid, params=params, body=body,
                                   token=self._session["access"])  # fmt: skip
        if check:
            http.raise_for_status(resp, auth_hint=self._auth_hint())
        return resp

    # ── reading ─────────────────────────────────────────────────────────────────────
    async def fetch(self, client: httpx.AsyncClient, cursor: Cursor) -> FetchResult:
        self._warnings = []
        idle = nothing_to_read(self.config)
        if idle:
            raise NothingToRead(idle)
        streams = dict(cursor.get("streams", {}))
        found: dict[str, Mention] = {}
        waits: list[float] = []
        keys = [f"search:{q}" for q in self.config.queries]
        if self.config.notifications:
            keys.append("notifications")
        for key in keys:
            items, state, resp = await self._read_stream(client, key, dict(streams.get(key, {})))
            streams[key] = state
            if resp is not None and (wait := http.rate_limit_wait(resp.headers, reserve=5)):
                waits.append(wait)
            for mention in items:
                seen = found.get(mention.native_id)
                if seen is not None:
                    seen.directed_at_us = seen.directed_at_us or mention.directed_at_us
                else:
                    found[mention.native_id] = mention
        return FetchResult(
            mentions=list(found.values()),
            cursor={"streams": streams},
            next_in_s=max(waits) if waits else None,
            warnings=list(dict.fromkeys(self._warnings)),
        )

    async def _read_stream(
        self, client: httpx.AsyncClient, key: str, state: dict[str, Any]
    ) -> tuple[list[Mention], dict[str, Any], http.Response | None]:
        """Newest first, page by page, down to the watermark (or a bounded number of pages).

        ``indexedAt`` can lag behind: the AppView reports min(createdAt, index time), so a
        post composed a moment before our last poll may be indexed after it with an older
        time. Posts within ``OVERLAP`` of the watermark are therefore read again and told
        apart by the uris remembered for that window.
        """
        mark = parse_time(state.get("newest"))
        recent: dict[str, datetime] = {}
        for uri, when_text in state.get("recent", []):
            if (when := parse_time(when_text)) is not None:
                recent[str(uri)] = when
        floor = mark - OVERLAP if mark is not None else None
        pages = max(1, self.config.backfill_pages if mark is None else self.config.catch_up_pages)
        page_cursor: str | None = None
        cursors_seen: set[str] = set()
        out: list[Mention] = []
        newest: datetime | None = mark
        resp: http.Response | None = None
        for _ in range(pages):
            params: dict[str, Any] = {"limit": self.config.page_size}
            if page_cursor:
                params["cursor"] = page_cursor
            if key == "notifications":
                resp = await self._xrpc(client, "GET", "app.bsky.notification.listNotifications",
                                        params=params)  # fmt: skip
                items, next_cursor = _page(resp, "notifications")
            else:
                params.update(q=key.removeprefix("search:"), sort="latest")
                resp = await self._xrpc(client, "GET", "app.bsky.feed.searchPosts", params=params)
                items, next_cursor = _page(resp, "posts")
            reached = False
            fresh = 0
            for item in items:
                when = parse_time(item.get("indexedAt"))
                uri = str(item.get("uri") or "")
                if when is None or not uri:
                    continue
                if floor is not None and when < floor:
                    reached = True
                    continue
                if uri in recent:
                    continue
                recent[uri] = when
                fresh += 1
                if newest is None or when > newest:
                    newest = when
                mention = self._from_item(item, notification=key == "notifications")
                if mention is not None:
                    out.append(mention)
            if next_cursor and next_cursor in cursors_seen:
                # a server handing back a cursor it gave before would page in a circle
                self._warnings.append(f"the server repeated a page cursor ({key}): "
                                      "paging stopped there")  # fmt: skip
                break
            if next_cursor:
                cursors_seen.add(next_cursor)
            page_cursor = next_cursor
            # newest first: a page with nothing unread means everything below was read too
            if reached or not fresh or not page_cursor or len(items) < self.config.page_size:
                break
        if mark is None and self.config.backfill_pages == 0:
            out = []  # start from now: the page only told us where "now" is
        if newest is not None:
            keep = sorted(
                ((u, w) for u, w in recent.items() if w >= newest - OVERLAP),
                key=lambda pair: pair[1],
            )[-MAX_RECENT:]
            state = {"newest": newest.isoformat(), "recent": [[u, w.isoformat()] for u, w in keep]}
        return out, state, resp

    def _from_item(self, item: dict[str, Any], *, notification: bool) -> Mention | None:
        try:
            if notification:
                if item.get("reason") not in {"mention", "reply", "quote"}:
                    return None
                return self.normalise(item, directed_at_us=True)
            return self.normalise(item)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            log.warning("%s: skipped a post that did not parse: %s", self.name, exc)
            return None

    def normalise(self, view: dict[str, Any], *, directed_at_us: bool = False) -> Mention:
        """A post view (search) or notification → a :class:`Mention`."""
        uri = str(view["uri"])
        cid = str(view["cid"])
        record = view.get("record") or {}
        author = view.get("author") or {}
        handle = str(author.get("handle") or author.get("did") or "")
        text = clean_text(facet_text(str(record.get("text") or ""), record.get("facets")))
        text = self._with_embed(text, record.get("embed"))
        indexed = parse_time(view.get("indexedAt"))
        created = parse_time(record.get("createdAt")) or indexed
        if created is None:
            raise ValueError(f"post {uri} has no valid createdAt")
        if indexed is not None and created > indexed:
            created = indexed  # a clock ahead of the server's
        labels = [str(lab.get("val")) for lab in view.get("labels") or [] if isinstance(lab, dict)]
        self_labels = (record.get("labels") or {}).get("values") or []
        labels += [str(lab.get("val")) for lab in self_labels if isinstance(lab, dict)]
        labels = [
            v for v in dict.fromkeys(labels) if v and v != "None" and not v.startswith("!no-")
        ]
        reply = record.get("reply") or {}
        root = reply.get("root") if isinstance(reply.get("root"), dict) else None
        parent = reply.get("parent") if isinstance(reply.get("parent"), dict) else None
        if not directed_at_us:
            directed_at_us = self._is_for_us(record, text, parent)
        rkey = uri.rsplit("/", 1)[-1]
        langs = record.get("langs") or []
        return Mention(
            network="bluesky",
            native_id=uri,
            source=self.name,
            text=text.strip(),
            created_at=created,
            url=f"https://bsky.app/profile/{handle}/post/{rkey}" if handle else "",
            author=f"@{handle}" if handle else "",
            author_name=clean_text(str(author.get("displayName") or "")).strip(),
            author_followers=None,
            engagement=sum(
                int(view.get(k) or 0)
                for k in ("likeCount", "repostCount", "replyCount", "quoteCount")
            ),
            lang=str(langs[0]) if isinstance(langs, list) and langs else None,
            content_warning=", ".join(labels),
            sensitive=any(v in _SENSITIVE for v in labels),
            directed_at_us=directed_at_us,
            in_reply_to=str(parent["uri"]) if parent and parent.get("uri") else None,
            reply_ref={
                "uri": uri,
                "cid": cid,
                "root": {"uri": str(root["uri"]), "cid": str(root["cid"])}
                if root and root.get("uri") and root.get("cid")
                else {"uri": uri, "cid": cid},
            },
        )

    @staticmethod
    def _with_embed(text: str, embed: Any) -> str:
        if not isinstance(embed, dict):
            return text
        external = embed.get("external")
        if isinstance(external, dict):
            link = str(external.get("uri") or "")
            if link.startswith(("http://", "https://")) and link not in text:
                title = clean_text(str(external.get("title") or "")).strip()
                text = f"{text}\n{title} {link}".strip() if title else f"{text}\n{link}".strip()
        images = embed.get("images") or (embed.get("media") or {}).get("images") or []
        if images and not text.strip():
            alts = [
                clean_text(str(i.get("alt") or "")).strip() for i in images if isinstance(i, dict)
            ]
            text = "\n".join(f"[{a}]" if a else "[image]" for a in alts)
        return text

    def _is_for_us(self, record: dict[str, Any], text: str, parent: dict[str, Any] | None) -> bool:
        did = self.did
        if did and parent and str(parent.get("uri", "")).startswith(f"at://{did}/"):
            return True
        for facet in record.get("facets") or []:
            for feature in (facet or {}).get("features") or []:
                if isinstance(feature, dict) and did and feature.get("did") == did:
                    return True
        lowered = text.casefold()
        return any(f"@{h}" in lowered for h in self._our_handles)

    # ── doctor ──────────────────────────────────────────────────────────────────────
    async def check(self, client: httpx.AsyncClient) -> list[str]:
        await self.resolve_secrets()
        try:
            await self._raw(client, "GET", "com.atproto.server.describeServer", token=None)
        except SourceError as exc:
            return [f"{self.base}: {exc.reason}"]
        if not self.config.handle or not self.config.password_env:
            return ["no handle/password_env: Bluesky search and notifications need a login"]
        try:
            await self._login(client)
        except SourceError as exc:
            return [exc.reason]
        return []

    async def probe(self, client: httpx.AsyncClient) -> list[Finding]:
        """The server and the login, then each search query and the notifications."""
        problems = await self.check(client)
        if problems:
            return [Finding("bad", p) for p in problems]
        found = [Finding("ok", f"{self.base} reachable, logged in as {self.config.handle}")]
        for query in self.config.queries:
            try:
                resp = await self._xrpc(client, "GET", "app.bsky.feed.searchPosts",
                                        params={"q": query, "limit": 5, "sort": "latest"})  # fmt: skip
                posts, _ = _page(resp, "posts")
            except SourceError as exc:
                found.append(Finding("bad", f"search {query!r}: {exc.reason}"))
                continue
            if posts:
                found.append(Finding("ok", f"search {query!r}: {len(posts)} recent posts"))
            else:
                found.append(Finding("note", f"search {query!r}: nothing found yet"))
        if self.config.notifications:
            try:
                resp = await self._xrpc(client, "GET", "app.bsky.notification.listNotifications",
                                        params={"limit": 5})  # fmt: skip
                items, _ = _page(resp, "notifications")
                found.append(Finding("ok", f"notifications: readable ({len(items)} recent)"))
            except SourceError as exc:
                found.append(Finding("bad", f"notifications: {exc.reason}"))
        return found

    # ── replying ────────────────────────────────────────────────────────────────────
    def reply_limit(self) -> int | None:
        return GRAPHEME_LIMIT

    async def thread(self, client: httpx.AsyncClient, reply_ref: dict[str, Any]) -> list[Mention]:
        """The parents of a post (``app.bsky.feed.getPostThread``), oldest first."""
        uri = str(reply_ref.get("uri") or "")
        if not uri.startswith("at://"):
            return []
        resp = await self._xrpc(client, "GET", "app.bsky.feed.getPostThread",
                                params={"uri": uri, "depth": 0, "parentHeight": 20})  # fmt: skip
        data = resp.json()
        node = data.get("thread") if isinstance(data, dict) else None
        out: list[Mention] = []
        node = node.get("parent") if isinstance(node, dict) else None
        while isinstance(node, dict) and isinstance(node.get("post"), dict):
            mention = self._from_item(node["post"], notification=False)
            if mention is not None:
                out.append(mention)
            node = node.get("parent")
        return out[::-1]

    async def find_own_reply(
        self, client: httpx.AsyncClient, reply_ref: dict[str, Any], text: str
    ) -> ReplyResult | None:
        """Our reply to ``reply_ref`` with this text, among the post's replies (getPostThread).

        Replies are created under a record key derived from the idempotency key, so a retry
        normally finds its own record; this finds one made under another key (a send the
        outbox retried with a fresh key, or one made by a second station).
        """
        uri = str(reply_ref.get("uri") or "")
        if not uri.startswith("at://"):
            return None
        resp = await self._xrpc(client, "GET", "app.bsky.feed.getPostThread",
                                params={"uri": uri, "depth": 1, "parentHeight": 0})  # fmt: skip
        data = resp.json()
        node = data.get("thread") if isinstance(data, dict) else None
        replies = node.get("replies") if isinstance(node, dict) else None
        did = self.did
        wanted = " ".join(clean_text(text).split())
        for reply in replies if isinstance(replies, list) else []:
            post = reply.get("post") if isinstance(reply, dict) else None
            if not isinstance(post, dict) or not post.get("uri"):
                continue
            if (post.get("author") or {}).get("did") != did:
                continue
            record = post.get("record") or {}
            parent = (record.get("reply") or {}).get("parent") or {}
            if parent.get("uri") != uri:
                continue
            if " ".join(clean_text(str(record.get("text") or "")).split()) == wanted:
                found = str(post["uri"])
                return ReplyResult(native_id=found, url=self._web_url(found))
        return None

    async def reply(
        self, client: httpx.AsyncClient, reply_ref: dict[str, Any], text: str, idempotency_key: str
    ) -> ReplyResult:
        text = clean_text(text).strip()
        length = grapheme.length(text)
        if length > GRAPHEME_LIMIT:
            raise SourceError(f"the reply is {length} characters; Bluesky allows {GRAPHEME_LIMIT}")
        if not text:
            raise SourceError("the reply is empty")
        try:
            parent = {"uri": str(reply_ref["uri"]), "cid": str(reply_ref["cid"])}
            root_ref = reply_ref.get("root") or parent
            root = {"uri": str(root_ref["uri"]), "cid": str(root_ref["cid"])}
        except (KeyError, TypeError):
            raise SourceError("this item cannot be answered on Bluesky (no uri/cid)") from None
        if self._session is None:
            await self._login(client)
        assert self._session is not None
        did = self._session["did"]
        rkey = tid_from_key(idempotency_key)
        existing = await self._existing(client, did, rkey)
        if existing is not None:
            return existing
        record: dict[str, Any] = {
            "$type": POST,
            "text": text,
            "createdAt": datetime.now(UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "reply": {"root": root, "parent": parent},
        }
        if facets := make_facets(text):
            record["facets"] = facets
        resp = await self._xrpc(
            client, "POST", "com.atproto.repo.createRecord",
            body={"repo": did, "collection": POST, "rkey": rkey, "record": record}, check=False,
        )  # fmt: skip
        if resp.status >= 400:
            # a concurrent retry may have created it between our look and our write
            existing = await self._existing(client, did, rkey)
            if existing is not None:
                return existing
            http.raise_for_status(resp, auth_hint=self._auth_hint())
        data = resp.json()
        if not isinstance(data, dict) or not data.get("uri"):
            raise BadResponse(f"{resp.where} accepted the reply but did not return its uri")
        return ReplyResult(native_id=str(data["uri"]), url=self._web_url(str(data["uri"])))

    async def _existing(self, client: httpx.AsyncClient, did: str, rkey: str) -> ReplyResult | None:
        resp = await self._xrpc(
            client, "GET", "com.atproto.repo.getRecord",
            params={"repo": did, "collection": POST, "rkey": rkey}, check=False,
        )  # fmt: skip
        if resp.status == 200:
            data = resp.json()
            if isinstance(data, dict) and data.get("uri"):
                return ReplyResult(native_id=str(data["uri"]), url=self._web_url(str(data["uri"])))
        if resp.status in (400, 404) and _xrpc_error(resp) in {"RecordNotFound", "NotFound", ""}:
            return None
        if resp.status >= 400:
            http.raise_for_status(resp, auth_hint=self._auth_hint())
        return None

    def _web_url(self, uri: str) -> str:
        handle = self._session["handle"] if self._session else ""
        return f"https://bsky.app/profile/{handle}/post/{uri.rsplit('/', 1)[-1]}" if handle else ""

    async def aclose(self) -> None:
        self._session = None


def _xrpc_error(resp: http.Response) -> str:
    try:
        data = resp.json()
    except SourceError:
        return ""
    return str(data.get("error") or "") if isinstance(data, dict) else ""


def _page(resp: http.Response, key: str) -> tuple[list[dict[str, Any]], str | None]:
    """The items of one XRPC page and the cursor to the next (older) one."""
    data = resp.json()
    items = data.get(key) if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise BadResponse(f"{resp.where} answered without a {key!r} list")
    cursor = data.get("cursor")
    return [i for i in items if isinstance(i, dict)], str(cursor) if cursor else None
