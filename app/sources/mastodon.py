"""Mastodon: hashtag timelines, status search and the account's mentions.

Each stream (a hashtag, a search query, the notifications) keeps its own ``min_id`` in
the cursor. On first start a stream backfills a bounded number of pages going back
(Link ``rel="next"``); after that each poll asks for what is newer than the cursor and,
when a page comes back full, says more is ready so the poller fetches again at once.
A reblog counts as its original post, once. Replies carry an ``Idempotency-Key`` so a
retry after a lost answer never posts twice (Mastodon remembers keys for an hour); for
servers that ignore it, :meth:`MastodonSource.find_own_reply` finds a reply already made.

Mastodon-API servers differ, and each difference is said in the source's health rather
than passed over: a next-page link to another origin is refused (the token never leaves
``base_url``), a search that never finds anything is named, and a server that answers
nothing for ``min_id`` is read by ``since_id`` instead.
"""

from __future__ import annotations

import logging
import re
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from app.config import MastodonSourceConfig
from app.model import Mention
from app.sources import http
from app.sources.base import (
    AuthError,
    BadResponse,
    Cursor,
    FetchResult,
    Finding,
    NothingToRead,
    RateLimited,
    ReplyResult,
    Source,
    SourceContext,
    SourceError,
)
from app.sources.html import clean_text, html_to_text
from app.sources.http import origin_text, same_origin

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 500
#: seconds below the newest id re-read on every poll (late federation; see snowflake_before)
OVERLAP_S = 300.0
#: ids remembered inside that window, per stream
MAX_RECENT = 400
URL_LENGTH = 23  # Mastodon counts every link as 23 characters
_URL = re.compile(r"https?://\S+")
_ENGAGEMENT = ("reblogs_count", "favourites_count", "replies_count", "quotes_count")
_MENTION = re.compile(r"(?<![\w@])@([\w.-]+)@[\w.-]+\w")
#: how often an empty ``min_id`` answer is checked against the newest page
MIN_ID_CHECK_S = 600.0
#: pages read per poll by ``since_id`` (newest first) before the rest waits for the next poll
SINCE_ID_PAGES = 5
PRIVATE_VISIBILITY = {"private", "direct"}


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


def snowflake_before(status_id: str, seconds: float) -> str | None:
    """The Mastodon id ``seconds`` earlier than ``status_id``, if it is a snowflake.

    Mastodon ids are milliseconds << 16; a remote post gets an id from its own creation
    time, so one that federates late sorts below posts we already read. Servers with
    other id schemes (sequential notification ids, ULIDs) get ``None``: no overlap.
    """
    if not status_id.isdigit():
        return None
    millis = int(status_id) >> 16
    if not 1_300_000_000_000 < millis < 5_000_000_000_000:  # 2011 … 2128
        return None
    return str(max(0, millis - int(seconds * 1000)) << 16)


def id_key(status_id: str) -> tuple[int, str]:
    """Order Mastodon ids: numeric snowflakes compare by length, then text."""
    return (len(status_id), status_id)


def count_chars(text: str) -> int:
    """Length as Mastodon counts it: links are 23, ``@user@domain`` counts as ``@user``."""
    text = _URL.sub("x" * URL_LENGTH, text)
    text = _MENTION.sub(lambda m: "@" + m.group(1), text)
    return len(text)


def nothing_to_read(config: MastodonSourceConfig, *, has_token: bool) -> str | None:
    """Why a Mastodon source so configured can read nothing at all, or None if it can read."""
    if config.hashtags or config.queries or (config.notifications and has_token):
        return None
    if not config.notifications:
        why = "notifications are off"
    elif config.token_env:
        why = f"the token {config.token_env} for notifications is not set"
    else:
        why = "no token for notifications"
    return f"nothing to read: no hashtags or queries, and {why}"


def brand_accounts_on(host: str, accounts: list[str]) -> list[str]:
    """Our brand accounts that live on the server ``host`` (``@name@host``)."""
    host = host.casefold()
    return [a for a in accounts if a.lstrip("@").rpartition("@")[2].casefold() == host]


class MastodonSource(Source):
    type = "mastodon"
    secret_keys = ("token_env",)
    config: MastodonSourceConfig

    def __init__(self, config: MastodonSourceConfig, context: SourceContext) -> None:
        super().__init__(config, context)
        self.base = config.base_url.rstrip("/")
        self.host = httpx.URL(self.base).host or self.base
        self._limit: int | None = None
        self._me: dict[str, Any] | None = None
        self._ours = {self._full_acct(a) for a in context.brand_accounts if "." in a}
        self._warnings: list[str] = []

    # ── plumbing ────────────────────────────────────────────────────────────────────
    def _token(self) -> str | None:
        return self.secret(self.config.token_env)

    def _headers(self, *, auth: bool = True) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": self.context.user_agent}
        token = self._token() if auth else None
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def _auth_hint(self) -> str:
        if not self.config.token_env:
            return "this server needs an access token: set token_env in the source's config"
        return f"check the access token in {self.config.token_env} (and its scopes: read, write:statuses)"

    async def _get(self, client: httpx.AsyncClient, url: str, params: Any = None, *,
                   check: bool = True) -> http.Response:  # fmt: skip
        if not url.startswith(("http://", "https://")):
            url = self.base + url
        return await http.request(
            client, "GET", url, params=params, headers=self._headers(),
            timeout_s=self.config.timeout_s, max_bytes=self.context.max_body_bytes,
            check=check, auth_hint=self._auth_hint(), home=self.base,
        )  # fmt: skip

    def _full_acct(self, acct: str) -> str:
        acct = acct.strip().lstrip("@").casefold()
        return acct if "@" in acct else f"{acct}@{self.host.casefold()}"

    # ── reading ─────────────────────────────────────────────────────────────────────
    def _streams(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(cursor key, path, fixed params) for every stream this source follows."""
        limit = self.config.page_size
        out: list[tuple[str, str, dict[str, Any]]] = []
        for tag in self.config.hashtags:
            tag = tag.lstrip("#")
            out.append(
                (f"tag:{tag}", f"/api/v1/timelines/tag/{quote(tag, safe='')}", {"limit": limit})
            )
        for query in self.config.queries:
            out.append((f"search:{query}", "/api/v2/search",
                        {"q": query, "type": "statuses", "resolve": "false", "limit": limit}))  # fmt: skip
        if self.config.notifications and self._token():
            out.append(("notifications", "/api/v1/notifications",
                        {"types[]": "mention", "limit": min(limit, 80)}))  # fmt: skip
        return out

    async def fetch(self, client: httpx.AsyncClient, cursor: Cursor) -> FetchResult:
        await self.resolve_secrets()
        self._warnings = []
        idle = nothing_to_read(self.config, has_token=bool(self._token()))
        if idle:
            raise NothingToRead(idle)
        streams = dict(cursor.get("streams", {}))
        mentions: dict[str, Mention] = {}
        more = False
        waits: list[float] = []
        if self._token() and self._me is None:
            await self._verify(client)
        for key, path, params in self._streams():
            state = dict(streams.get(key, {}))
            if state.get("disabled_until", 0) > time.time():
                continue
            try:
                items, state, full, resp = await self._read_stream(client, key, path, params, state)
            except SourceError as exc:
                if key.startswith("search:") and not isinstance(exc, AuthError | RateLimited):
                    # full-text search is optional on Mastodon servers; say so and go on
                    log.warning("%s: search %r unavailable: %s", self.name, key[7:], exc.reason)
                    streams[key] = {**state, "disabled_until": time.time() + 3600,
                                    "note": f"search for {key[7:]!r} unavailable: {exc.reason}"}  # fmt: skip
                    continue
                raise
            streams[key] = state
            more = more or full
            wait = http.rate_limit_wait(resp.headers, reserve=5) if resp is not None else None
            if wait:
                waits.append(wait)
            for mention in items:
                seen = mentions.get(mention.native_id)
                if seen is not None:
                    seen.directed_at_us = seen.directed_at_us or mention.directed_at_us
                else:
                    mentions[mention.native_id] = mention
        next_in = max(waits) if waits else None
        notes = [str(st["note"]) for st in streams.values() if isinstance(st, dict) and st.get("note")]
        return FetchResult(
            mentions=list(mentions.values()),
            cursor={"streams": streams},
            more=more and next_in is None,
            next_in_s=next_in,
            warnings=list(dict.fromkeys(self._warnings + notes)),
        )

    async def _read_stream(
        self, client: httpx.AsyncClient, key: str, path: str, params: dict[str, Any],
        state: dict[str, Any],
    ) -> tuple[list[Mention], dict[str, Any], bool, http.Response | None]:  # fmt: skip
        """One poll of one stream: returns (mentions, new state, page was full, last response)."""
        limit = int(params["limit"])
        is_search = key.startswith("search:")
        old_state = state
        newest = state.get("min_id")
        items: list[Mention] = []
        if newest is None:
            # first start: newest page, then back through Link rel="next" for a bounded backfill
            pages = max(1, self.config.backfill_pages)
            url: str | None = path
            query: dict[str, Any] | None = dict(params)
            fetched: list[str] = []
            resp = None
            truncated = False  # stopped by the page budget, not by the end of the timeline
            for page in range(pages):
                assert url is not None
                resp = await self._get(client, url, query)
                raw = self._records(resp, key)
                ids = [str(r.get("id")) for r in raw if r.get("id") is not None]
                seen_before = set(fetched)
                if not ids or all(i in seen_before for i in ids):
                    break  # the end, or a next page that repeats one already read
                fetched.extend(i for i in ids if i not in seen_before)
                items.extend(self._normalise_many(
                    [r for r in raw if str(r.get("id")) not in seen_before], key))
                if is_search:
                    query = (
                        {**params, "max_id": min(ids, key=id_key)} if len(raw) >= limit else None
                    )
                    url = path if query else None
                else:
                    url, query = resp.link("next"), None
                if url and not same_origin(url, self.base):
                    # the token goes to base_url only; a hostile or misconfigured server
                    # cannot collect it by pointing the backfill elsewhere
                    self._warnings.append(
                        f"refused the next-page link of {key} to {origin_text(url)}: only "
                        f"{origin_text(self.base)} is asked (backfill stopped there)"
                    )
                    truncated = True
                    break
                if not url or len(raw) < limit:
                    break
                truncated = page == pages - 1
            top = max(fetched, key=id_key) if fetched else "0"
            # never re-read below a truncated backfill: that history was left out on purpose
            floor = min(fetched, key=id_key) if fetched and truncated else None
            state = self._state(top, fetched, set(), floor=floor, catching_up=False)
            if is_search:
                state.update(self._search_note(key, bool(fetched)))
            if self.config.backfill_pages == 0:
                items = []  # start from now: the page only told us where "now" is
            return items, state, False, resp
        if old_state.get("paging") == "since_id":
            return await self._read_since(client, key, path, params, old_state)
        floor = state.get("floor")
        ask = newest
        if not state.get("catching_up"):
            # re-read a few minutes below the newest id: late-federated posts land there
            before = snowflake_before(newest, OVERLAP_S)
            if before is not None:
                ask = max(before, floor, key=id_key) if floor else before
        resp = await self._get(client, path, {**params, "min_id": ask})
        raw = self._records(resp, key)
        if any(id_key(str(r["id"])) <= id_key(ask) for r in raw if r.get("id") is not None):
            # min_id asks for what is above it: a page that holds older ids ignored it, and
            # paging by it would read the same page for ever
            return await self._switch_to_since(client, key, path, params, old_state,
                                               "ignores min_id")  # fmt: skip
        recent = set(state.get("recent", []))
        checked = float(old_state.get("min_id_checked", 0.0))
        if not raw and time.time() - checked > MIN_ID_CHECK_S:
            # nothing new, or a server that answers nothing for min_id: the newest page tells
            probe = await self._get(client, path, params)
            newer = [r for r in self._records(probe, key)
                     if r.get("id") is not None and id_key(str(r["id"])) > id_key(newest)]  # fmt: skip
            if newer:
                return await self._switch_to_since(client, key, path, params, old_state,
                                                   "answers nothing for min_id")  # fmt: skip
            checked = time.time()
        fresh = [r for r in raw if str(r.get("id")) not in recent]
        full = len(raw) >= limit
        progress = any(id_key(str(r["id"])) > id_key(newest) for r in raw if r.get("id"))
        state = self._state(newest, [str(r.get("id")) for r in raw if r.get("id")], recent,
                            floor=floor, catching_up=full)  # fmt: skip
        # a full page says more is ready only if it moved the cursor, or if it was the
        # overlap below it (the next ask starts at the newest id): never the same page again
        full = full and (progress or ask != newest)
        state["min_id_checked"] = checked
        found = bool(raw) or bool(old_state.get("found"))
        if is_search:
            state.update(self._search_note(key, found))
        return self._normalise_many(fresh, key), state, full, resp

    async def _switch_to_since(
        self, client: httpx.AsyncClient, key: str, path: str, params: dict[str, Any],
        state: dict[str, Any], why: str,
    ) -> tuple[list[Mention], dict[str, Any], bool, http.Response | None]:  # fmt: skip
        """Read ``key`` by ``since_id`` from now on, and say why in the source's health."""
        log.warning("%s: the server %s (%s); switching to since_id", self.name, why, key)
        return await self._read_since(client, key, path, params,
                                      {**state, "paging": "since_id", "paging_why": why})  # fmt: skip

    async def _read_since(
        self, client: httpx.AsyncClient, key: str, path: str, params: dict[str, Any],
        state: dict[str, Any],
    ) -> tuple[list[Mention], dict[str, Any], bool, http.Response | None]:  # fmt: skip
        """Newest first by ``since_id``, paging down by ``max_id``, for servers that ignore min_id."""
        newest = str(state["min_id"])
        recent = set(state.get("recent", []))
        limit = int(params["limit"])
        query: dict[str, Any] = {**params, "since_id": newest}
        raw_all: list[dict[str, Any]] = []
        resp: http.Response | None = None
        full = False
        seen: set[str] = set()
        for _ in range(SINCE_ID_PAGES):
            resp = await self._get(client, path, query)
            raw = [r for r in self._records(resp, key) if r.get("id") is not None
                   and id_key(str(r["id"])) > id_key(newest) and str(r["id"]) not in seen]  # fmt: skip
            seen.update(str(r["id"]) for r in raw)
            raw_all.extend(raw)
            full = len(raw) >= limit  # a page that repeats the last one (max_id ignored) is not
            if not full:
                break
            query = {**params, "since_id": newest, "max_id": min((str(r["id"]) for r in raw), key=id_key)}
        ids = [str(r["id"]) for r in raw_all]
        fresh = [r for r in raw_all if str(r["id"]) not in recent]
        new_state = self._state(newest, ids, recent, floor=state.get("floor"), catching_up=False)
        new_state["paging"] = "since_id"
        why = str(state.get("paging_why") or "answers nothing for min_id")
        new_state["paging_why"] = why
        new_state["note"] = f"this server {why} ({key}): read by since_id instead"
        if key.startswith("search:"):
            new_state.update(self._search_note(key, bool(raw_all) or bool(state.get("found"))))
        return self._normalise_many(fresh, key), new_state, False, resp

    @staticmethod
    def _search_note(key: str, found: bool) -> dict[str, Any]:
        """A search stream that has never found anything says so in the source's health."""
        if found:
            return {"found": True}
        return {"note": f"search returns nothing on this server (query {key[7:]!r}; "
                        "full-text search may be off there)"}  # fmt: skip

    @staticmethod
    def _state(newest: str, ids: list[str], recent: set[str], *, floor: str | None,
               catching_up: bool) -> dict[str, Any]:  # fmt: skip
        """Cursor of one stream: newest id, ids seen inside the overlap window, backfill floor."""
        top = max([newest, *ids], key=id_key)
        keep_above = snowflake_before(top, OVERLAP_S)
        window = sorted(
            (i for i in recent | set(ids) if keep_above is not None and id_key(i) > id_key(keep_above)),
            key=id_key,
        )[-MAX_RECENT:]
        state: dict[str, Any] = {"min_id": top}
        if window:
            state["recent"] = window
        if floor:
            state["floor"] = floor
        if catching_up:
            state["catching_up"] = True
        return state

    def _records(self, resp: http.Response, key: str) -> list[dict[str, Any]]:
        data = resp.json()
        if key.startswith("search:"):
            data = data.get("statuses") if isinstance(data, dict) else None
        if not isinstance(data, list):
            raise BadResponse(f"{resp.where} answered with {type(data).__name__}, expected a list")
        return [r for r in data if isinstance(r, dict)]

    def _normalise_many(self, records: list[dict[str, Any]], key: str) -> list[Mention]:
        out: list[Mention] = []
        for record in records:
            directed = False
            status = record
            if key == "notifications":
                if record.get("type") not in {"mention", "quote"}:
                    continue
                status = record.get("status") or {}
                directed = True
            try:
                mention = self.normalise(status, directed_at_us=directed)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                log.warning("%s: skipped a status that did not parse: %s", self.name, exc)
                continue
            if mention is not None:
                out.append(mention)
        return out

    def normalise(self, status: dict[str, Any], *, directed_at_us: bool = False) -> Mention | None:
        """One Mastodon status → a :class:`Mention` (a reblog becomes its original)."""
        original = status.get("reblog") or status
        if not isinstance(original, dict) or not original.get("id"):
            return None
        account = original.get("account") or {}
        created = parse_time(original.get("created_at"))
        if created is None:
            raise ValueError(f"status {original.get('id')} has no valid created_at")
        acct = str(account.get("acct") or account.get("username") or "")
        content = original.get("content")
        text = html_to_text(content) if content else clean_text(str(original.get("text") or ""))
        media = original.get("media_attachments") or []
        descriptions = [clean_text(str(m.get("description") or "")).strip() for m in media
                        if isinstance(m, dict)]  # fmt: skip
        if media and not text:
            text = "\n".join(f"[{d}]" if d else "[media]" for d in descriptions)
        poll = original.get("poll")
        if isinstance(poll, dict) and poll.get("options"):
            options = [clean_text(str(o.get("title", ""))) for o in poll["options"]]
            text = f"{text}\n" + "\n".join(f"○ {o}" for o in options)
        if not directed_at_us:
            directed_at_us = self._is_for_us(original)
        in_reply_to = original.get("in_reply_to_id")
        visibility = str(original.get("visibility") or "public")
        return Mention(
            network="mastodon",
            native_id=str(original["id"]),
            source=self.name,
            text=text.strip(),
            created_at=created,
            url=str(original.get("url") or original.get("uri") or ""),
            author=f"@{self._full_acct(acct)}" if acct else "",
            author_name=clean_text(str(account.get("display_name") or "")).strip(),
            author_followers=_int(account.get("followers_count")),
            engagement=sum(_int(original.get(k)) or 0 for k in _ENGAGEMENT),
            lang=original.get("language") or None,
            content_warning=clean_text(str(original.get("spoiler_text") or "")).strip(),
            sensitive=bool(original.get("sensitive")) or bool(original.get("spoiler_text")),
            directed_at_us=directed_at_us,
            in_reply_to=str(in_reply_to) if in_reply_to else None,
            private=visibility in PRIVATE_VISIBILITY,
            reply_ref={
                "status_id": str(original["id"]),
                "acct": acct,
                "visibility": visibility,
                "spoiler_text": str(original.get("spoiler_text") or ""),
            },
        )

    def _is_for_us(self, status: dict[str, Any]) -> bool:
        me = self._me or {}
        if me.get("id") and status.get("in_reply_to_account_id") == me.get("id"):
            return True
        for mentioned in status.get("mentions") or []:
            if not isinstance(mentioned, dict):
                continue
            if me.get("id") and mentioned.get("id") == me.get("id"):
                return True
            if self._full_acct(str(mentioned.get("acct") or "")) in self._ours:
                return True
        return False

    async def _verify(self, client: httpx.AsyncClient) -> dict[str, Any]:
        resp = await self._get(client, "/api/v1/accounts/verify_credentials")
        data = resp.json()
        if not isinstance(data, dict) or "id" not in data:
            raise BadResponse(f"{resp.where} did not describe an account")
        self._me = {"id": str(data["id"]), "acct": str(data.get("acct") or "")}
        if self._me["acct"]:
            self._ours.add(self._full_acct(self._me["acct"]))
        return data

    # ── doctor ──────────────────────────────────────────────────────────────────────
    async def check(self, client: httpx.AsyncClient) -> list[str]:
        await self.resolve_secrets()
        problems: list[str] = []
        try:
            await self._instance_limit(client)
        except SourceError as exc:
            return [f"{self.base}: {exc.reason}"]
        if self.config.token_env:
            if not self._token():
                problems.append(f"the secret {self.config.token_env} is not set")
            else:
                try:
                    await self._verify(client)
                except SourceError as exc:
                    problems.append(exc.reason)
        elif self.config.notifications and brand_accounts_on(self.host, self.context.brand_accounts):
            ours = ", ".join(brand_accounts_on(self.host, self.context.brand_accounts))
            problems.append(f"no token_env: mentions of the brand ({ours}: notifications) "
                            "cannot be read")  # fmt: skip
        return problems

    async def probe(self, client: httpx.AsyncClient) -> list[Finding]:
        """The instance and credentials, then each hashtag timeline, ``min_id``, the
        notifications and each search, as this server really answers them."""
        problems = await self.check(client)
        if problems:
            return [Finding("bad", p) for p in problems]
        found = [Finding("ok", f"{self.base} reachable" + (", token accepted" if self._me else ""))]
        if not self.config.token_env and self.config.notifications:
            found.append(Finding("note", "no token_env: public posts only (no brand account on "
                                         f"{self.host} whose notifications it could read)"))  # fmt: skip
        words: list[str] = []
        for tag in self.config.hashtags:
            found.extend(await self._probe_tag(client, tag.lstrip("#"), words))
        if self.config.notifications and self._token():
            try:
                resp = await self._get(client, "/api/v1/notifications",
                                       {"types[]": "mention", "limit": 5})  # fmt: skip
                found.append(Finding("ok", f"notifications: readable ({len(self._records(resp, 'notifications'))} recent mentions)"))
            except SourceError as exc:
                found.append(Finding("bad", f"notifications: {exc.reason}"))
        found.extend(await self._probe_search(client, words))
        return found

    async def _probe_tag(self, client: httpx.AsyncClient, tag: str, words: list[str]) -> list[Finding]:
        path = f"/api/v1/timelines/tag/{quote(tag, safe='')}"
        try:
            newest = self._records(await self._get(client, path, {"limit": 5}), f"tag:{tag}")
        except SourceError as exc:
            return [Finding("bad", f"hashtag #{tag}: {exc.reason}")]
        if not newest:
            return [Finding("note", f"hashtag #{tag}: no posts on this server yet")]
        for record in newest:
            text = html_to_text(str(record.get("content") or ""))
            words.extend(w for w in re.findall(r"[^\W\d_]{5,}", text) if not w.startswith("http"))
        out = [Finding("ok", f"hashtag #{tag}: {len(newest)} recent posts")]
        if len(newest) >= 2:
            below = min((str(r.get("id")) for r in newest), key=id_key)
            try:
                above = self._records(await self._get(client, path, {"limit": 5, "min_id": below}),
                                      f"tag:{tag}")  # fmt: skip
            except SourceError as exc:
                return [*out, Finding("bad", f"hashtag #{tag} with min_id: {exc.reason}")]
            if not above:
                out.append(Finding("note", f"hashtag #{tag}: this server answers nothing for "
                                           "min_id; the source reads it by since_id instead"))  # fmt: skip
        return out

    async def _probe_search(self, client: httpx.AsyncClient, words: list[str]) -> list[Finding]:
        if not self.config.queries:
            return []
        empty: list[str] = []
        out: list[Finding] = []
        for query in self.config.queries:
            try:
                hits = await self._search_count(client, query)
            except SourceError as exc:
                out.append(Finding("bad", f"search {query!r}: {exc.reason}"))
                continue
            if hits:
                out.append(Finding("ok", f"search {query!r}: {hits} recent posts"))
            else:
                empty.append(query)
        if not empty:
            return out
        asked = ", ".join(repr(q) for q in empty)
        # nothing found: is it the query, or does search never find anything here?
        if out and any(f.level == "ok" for f in out):
            return [*out, Finding("note", f"search {asked}: nothing found yet")]
        probe_word = words[0] if words else None
        try:
            probe_hits = await self._search_count(client, probe_word) if probe_word else 0
        except SourceError:
            probe_hits = 0
        if probe_word is not None and not probe_hits:
            return [*out, Finding("bad", f"search returns nothing on this server ({asked}, and "
                                         f"{probe_word!r} from a post it holds): full-text search "
                                         "may be off there; follow hashtags instead")]  # fmt: skip
        if probe_word is None:
            return [*out, Finding("note", f"search {asked}: nothing found (no post to tell "
                                          "whether search works on this server)")]  # fmt: skip
        return [*out, Finding("note", f"search {asked}: nothing found yet")]

    async def _search_count(self, client: httpx.AsyncClient, query: str) -> int:
        resp = await self._get(client, "/api/v2/search",
                               {"q": query, "type": "statuses", "resolve": "false", "limit": 5})  # fmt: skip
        return len(self._records(resp, "search:"))

    # ── thread context ──────────────────────────────────────────────────────────────
    async def thread(self, client: httpx.AsyncClient, reply_ref: dict[str, Any]) -> list[Mention]:
        """The ancestors of a status (``/api/v1/statuses/:id/context``), oldest first."""
        status_id = str(reply_ref.get("status_id") or "")
        if not status_id.isdigit():
            return []
        data = await self._context(client, status_id)
        return self._normalise_many([a for a in data["ancestors"] if isinstance(a, dict)], "thread")

    async def _context(self, client: httpx.AsyncClient, status_id: str) -> dict[str, Any]:
        await self.resolve_secrets()
        resp = await self._get(client, f"/api/v1/statuses/{quote(status_id, safe='')}/context")
        data = resp.json()
        if not isinstance(data, dict) or not isinstance(data.get("ancestors"), list):
            raise BadResponse(f"{resp.where} did not describe a thread")
        if not isinstance(data.get("descendants"), list):
            data["descendants"] = []
        return data

    async def find_own_reply(
        self, client: httpx.AsyncClient, reply_ref: dict[str, Any], text: str
    ) -> ReplyResult | None:
        """Our reply to ``reply_ref`` with this text, among the status's descendants.

        Some Mastodon-API servers ignore ``Idempotency-Key``: before a send is retried
        after a lost answer, the outbox asks here and adopts the reply already posted.
        """
        status_id = str(reply_ref.get("status_id") or "")
        if not status_id:
            return None
        await self.resolve_secrets()
        if not self._token():
            return None
        me = self._me or await self._verify(client)
        data = await self._context(client, status_id)
        wanted = _comparable(self.compose(reply_ref, text))
        for status in data["descendants"]:
            if not isinstance(status, dict) or not status.get("id"):
                continue
            account = status.get("account") or {}
            if str(account.get("id") or "") != str(me.get("id")):
                continue
            if str(status.get("in_reply_to_id") or "") != status_id:
                continue
            content = status.get("content")
            posted = html_to_text(content) if content else str(status.get("text") or "")
            if _comparable(posted) == wanted:
                return ReplyResult(native_id=str(status["id"]), url=str(status.get("url") or ""))
        return None

    # ── replying ────────────────────────────────────────────────────────────────────
    def reply_limit(self) -> int | None:
        return self._limit or DEFAULT_LIMIT

    async def _instance_limit(self, client: httpx.AsyncClient) -> int:
        """The server's status length limit: ``/api/v2/instance``, then v1, else 500."""
        if self._limit is not None:
            return self._limit
        limit: int | None = None
        resp = await self._get(client, "/api/v2/instance", check=False)
        if resp.status == 404:
            resp = await self._get(client, "/api/v1/instance", check=False)
        http.raise_for_status(resp)
        data = resp.json()
        if isinstance(data, dict):
            configuration = data.get("configuration")
            statuses = configuration.get("statuses") if isinstance(configuration, dict) else None
            if isinstance(statuses, dict):
                limit = _int(statuses.get("max_characters"))
            limit = limit or _int(data.get("max_toot_chars"))  # Pleroma/Akkoma say it this way
        self._limit = limit or DEFAULT_LIMIT
        return self._limit

    def compose(self, reply_ref: dict[str, Any], text: str) -> str:
        """The reply as posted: it names the author first, as Mastodon clients do."""
        acct = str(reply_ref.get("acct") or "")
        text = text.strip()
        if acct and f"@{acct}".casefold() not in text.casefold():
            text = f"@{acct} {text}"
        return text

    async def reply(
        self, client: httpx.AsyncClient, reply_ref: dict[str, Any], text: str, idempotency_key: str
    ) -> ReplyResult:
        status_id = reply_ref.get("status_id")
        if not status_id:
            raise SourceError("this item cannot be answered on Mastodon (no status id)")
        await self.resolve_secrets()
        if not self._token():
            raise AuthError(f"cannot reply: {self._auth_hint()}")
        body_text = self.compose(reply_ref, text)
        limit = await self._instance_limit(client)
        length = count_chars(body_text)
        if length > limit:
            raise SourceError(f"the reply is {length} characters; this server allows {limit}")
        visibility = reply_ref.get("visibility") or "public"
        payload: dict[str, Any] = {
            "status": body_text,
            "in_reply_to_id": str(status_id),
            "visibility": visibility
            if visibility in {"public", "unlisted", "private", "direct"}
            else "public",
        }
        if reply_ref.get("spoiler_text"):
            payload["spoiler_text"] = str(reply_ref["spoiler_text"])
        headers = {**self._headers(), "Idempotency-Key": idempotency_key}
        resp = await http.request(
            client, "POST", f"{self.base}/api/v1/statuses", headers=headers, json_body=payload,
            timeout_s=self.config.timeout_s, max_bytes=self.context.max_body_bytes,
            auth_hint=self._auth_hint(), home=self.base,
        )  # fmt: skip
        data = resp.json()
        if not isinstance(data, dict) or not data.get("id"):
            raise BadResponse(f"{resp.where} accepted the reply but did not return its id")
        return ReplyResult(native_id=str(data["id"]), url=str(data.get("url") or ""))


def _comparable(text: str) -> str:
    """A reply's words as the server shows them back: mentions dropped, spacing and case folded."""
    text = _MENTION.sub("", text)
    text = re.sub(r"(?<![\w@])@[\w.-]+", "", text)
    return " ".join(text.split()).casefold()


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
