"""Loopback servers that attack the client or differ from Mastodon, one behaviour per path prefix.

``/foreign-link/…`` pages a tag timeline with a ``Link: rel="next"`` to another origin;
``/redirect/…`` answers every request with a redirect to another origin; ``/echo/…``
echoes the request's headers back in a 401 (and ``/echo500/…`` in a 500) as some servers'
debug pages do; ``/bomb-<codings>/…`` sends a body compressed with stacked codings (a
decompression bomb); ``/nosearch/…`` is a Mastodon-API server whose search never finds
anything and whose timelines answer nothing for ``min_id``; ``/same-page/…`` answers every tag-timeline
request with one full page of 40 statuses whatever it is asked; ``/same-link/…`` pages by a ``rel="next"`` link back to the same page; ``/bsky-loop/…`` an atproto
search that repeats its page and cursor; ``/badtoken/…`` answers 400
"Invalid Bearer token" where Mastodon says 401; ``/dm/…`` delivers a direct message
(as a mention notification) and a followers-only post, both as a real Mastodon 4.7.3
recorded them; ``/bad-entries/feed.xml`` is a feed of four entries, one with a lone
surrogate reference, one dated 9999, one with a reference no parser survives. A
:class:`Collector` on another port
stands for the foreign origin and keeps every request it gets.
"""

from __future__ import annotations

import gzip
import json
import threading
import zlib
from dataclasses import dataclass, field
from typing import Any, ClassVar

from tests.peers.faults import FEED, status
from tests.peers.server import LoopbackServer, QuietHandler

#: the size a bomb inflates to: far over any cap, small enough to build in a moment
BOMB_SIZE = 256 * 1024 * 1024


def _compress(data_size: int, coding: str) -> bytes:
    """``data_size`` zero bytes compressed with one coding, built in pieces (never all in memory)."""
    wbits = 16 + zlib.MAX_WBITS if coding == "gzip" else zlib.MAX_WBITS
    packer = zlib.compressobj(9, zlib.DEFLATED, wbits)
    piece = b"\0" * (1 << 20)
    out = [packer.compress(piece) for _ in range(data_size // len(piece))]
    out.append(packer.flush())
    return b"".join(out)


_bombs: dict[str, bytes] = {}
_count_lock = threading.Lock()
_bomb_lock = threading.Lock()


def bomb(codings: list[str]) -> bytes:
    """A body that inflates to :data:`BOMB_SIZE` bytes through ``codings`` (applied in order)."""
    key = ",".join(codings)
    with _bomb_lock:
        if key not in _bombs:
            body = _compress(BOMB_SIZE, codings[0])
            for coding in codings[1:]:
                body = gzip.compress(body, 9) if coding == "gzip" else zlib.compress(body, 9)
            _bombs[key] = body
        return _bombs[key]


BAD_ENTRIES = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Globex news</title>
<item><guid>https://globex.test/1</guid><title>Globex cuts prices</title><description>fine</description>
<pubDate>Mon, 23 Nov 2026 10:00:00 GMT</pubDate></item>
<item><guid>https://globex.test/2</guid><title>Half &#xD800; an emoji</title>
<description>broken &amp;#xD800; here</description><pubDate>Mon, 23 Nov 2026 11:00:00 GMT</pubDate></item>
<item><guid>https://globex.test/3</guid><title>Far ahead</title><description>later</description>
<pubDate>Fri, 31 Dec 9999 23:59:59 GMT</pubDate></item>
<item><guid>https://globex.test/4</guid><title>Overflow &#123456789012; ref</title><description>x</description>
<pubDate>Mon, 23 Nov 2026 12:00:00 GMT</pubDate></item>
</channel></rss>"""


def recorded_status(visibility: str) -> dict[str, Any]:
    """The status a real Mastodon returned when posting with this visibility (Mastodon.py's cassette)."""
    from tests.peers.mastodon_replay import load

    for interaction in load(f"test_status_post[None-{visibility}].yaml"):
        req, resp = interaction["request"], interaction["response"]
        if req["method"] == "POST" and req["uri"].endswith("/api/v1/statuses"):
            found: dict[str, Any] = json.loads(resp["body"]["string"])
            return found
    raise LookupError(visibility)


@dataclass
class Collector:
    """The foreign origin: it answers like a Mastodon timeline and keeps what it was sent."""

    server: LoopbackServer
    requests: list[dict[str, Any]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.server.url


class CollectorHandler(QuietHandler):
    def do_GET(self) -> None:
        collector: Collector = self.owner.collector  # type: ignore[attr-defined]
        collector.requests.append({"method": self.command, "path": self.path,
                                   "headers": dict(self.headers),
                                   "body": self.read_body().decode("utf-8", "replace")})  # fmt: skip
        if self.path.endswith("feed.xml"):
            self.send(200, FEED, "application/rss+xml")
        else:
            self.send(200, json.dumps([status(1)]).encode())

    do_POST = do_GET


class HostileHandler(QuietHandler):
    """Behaviour by the first path segment; ``owner.foreign`` is the collector's URL."""

    counter: ClassVar[int] = 5000
    #: tag-timeline requests answered by ``/same-page/``
    same_page_hits: ClassVar[int] = 0
    #: set at each of those requests: a test knows the poller is running
    same_page_asked: ClassVar[threading.Event] = threading.Event()
    #: tag-timeline requests answered by ``/same-link/``
    same_link_hits: ClassVar[int] = 0
    #: search requests answered by ``/bsky-loop/``
    bsky_loop_hits: ClassVar[int] = 0

    @property
    def foreign(self) -> str:
        return str(self.owner.foreign)  # type: ignore[attr-defined]

    def do_GET(self) -> None:
        kind, _, rest = self.path.lstrip("/").partition("/")
        self.read_body()
        if kind.startswith("bomb-"):
            self.bomb(kind.removeprefix("bomb-").split("+"))
            return
        getattr(self, "on_" + kind.replace("-", "_"))("/" + rest)

    do_POST = do_GET

    def on_foreign_link(self, rest: str) -> None:
        if "verify_credentials" in rest:
            self.send(200, b'{"id": "1", "acct": "lumio"}')
            return
        page = [status(n) for n in (302, 301)]  # a full page (page_size 2): a next page is due
        link = f'<{self.foreign}/api/v1/timelines/tag/lumio?max_id=301>; rel="next"'
        self.send(200, json.dumps(page).encode(), headers={"Link": link})

    def on_redirect(self, rest: str) -> None:
        self.send_response(307)
        self.send_header("Location", f"{self.foreign}{rest}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def on_cookie_redirect(self, rest: str) -> None:
        """A redirect elsewhere that sets this server's session cookie on the way."""
        self.send_response(302)
        self.send_header("Set-Cookie", "session=hostile-cookie-51d2; Path=/")
        self.send_header("Location", f"{self.foreign}{rest}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _headers_dump(self) -> str:
        return "\n".join(f"{k}: {v}" for k, v in self.headers.items())

    def on_echo(self, rest: str) -> None:
        body = {"error": f"The access token is invalid. You sent:\n{self._headers_dump()}"}
        self.send(401, json.dumps(body).encode())

    def on_echo500(self, rest: str) -> None:
        page = f"<html><title>Error: {self.headers.get('Authorization')}</title></html>"
        self.send(500, page.encode(), "text/html")

    def on_badtoken(self, rest: str) -> None:
        self.send(400, b'{"error":"Invalid Bearer token"}')

    def on_nosearch(self, rest: str) -> None:
        path, _, query = rest.partition("?")
        if path.startswith("/api/v2/search"):
            self.send(200, b'{"accounts": [], "statuses": [], "hashtags": []}')
        elif path.startswith("/api/v1/timelines/tag/"):
            if "min_id=" in query:  # this server answers nothing for min_id
                self.send(200, b"[]")
                return
            HostileHandler.counter += 1
            newest = HostileHandler.counter
            self.send(200, json.dumps([status(newest), status(newest - 1)]).encode())
        elif path.startswith("/api/v2/instance"):
            self.send(200, b'{"configuration": {"statuses": {"max_characters": 500}}}')
        elif path.startswith("/api/v1/accounts/verify_credentials"):
            self.send(200, b'{"id": "1", "acct": "lumio"}')
        elif path.startswith("/api/v1/notifications"):
            self.send(200, b"[]")
        else:
            self.send(404, b'{"error":"Record not found"}')

    def on_same_page(self, rest: str) -> None:
        """A server that ignores ``min_id`` (and every paging parameter): each tag-timeline
        request gets the same full page of 40 statuses, no Link header."""
        path = rest.partition("?")[0]
        if path.startswith("/api/v1/timelines/tag/"):
            with _count_lock:
                HostileHandler.same_page_hits += 1
            HostileHandler.same_page_asked.set()
            self.send(200, json.dumps([status(n) for n in range(140, 100, -1)]).encode())
        elif path.startswith("/api/v2/instance"):
            self.send(200, b'{"configuration": {"statuses": {"max_characters": 500}}}')
        else:
            self.send(404, b'{"error":"Record not found"}')

    def on_same_link(self, rest: str) -> None:
        """A tag timeline whose ``Link: rel="next"`` leads back to the same full page."""
        if rest.startswith("/api/v1/timelines/tag/"):
            with _count_lock:
                HostileHandler.same_link_hits += 1
            link = f'<{self.owner.url}/same-link{rest.partition("?")[0]}?max_id=301>; rel="next"'
            self.send(200, json.dumps([status(n) for n in (302, 301)]).encode(), headers={"Link": link})
        else:
            self.send(404, b'{"error":"Record not found"}')

    def on_bsky_loop(self, rest: str) -> None:
        """An atproto server whose search hands back the same full page and the same
        ``cursor`` however often it is asked for the next one."""
        path, _, query = rest.partition("?")
        if path.endswith("com.atproto.server.createSession"):
            self.send(200, json.dumps({"accessJwt": "acc-loop-1", "refreshJwt": "ref-loop-1",
                                       "did": "did:plc:lumio", "handle": "lumio.test"}).encode())  # fmt: skip
        elif path.endswith("app.bsky.feed.searchPosts"):
            with _count_lock:
                HostileHandler.bsky_loop_hits += 1
            limit = int(dict(p.split("=", 1) for p in query.split("&") if "=" in p).get("limit", 25))
            posts = [{"uri": f"at://did:plc:ana/app.bsky.feed.post/3loop{n:04d}", "cid": f"bafyloop{n}",
                      "author": {"did": "did:plc:ana", "handle": "ana.test"},
                      "record": {"text": f"lumio post {n}", "createdAt": "2026-11-24T01:00:00.000Z"},
                      "indexedAt": "2026-11-24T01:00:00.000Z"} for n in range(limit)]  # fmt: skip
            self.send(200, json.dumps({"posts": posts, "cursor": "same-cursor"}).encode())
        else:
            self.send(404, b'{"error":"MethodNotImplemented"}')

    def on_dm(self, rest: str) -> None:
        path = rest.partition("?")[0]
        direct, private = recorded_status("direct"), recorded_status("private")
        if path.startswith("/api/v1/accounts/verify_credentials"):
            self.send(200, b'{"id": "1", "acct": "lumio"}')
        elif path.startswith("/api/v1/notifications"):
            note = {"id": "90", "type": "mention", "created_at": direct["created_at"],
                    "account": direct["account"], "status": direct}  # fmt: skip
            self.send(200, json.dumps([note]).encode())
        elif path.startswith("/api/v1/timelines/tag/"):
            self.send(200, json.dumps([private, status(7)]).encode())
        else:
            self.send(404, b'{"error":"Record not found"}')

    def on_richtext(self, rest: str) -> None:
        """A post whose HTML would load a local file, run a script and style text if rendered."""
        content = ('<p><img src="file:///etc/passwd" alt="look"> <b>bold</b> '
                   '<a href="javascript:alert(1)">click</a><script>steal()</script> '
                   '<span style="color:red">red</span><iframe src="http://x.test/"></iframe></p>')
        hostile = status(77, content) | {"spoiler_text": "<i>cw</i>"}
        self.send(200, json.dumps([hostile]).encode())

    def on_brotli(self, rest: str) -> None:
        """An encoding nobody asked for (no brotli here): it must be refused, not guessed."""
        self.owner.accept_encoding = self.headers.get("Accept-Encoding")  # type: ignore[attr-defined]
        self.send(200, bytes(range(256)) * 16, "application/rss+xml", headers={"Content-Encoding": "br"})

    def on_bad_entries(self, rest: str) -> None:
        self.send(200, BAD_ENTRIES, "application/rss+xml")

    def bomb(self, codings: list[str]) -> None:
        body = bomb(codings)
        self.send(200, body, "application/rss+xml",
                  headers={"Content-Encoding": ", ".join(codings)})  # fmt: skip


class Hostile:
    """A hostile server and its foreign collector, both on loopback."""

    def __init__(self) -> None:
        self.collector = Collector(LoopbackServer(CollectorHandler))
        self.collector.server.collector = self.collector  # type: ignore[attr-defined]
        self.server = LoopbackServer(HostileHandler)
        self.server.foreign = self.collector.url  # type: ignore[attr-defined]

    @property
    def url(self) -> str:
        return self.server.url

    def __enter__(self) -> Hostile:
        self.collector.server.__enter__()
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(None, None, None)
        self.collector.server.__exit__(None, None, None)
