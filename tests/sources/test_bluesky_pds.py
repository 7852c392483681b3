"""Bluesky against a live PDS + AppView (@atproto/dev-env) on loopback."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from app.model import Mention
from app.sources.base import AuthError, FetchResult, SourceError
from app.sources.bluesky import BlueskySource
from tests.peers.bluesky import Network
from tests.sources.helpers import bluesky, client, context, run

pytestmark = pytest.mark.peer

LINK = "https://lumio.example/support/battery-recall-faq"


@dataclass
class Account:
    handle: str
    did: str
    access: str
    app_password: str


def xrpc(net: Network, nsid: str, token: str | None = None, **body: Any) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    resp = httpx.post(f"{net.pds}/xrpc/{nsid}", json=body, headers=headers, timeout=30)
    assert resp.status_code == 200, resp.text
    data: dict[str, Any] = resp.json()
    return data


def account(net: Network, name: str) -> Account:
    made = xrpc(net, "com.atproto.server.createAccount", handle=f"{name}.test",
                email=f"{name}@example.test", password=f"{name}-main-password")  # fmt: skip
    app = xrpc(net, "com.atproto.server.createAppPassword", made["accessJwt"], name="watchfloor")
    return Account(made["handle"], made["did"], made["accessJwt"], app["password"])


def post(net: Network, who: Account, text: str, facets: list[dict[str, Any]] | None = None,
         reply: dict[str, Any] | None = None) -> dict[str, str]:  # fmt: skip
    record: dict[str, Any] = {"$type": "app.bsky.feed.post", "text": text,
                              "createdAt": datetime.now(UTC).isoformat().replace("+00:00", "Z")}  # fmt: skip
    if facets:
        record["facets"] = facets
    if reply:
        record["reply"] = reply
    made = xrpc(net, "com.atproto.repo.createRecord", who.access, repo=who.did,
                collection="app.bsky.feed.post", record=record)  # fmt: skip
    return {"uri": made["uri"], "cid": made["cid"]}


def span(text: str, part: str) -> dict[str, int]:
    start = len(text[: text.index(part)].encode())
    return {"byteStart": start, "byteEnd": start + len(part.encode())}


@pytest.fixture(scope="module")
def room(bluesky_peer: Network) -> dict[str, Any]:
    net = bluesky_peer
    brand, ana = account(net, "lumio"), account(net, "ana")
    tagged_text = "Loving my new phone 😍 #lumio see lumio.example/support…"
    tagged = post(net, ana, tagged_text, [
        {"index": span(tagged_text, "#lumio"),
         "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "lumio"}]},
        {"index": span(tagged_text, "lumio.example/support…"),
         "features": [{"$type": "app.bsky.richtext.facet#link", "uri": LINK}]},
    ])  # fmt: skip
    mention_text = "@lumio.test my phone overheats, what now?"
    mention = post(net, ana, mention_text, [
        {"index": span(mention_text, "@lumio.test"),
         "features": [{"$type": "app.bsky.richtext.facet#mention", "did": brand.did}]},
    ])  # fmt: skip
    net.process_all()
    return {"net": net, "brand": brand, "ana": ana, "tagged": tagged, "mention": mention}


def source(room: dict[str, Any], password: str | None = None) -> BlueskySource:
    brand: Account = room["brand"]
    ctx = context({"BSKY_PW": password or brand.app_password}, accounts=["lumio.test"])
    return bluesky(room["net"].pds, ctx, handle=brand.handle, password_env="BSKY_PW",
                   queries=["lumio"], timeout_s=20.0)  # fmt: skip


def fetch(src: BlueskySource, cursor: dict[str, Any]) -> FetchResult:
    async def go() -> FetchResult:
        async with client() as c:
            return await src.fetch(c, cursor)

    return run(go())


def by_uri(result: FetchResult) -> dict[str, Mention]:
    return {m.native_id: m for m in result.mentions}


def test_search_finds_the_hashtag_post_and_notifications_bring_the_mention(room: dict[str, Any]) -> None:
    src = source(room)
    result = fetch(src, {})
    found = by_uri(result)
    tagged = found[room["tagged"]["uri"]]
    assert tagged.text == f"Loving my new phone 😍 #lumio see {LINK}"  # the link facet, in full
    assert tagged.author == "@ana.test" and not tagged.directed_at_us
    assert tagged.created_at.tzinfo is not None and tagged.created_at.utcoffset().total_seconds() == 0
    assert tagged.url.endswith("/profile/ana.test/post/" + room["tagged"]["uri"].rsplit("/", 1)[-1])
    mention = found[room["mention"]["uri"]]
    assert mention.directed_at_us  # a mention of our account: it goes to the queue
    assert mention.reply_ref == {"uri": room["mention"]["uri"], "cid": room["mention"]["cid"],
                                 "root": room["mention"]}  # fmt: skip
    # the cursor holds a watermark, never a token
    assert "Jwt" not in str(result.cursor) and room["brand"].app_password not in str(result.cursor)
    again = fetch(src, result.cursor)
    assert again.mentions == []  # nothing new since the watermark
    later = post(room["net"], room["ana"], "Still thinking about lumio phones")
    room["net"].process_all()
    assert list(by_uri(fetch(src, again.cursor))) == [later["uri"]]


def test_reply_lands_in_the_right_thread_once(room: dict[str, Any]) -> None:
    net: Network = room["net"]
    src = source(room)
    mention = by_uri(fetch(src, {}))[room["mention"]["uri"]]
    assert mention.reply_ref is not None

    async def answer(ref: dict[str, Any], text: str, key: str) -> Any:
        async with client() as c:
            return await src.reply(c, ref, text, key)

    first = run(answer(mention.reply_ref, "Sorry! Please see https://lumio.example/help #lumio", "q1"))
    retry = run(answer(mention.reply_ref, "Sorry! Please see https://lumio.example/help #lumio", "q1"))
    assert first.native_id == retry.native_id  # the retry found the post it had made
    brand: Account = room["brand"]
    listed = httpx.get(f"{net.pds}/xrpc/com.atproto.repo.listRecords", timeout=30, params={
        "repo": brand.did, "collection": "app.bsky.feed.post"}).json()["records"]  # fmt: skip
    assert [r["uri"] for r in listed] == [first.native_id]
    record = listed[0]["value"]
    assert record["reply"]["parent"] == room["mention"] and record["reply"]["root"] == room["mention"]
    kinds = {f["features"][0]["$type"].rsplit("#", 1)[1] for f in record["facets"]}
    assert kinds == {"link", "tag"}

    # ana answers our reply; our answer to that keeps the original post as the root.
    # (The AppView indexes repos in parallel: our reply must be indexed before ana's
    # answer, or it cannot tell whom her answer notifies.)
    net.process_all()
    ours = {"uri": first.native_id, "cid": listed[0]["cid"]}
    back = post(net, room["ana"], "Thanks, that helped", reply={"root": room["mention"], "parent": ours})
    net.process_all()
    nested = by_uri(fetch(src, {}))[back["uri"]]
    assert nested.directed_at_us and nested.in_reply_to == first.native_id
    assert nested.reply_ref is not None
    second = run(answer(nested.reply_ref, "Glad to hear it!", "q2"))
    got = httpx.get(f"{net.pds}/xrpc/com.atproto.repo.getRecord", timeout=30, params={
        "repo": brand.did, "collection": "app.bsky.feed.post",
        "rkey": second.native_id.rsplit("/", 1)[1]}).json()["value"]  # fmt: skip
    assert got["reply"]["root"] == room["mention"] and got["reply"]["parent"] == back


def test_the_grapheme_limit_is_checked_before_sending(room: dict[str, Any]) -> None:
    src = source(room)

    async def go(text: str) -> Any:
        async with client() as c:
            return await src.reply(c, room["mention"] | {"root": room["mention"]}, text, "long")

    with pytest.raises(SourceError, match="301 characters; Bluesky allows 300"):
        run(go("é" * 301))
    assert src._session is None  # refused before logging in or sending anything


def test_an_expired_session_is_refreshed(room: dict[str, Any]) -> None:
    src = source(room)
    fetch(src, {})
    assert src._session is not None
    src._session["access"] = src._session["access"][:-6] + "AAAAAA"  # a token the server rejects
    logins: list[int] = []
    login = src._login

    async def counting_login(c: httpx.AsyncClient) -> dict[str, str]:
        logins.append(1)
        return await login(c)

    src._login = counting_login  # type: ignore[method-assign]
    assert fetch(src, {}).mentions  # refreshed and carried on
    assert logins == []  # through refreshSession, not a new login (bsky.social limits those)
    src._session["refresh"] = "not-a-refresh-token"
    src._session["access"] = "not-an-access-token"
    assert fetch(src, {}).mentions  # the refresh refused too: logged in again
    assert logins == [1]


def test_a_wrong_app_password_is_an_auth_error(room: dict[str, Any]) -> None:
    src = source(room, password="wrong-pass-word-here")
    with pytest.raises(AuthError, match="handle or app password was refused") as info:
        fetch(src, {})
    assert "wrong-pass-word-here" not in str(info.value)


def test_check_for_doctor(room: dict[str, Any]) -> None:
    async def go(src: BlueskySource) -> list[str]:
        async with client() as c:
            return await src.check(c)

    assert run(go(source(room))) == []
    problems = run(go(source(room, password="nope-nope-nope-nope")))
    assert len(problems) == 1 and "refused" in problems[0]


def test_thread_context_lists_the_parents_oldest_first(room: dict[str, Any]) -> None:
    net: Network = room["net"]
    ana: Account = room["ana"]
    root = post(net, ana, "Which phone has the best battery this year?")
    middle = post(net, ana, "Asking because my old one dies by noon", reply={"root": root, "parent": root})
    leaf = post(net, ana, "@lumio.test does the Lumio X last a day?",
                reply={"root": root, "parent": middle})  # fmt: skip
    net.process_all()
    src = source(room)

    async def go() -> list[Mention]:
        async with client() as c:
            return await src.thread(c, leaf | {"root": root})

    parents = run(go())
    assert [m.native_id for m in parents] == [root["uri"], middle["uri"]]
    assert parents[0].text == "Which phone has the best battery this year?"
    assert parents[1].in_reply_to == root["uri"]


def test_our_reply_is_found_among_the_posts_replies_before_a_retry(room: dict[str, Any]) -> None:
    """For the outbox: a send whose answer was lost is looked for (getPostThread) before a retry."""
    net: Network = room["net"]
    question = post(net, room["ana"], "Does the lumio case fit the new model?")
    net.process_all()
    src = source(room)
    ref = {"uri": question["uri"], "cid": question["cid"], "root": question}

    async def go(text: str) -> Any:
        async with client() as c:
            return await src.find_own_reply(c, ref, text)

    assert run(go("Yes, it fits!")) is None  # nothing posted yet

    async def send() -> Any:
        async with client() as c:
            return await src.reply(c, ref, "Yes, it fits!", "fit-1")

    sent = run(send())
    net.process_all()
    found = run(go("Yes,  it fits!"))
    assert found is not None and found.native_id == sent.native_id
    assert run(go("Something else")) is None


def test_doctor_probes_search_and_notifications_on_the_pds(room: dict[str, Any]) -> None:
    async def go(src: BlueskySource) -> list[tuple[str, str]]:
        async with client() as c:
            return [(f.level, f.text) for f in await src.probe(c)]

    found = run(go(source(room)))
    assert found[0] == ("ok", f"{room['net'].pds} reachable, logged in as lumio.test")
    assert any(level == "ok" and text.startswith("search 'lumio': ") and text.endswith(" recent posts")
               for level, text in found)  # the posts the room made are found
    assert any(level == "ok" and text.startswith("notifications: readable") for level, text in found)
    refused = run(go(source(room, password="nope-nope-nope-nope")))
    assert [level for level, _ in refused] == ["bad"]
