"""Replay real Mastodon 4.7.3 answers (Mastodon.py 2.3.3's vcrpy cassettes) on loopback.

A request recorded in a cassette gets its recorded answer (status, body, Link and
X-RateLimit headers; the recorded host is rewritten to ours). A timeline request that was
not recorded verbatim (a later poll with ``min_id``) is answered from the statuses
recorded for that path, paged the way Mastodon pages them, so cursors can be tested.
Replies are matched to the recorded ``POST /api/v1/statuses`` with the same
``in_reply_to_id``; an ``Idempotency-Key`` seen before returns the first answer again,
as Mastodon does (``honour_idempotency = False`` plays a server that ignores the key and
posts again). ``/api/v1/statuses/:id/context`` lists the replies posted so far as its
descendants. Every request is kept in ``Replay.requests`` for the tests to inspect.
"""

from __future__ import annotations

import contextlib
import json
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.peers.server import LoopbackServer, QuietHandler

REPO = Path(__file__).resolve().parents[2]
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: 10x faster
CASSETTES = REPO / ".peers" / "mastodonpy" / "tests" / "cassettes"
RECORDED_HOST = "http://localhost:3000"
TOKEN = "replay-token"  # the only token this replay accepts
CASSETTE_NAMES = (
    "test_fetch_remaining.yaml",  # a tag timeline of 30 statuses, Link-paged by 10
    "test_hashtag_tl.yaml",  # #hoot, and /api/v2/instance
    "test_notifications_mentions_only.yaml",  # a mention notification
    "test_status_reply.yaml",  # verify_credentials and a reply
)
_AUTH_PATHS = ("/api/v1/notifications", "/api/v1/accounts/verify_credentials", "/api/v1/statuses")
_KEEP_HEADERS = ("content-type", "link", "x-ratelimit-limit", "x-ratelimit-remaining",
                 "x-ratelimit-reset")  # fmt: skip


def missing() -> str | None:
    if not CASSETTES.is_dir():
        return "Mastodon.py's cassettes are not in .peers/ (run: bash .ci/peers.sh)"
    return None


def load(name: str) -> list[dict[str, Any]]:
    data = yaml.load((CASSETTES / name).read_text("utf-8"), Loader=_LOADER)
    return list(data["interactions"])


def all_recorded_bodies() -> Iterator[tuple[str, Any]]:
    """(cassette name, JSON body) of every recorded answer in every cassette."""
    for path in sorted(CASSETTES.glob("*.yaml")):
        if path.name.endswith(".ws.yaml"):
            continue
        for interaction in yaml.load(path.read_text("utf-8"), Loader=_LOADER).get("interactions", []):
            text = (interaction["response"].get("body") or {}).get("string") or ""
            with contextlib.suppress(ValueError, TypeError):
                yield path.name, json.loads(text)


def _key(method: str, url: str) -> tuple[str, str, frozenset[tuple[str, str]]]:
    parts = urllib.parse.urlsplit(url)
    query = frozenset(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    return method.upper(), parts.path.rstrip("/") or "/", query


@dataclass
class Recorded:
    status: int
    headers: dict[str, str]
    body: str
    request_body: str = ""


@dataclass
class Replay:
    server: LoopbackServer
    exact: dict[tuple[str, str, frozenset[tuple[str, str]]], Recorded]
    timelines: dict[str, dict[str, dict[str, Any]]]
    replies: list[Recorded]
    requests: list[dict[str, Any]] = field(default_factory=list)
    idempotent: dict[str, Recorded] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)
    #: the replies posted, as the server returned them (the context's descendants)
    posted: list[dict[str, Any]] = field(default_factory=list)
    honour_idempotency: bool = True
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return self.server.url

    def rewrite(self, text: str) -> str:
        return text.replace(RECORDED_HOST, self.url)


class ReplayHandler(QuietHandler):
    @property
    def replay(self) -> Replay:
        return self.owner.replay  # type: ignore[attr-defined, no-any-return]

    def do_GET(self) -> None:
        self.answer()

    def do_POST(self) -> None:
        self.answer()

    def answer(self) -> None:
        replay = self.replay
        body = self.read_body().decode("utf-8", "replace")
        method, path, query = _key(self.command, self.path)
        auth = self.headers.get("Authorization")
        with replay.lock:
            replay.requests.append({"method": method, "path": path, "query": dict(query),
                                    "headers": dict(self.headers), "body": body})  # fmt: skip
        if (auth is not None and auth != f"Bearer {TOKEN}") or (
            auth is None and path.startswith(_AUTH_PATHS)
        ):
            self.send(401, b'{"error":"The access token is invalid"}',
                      "application/json; charset=utf-8")  # fmt: skip
            return
        if method == "POST" and path == "/api/v1/statuses":
            self.reply(body)
            return
        recorded = replay.exact.get((method, path, query)) or replay.exact.get(
            (method, path, frozenset(q for q in query if q[0] != "limit"))
        )
        if recorded is not None:
            self.send_recorded(recorded)
            return
        if method == "GET" and path.startswith("/api/v1/statuses/") and path.endswith("/context"):
            self.context(path.split("/")[4])
            return
        if method == "GET" and path in replay.timelines:
            self.page(path, dict(query))
            return
        self.send(404, b'{"error":"Record not found"}', "application/json; charset=utf-8")

    def send_recorded(self, recorded: Recorded) -> None:
        headers = {k: self.replay.rewrite(v) for k, v in recorded.headers.items()
                   if k != "content-type"}  # fmt: skip
        self.send(recorded.status, self.replay.rewrite(recorded.body).encode(),
                  recorded.headers.get("content-type", "application/json"), headers)  # fmt: skip

    def page(self, path: str, query: dict[str, str]) -> None:
        """Answer a timeline request from the recorded statuses, as Mastodon pages them."""
        items = sorted(self.replay.timelines[path].values(), key=lambda s: (len(s["id"]), s["id"]))
        limit = min(int(query.get("limit", 20)), 40)

        def key(i: str) -> tuple[int, str]:
            return (len(i), i)

        if "min_id" in query:  # the page just above min_id
            chosen = [s for s in items if key(s["id"]) > key(query["min_id"])][:limit]
        else:
            newer = [s for s in items if "since_id" not in query or key(s["id"]) > key(query["since_id"])]
            older = [s for s in newer if "max_id" not in query or key(s["id"]) < key(query["max_id"])]
            chosen = older[-limit:]
        chosen.reverse()  # newest first
        links = []
        base = f"{self.replay.url}{path}"
        if chosen:
            links.append(f'<{base}?limit={limit}&max_id={chosen[-1]["id"]}>; rel="next"')
            links.append(f'<{base}?limit={limit}&min_id={chosen[0]["id"]}>; rel="prev"')
        headers = {"Link": ", ".join(links)} if links else {}
        body = self.replay.rewrite(json.dumps(chosen)).encode()
        self.send(200, body, "application/json; charset=utf-8", headers)

    def context(self, status_id: str) -> None:
        """A recorded reply target's context: the replies posted to it so far."""
        targets = {dict(urllib.parse.parse_qsl(r.request_body)).get("in_reply_to_id")
                   for r in self.replay.replies}  # fmt: skip
        if status_id not in targets:
            self.send(404, b'{"error":"Record not found"}', "application/json; charset=utf-8")
            return
        with self.replay.lock:
            below = [s for s in self.replay.posted if s.get("in_reply_to_id") == status_id]
        body = json.dumps({"ancestors": [], "descendants": below})
        self.send(200, self.replay.rewrite(body).encode(), "application/json; charset=utf-8")

    def reply(self, body: str) -> None:
        replay = self.replay
        try:
            sent = json.loads(body)
        except ValueError:
            sent = dict(urllib.parse.parse_qsl(body))
        key = self.headers.get("Idempotency-Key")
        with replay.lock:
            if key and key in replay.idempotent and replay.honour_idempotency:
                self.send_recorded(replay.idempotent[key])
                return
        target = str(sent.get("in_reply_to_id") or "")
        for recorded in replay.replies:
            if target and f"in_reply_to_id={target}" in recorded.request_body:
                with replay.lock:
                    if key:
                        replay.idempotent[key] = recorded
                    replay.created.append(json.loads(recorded.body)["id"])
                    replay.posted.append(json.loads(recorded.body))
                self.send_recorded(recorded)
                return
        self.send(422, b'{"error":"Validation failed: replied-to status not found"}',
                  "application/json; charset=utf-8")  # fmt: skip


@contextlib.contextmanager
def serve(names: tuple[str, ...] = CASSETTE_NAMES) -> Iterator[Replay]:
    exact: dict[tuple[str, str, frozenset[tuple[str, str]]], Recorded] = {}
    timelines: dict[str, dict[str, dict[str, Any]]] = {}
    replies: list[Recorded] = []
    for name in names:
        for interaction in load(name):
            req, resp = interaction["request"], interaction["response"]
            headers = {k.lower(): v[0] if isinstance(v, list) else str(v)
                       for k, v in (resp.get("headers") or {}).items()
                       if k.lower() in _KEEP_HEADERS}  # fmt: skip
            recorded = Recorded(status=int(resp["status"]["code"]), headers=headers,
                                body=(resp.get("body") or {}).get("string") or "",
                                request_body=str(req.get("body") or ""))  # fmt: skip
            method, path, query = _key(req["method"], req["uri"])
            if method == "POST" and path == "/api/v1/statuses":
                if "in_reply_to_id=" in recorded.request_body:
                    replies.append(recorded)
                continue
            if method != "GET":
                continue
            exact.setdefault((method, path, query), recorded)
            if path.startswith("/api/v1/timelines/"):
                with contextlib.suppress(ValueError):
                    for status in json.loads(recorded.body):
                        timelines.setdefault(path, {})[status["id"]] = status
    server = LoopbackServer(ReplayHandler)
    replay = Replay(server=server, exact=exact, timelines=timelines, replies=replies)
    server.replay = replay  # type: ignore[attr-defined]
    with server:
        yield replay
