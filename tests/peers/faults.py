"""A loopback server that misbehaves on purpose, one fault per path prefix.

``/<fault>/...`` answers every request the way a server on a bad day would; ``/ok/...``
answers like a healthy Mastodon (a fresh status on every tag-timeline poll) or, for
``/ok/feed.xml``, a small RSS feed. Each fault is something seen from real servers.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import ClassVar

from tests.peers.server import LoopbackServer, QuietHandler

FAULTS = (
    "timeout", "401", "403", "404", "429", "503", "malformed", "maintenance", "huge",
    "huge-declared", "drip", "badutf8", "surrogates", "empty-feed", "html-feed",
)  # fmt: skip

MAINTENANCE_PAGE = (
    b"<!DOCTYPE html><html><head><title>We'll be back soon</title></head>"
    b"<body><h1>Down for maintenance</h1><p>Mastodon is being upgraded.</p></body></html>"
)


def status(n: int, content: str = "<p>Loving my <a href=\"https://x.test/tags/lumio\" "
           "class=\"mention hashtag\">#<span>lumio</span></a> phone</p>") -> dict[str, object]:  # fmt: skip
    return {
        "id": str(n), "created_at": "2026-11-24T01:00:00.000Z", "content": content,
        "in_reply_to_id": None, "sensitive": False, "spoiler_text": "", "visibility": "public",
        "language": "en", "uri": f"https://x.test/users/ana/statuses/{n}",
        "url": f"https://x.test/@ana/{n}", "replies_count": 0, "reblogs_count": 1,
        "favourites_count": 2, "reblog": None, "mentions": [], "media_attachments": [],
        "emojis": [], "account": {"id": "7", "username": "ana", "acct": "ana",
                                  "display_name": "Ana", "followers_count": 12},
    }  # fmt: skip


FEED = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Globex news</title>
<item><guid>https://globex.test/1</guid><title>Globex cuts prices</title>
<description>&lt;p&gt;Prices down &amp;amp; up&lt;/p&gt;</description>
<pubDate>Mon, 23 Nov 2026 10:00:00 GMT</pubDate></item></channel></rss>"""


class FaultHandler(QuietHandler):
    counter: ClassVar[int] = 1000
    lock: ClassVar[threading.Lock] = threading.Lock()
    hits: ClassVar[dict[str, int]] = {}

    def do_GET(self) -> None:
        fault = self.path.split("/")[1]
        with self.lock:
            self.hits[fault] = self.hits.get(fault, 0) + 1
        handler = getattr(self, "fault_" + fault.replace("-", "_"), None)
        if handler is None:
            self.send(404, b'{"error":"Record not found"}')
            return
        handler()

    do_POST = do_GET

    def fault_ok(self) -> None:
        if self.path.endswith("feed.xml"):
            self.send(200, FEED, "application/rss+xml")
            return
        with self.lock:
            FaultHandler.counter += 1
            n = FaultHandler.counter
        self.send(200, json.dumps([status(n)]).encode(), headers={
            "X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "299",
            "X-RateLimit-Reset": "2026-11-24T03:00:00.000Z"})  # fmt: skip

    def _stall(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end and not self.owner.stopping.is_set():
            time.sleep(0.05)

    def fault_timeout(self) -> None:
        self._stall(30)  # accept, then never answer

    def fault_401(self) -> None:
        self.send(401, b'{"error":"The access token is invalid"}')

    def fault_403(self) -> None:
        self.send(403, b'{"error":"This action is outside the authorized scopes"}')

    def fault_404(self) -> None:
        self.send(404, b'{"error":"Record not found"}')

    def fault_429(self) -> None:
        self.send(429, b'{"error":"Too many requests"}', headers={
            "Retry-After": "120", "X-RateLimit-Remaining": "0"})  # fmt: skip

    def fault_503(self) -> None:
        self.send(503, MAINTENANCE_PAGE, "text/html; charset=utf-8")

    def fault_malformed(self) -> None:
        self.send(200, b'[{"id": "1", "content": "<p>cut off')

    def fault_maintenance(self) -> None:
        self.send(200, MAINTENANCE_PAGE, "text/html; charset=utf-8")

    def fault_huge(self) -> None:
        # no Content-Length: the client only learns the size by reading
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Connection", "close")
        self.end_headers()
        chunk = b'[' + b'{"id":"1"},' * 6000
        try:
            for _ in range(2000):  # up to ~130 MB, far over any cap
                if self.owner.stopping.is_set():
                    return
                self.wfile.write(chunk)
        except OSError:
            return  # the client hung up: what we want

    def fault_huge_declared(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(10**10))
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            self.wfile.write(b"[")
            self._stall(5)
        except OSError:
            return

    def fault_drip(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "100000")
        self.end_headers()
        try:
            for _ in range(100000):
                if self.owner.stopping.is_set():
                    return
                self.wfile.write(b" ")
                self.wfile.flush()
                self._stall(1.0)
        except OSError:
            return

    def fault_badutf8(self) -> None:
        body = json.dumps([status(5)]).encode().replace(b"Loving", b"Lov\xff\xfeing")
        self.send(200, body)

    def fault_surrogates(self) -> None:
        body = json.dumps([status(6, "<p>half an emoji \ud83d and \udc4d here</p>")],
                          ensure_ascii=True).encode()  # fmt: skip
        self.send(200, body)

    def fault_empty_feed(self) -> None:
        self.send(200, b"", "application/rss+xml")

    def fault_html_feed(self) -> None:
        self.send(200, MAINTENANCE_PAGE, "text/html")


def refused_url() -> str:
    """A loopback URL where nothing listens (the port was free a moment ago)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def fault_server() -> LoopbackServer:
    return LoopbackServer(FaultHandler)
