"""Serve feedparser's own test feeds on loopback, with the HTTP headers each one declares.

feedparser's test files state in a leading comment the headers a server would have sent
(``Header: Content-type: ...``); they matter for the encoding tests, so they are sent.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.peers.server import LoopbackServer, QuietHandler

REPO = Path(__file__).resolve().parents[2]
TESTS = REPO / ".peers" / "feedparser" / "tests"
_HEADER = re.compile(rb"^Header:\s+([^:]+):(.+)$", re.MULTILINE)


def missing() -> str | None:
    if not (TESTS / "wellformed").is_dir():
        return "feedparser's test feeds are not in .peers/ (run: bash .ci/peers.sh)"
    return None


def feeds(kind: str) -> list[str]:
    """Paths (relative to the test folder) of every feed of a kind: wellformed, illformed…"""
    root = TESTS / kind
    return sorted(str(p.relative_to(TESTS)) for p in root.rglob("*") if p.suffix in {".xml", ".rdf", ".atom", ".rss"})


class FeedHandler(QuietHandler):
    def do_GET(self) -> None:
        rel = self.path.split("?", 1)[0].lstrip("/")
        path = (TESTS / rel).resolve()
        if not path.is_relative_to(TESTS.resolve()) or not path.is_file():
            self.send(404, b"not found", "text/plain")
            return
        body = path.read_bytes()
        headers = {k.decode().strip(): v.decode("latin-1").strip()
                   for k, v in _HEADER.findall(body[:4096])}  # fmt: skip
        ctype = next((v for k, v in headers.items() if k.lower() == "content-type"),
                     "application/xml")  # fmt: skip
        headers = {k: v for k, v in headers.items()
                   if k.lower() not in {"content-type", "content-length", "content-encoding",
                                        "transfer-encoding", "location"}}  # fmt: skip
        self.send(200, body, ctype, headers)


@dataclass
class FeedServer:
    server: LoopbackServer

    def url(self, rel: str) -> str:
        return f"{self.server.url}/{rel}"


@contextlib.contextmanager
def serve() -> Iterator[FeedServer]:
    with LoopbackServer(FeedHandler) as server:
        yield FeedServer(server)
