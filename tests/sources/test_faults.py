"""A bad day, source by source: every fault becomes a readable SourceError, never a crash."""

from __future__ import annotations

import pytest

from app.sources.base import (
    AuthError,
    BadResponse,
    RateLimited,
    Source,
    SourceError,
    TransientError,
)
from tests.peers.faults import refused_url
from tests.peers.server import LoopbackServer
from tests.sources.helpers import bluesky, client, context, mastodon, rss, run

SECRET = "s3cret-token-value"


async def fetch_error(source: Source) -> SourceError:
    async with client() as c:
        with pytest.raises(SourceError) as info:
            await source.fetch(c, {})
    return info.value


@pytest.mark.parametrize(
    ("fault", "kind", "words"),
    [
        ("timeout", TransientError, "timed out"),
        ("401", AuthError, "401 Unauthorized"),
        ("403", AuthError, "403 Forbidden"),
        ("404", BadResponse, "404 Not Found"),
        ("429", RateLimited, "429 Too Many Requests"),
        ("503", TransientError, "503 Service Unavailable"),
        ("malformed", BadResponse, "malformed JSON"),
        ("maintenance", BadResponse, "HTML page"),
        ("huge", BadResponse, "more than 1,048,576 bytes"),
        ("huge-declared", BadResponse, "over the 1,048,576-byte cap"),
        ("drip", TransientError, "timed out"),
        ("badutf8", BadResponse, "not valid UTF-8"),
    ],
)
def test_mastodon_fault_is_a_readable_source_error(faults: LoopbackServer, fault: str,
                                                    kind: type[SourceError], words: str) -> None:  # fmt: skip
    source = mastodon(f"{faults.url}/{fault}", context({"TOKEN": SECRET}), token_env="TOKEN",
                      timeout_s=1.5)  # fmt: skip
    source._me = {"id": "1", "acct": "lumio"}  # skip verify_credentials: hit the fault directly
    error = run(fetch_error(source))
    assert type(error) is kind
    assert words in error.reason
    assert f"127.0.0.1:{faults.url.rsplit(':', 1)[1]}/{fault}" in error.reason  # says where
    assert SECRET not in error.reason and SECRET not in repr(error)


def test_wrong_token_is_named_and_points_at_the_setting(faults: LoopbackServer) -> None:
    source = mastodon(f"{faults.url}/401", context({"WF_TOKEN": SECRET}), token_env="WF_TOKEN")
    error = run(fetch_error(source))
    assert isinstance(error, AuthError)
    assert "The access token is invalid" in error.reason and "WF_TOKEN" in error.reason


def test_429_carries_retry_after(faults: LoopbackServer) -> None:
    error = run(fetch_error(mastodon(f"{faults.url}/429")))
    assert isinstance(error, RateLimited) and error.retry_after == 120


def test_connection_refused() -> None:
    error = run(fetch_error(mastodon(refused_url())))
    assert isinstance(error, TransientError) and "connection refused" in error.reason


def test_lone_surrogates_become_replacement_characters(faults: LoopbackServer) -> None:
    async def go() -> str:
        async with client() as c:
            result = await mastodon(f"{faults.url}/surrogates").fetch(c, {})
        return result.mentions[0].text

    text = run(go())
    assert text == "half an emoji \ufffd and \ufffd here"
    text.encode("utf-8")  # storable: no lone surrogate left


@pytest.mark.parametrize(
    ("fault", "kind", "words"),
    [
        ("503", TransientError, "503"),
        ("html-feed", BadResponse, "HTML page, not a feed"),
        ("empty-feed", BadResponse, "empty body"),
        ("drip", TransientError, "timed out"),
        ("huge", BadResponse, "more than"),
        ("404", BadResponse, "404 Not Found"),
    ],
)
def test_rss_fault(faults: LoopbackServer, fault: str, kind: type[SourceError], words: str) -> None:
    error = run(fetch_error(rss(f"{faults.url}/{fault}/feed.xml", timeout_s=1.5)))
    assert type(error) is kind and words in error.reason


@pytest.mark.parametrize(
    ("fault", "kind"),
    [("401", AuthError), ("503", TransientError), ("maintenance", BadResponse),
     ("timeout", TransientError), ("429", RateLimited)],
)  # fmt: skip
def test_bluesky_login_fault(faults: LoopbackServer, fault: str, kind: type[SourceError]) -> None:
    source = bluesky(f"{faults.url}/{fault}", context({"PW": SECRET}), handle="lumio.test",
                     password_env="PW", timeout_s=1.5)  # fmt: skip
    error = run(fetch_error(source))
    assert type(error) is kind
    assert SECRET not in error.reason


def test_bluesky_without_a_password_is_an_auth_error(faults: LoopbackServer) -> None:
    source = bluesky(f"{faults.url}/ok", handle="lumio.test", password_env="MISSING")
    error = run(fetch_error(source))
    assert isinstance(error, AuthError) and "MISSING is not set" in error.reason


def test_check_reports_problems_for_doctor(faults: LoopbackServer) -> None:
    async def go() -> list[list[str]]:
        async with client() as c:
            return [
                await mastodon(refused_url()).check(c),
                await mastodon(f"{faults.url}/maintenance").check(c),
                await rss(f"{faults.url}/html-feed/feed.xml").check(c),
                await rss(f"{faults.url}/ok/feed.xml").check(c),
            ]

    refused, maintenance, html_feed, healthy = run(go())
    assert "connection refused" in refused[0]
    assert "HTML page" in maintenance[0]
    assert "not a readable RSS/Atom feed" in html_feed[0]
    assert healthy == []
