"""Rate-limit headers, Retry-After, status mapping."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from app.sources.base import AuthError, BadResponse, RateLimited, TransientError
from app.sources.http import (
    Response,
    parse_json,
    parse_reset,
    parse_retry_after,
    raise_for_status,
    rate_limit_wait,
)

NOW = datetime(2026, 11, 24, 3, 20, tzinfo=UTC).timestamp()


def response(status: int, body: bytes = b"", **headers: str) -> Response:
    return Response(status=status, headers=httpx.Headers(headers), body=body,
                    url=httpx.URL("https://m.test/api/v1/x?access_token=SECRET"))  # fmt: skip


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert parse_retry_after("120", NOW) == 120
    assert parse_retry_after("Tue, 24 Nov 2026 03:21:00 GMT", NOW) == 60
    assert parse_retry_after("Tue, 24 Nov 2026 03:00:00 GMT", NOW) == 0  # in the past
    assert parse_retry_after("soon", NOW) is None and parse_retry_after(None) is None
    assert parse_retry_after("99999999", NOW) == 3600  # capped: a bogus header cannot park us


def test_reset_as_iso_time_epoch_or_delta() -> None:
    assert parse_reset("2026-11-24T03:25:00.000Z", NOW) == 300  # Mastodon
    assert parse_reset(str(int(NOW) + 42), NOW) == 42  # atproto: epoch seconds
    assert parse_reset("30", NOW) == 30  # a delta


def test_rate_limit_wait_only_when_the_window_is_spent() -> None:
    spent = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2026-11-24T03:25:00Z"}
    assert rate_limit_wait(httpx.Headers(spent), now=NOW) == 300
    plenty = {"X-RateLimit-Remaining": "250", "X-RateLimit-Reset": "2026-11-24T03:25:00Z"}
    assert rate_limit_wait(httpx.Headers(plenty), now=NOW) is None
    atproto = {"RateLimit-Remaining": "3", "RateLimit-Reset": str(int(NOW) + 10)}
    assert rate_limit_wait(httpx.Headers(atproto), reserve=5, now=NOW) == 10
    assert rate_limit_wait(httpx.Headers({}), now=NOW) is None


@pytest.mark.parametrize(
    ("status", "kind", "words"),
    [(401, AuthError, "credentials were refused: The access token is invalid — use X"),
     (403, AuthError, "403 Forbidden"), (404, BadResponse, "404 Not Found"),
     (429, RateLimited, "retry after 7 s"), (500, TransientError, "500 Internal Server Error"),
     (502, TransientError, "Bad Gateway"),
     # a server that says 400/422 about the token means the token: a credential problem
     (422, AuthError, "422 Unprocessable Entity .*credentials were refused.* — use X"),
     (400, AuthError, "400 Bad Request .*credentials were refused.* — use X")],
)  # fmt: skip
def test_status_mapping(status: int, kind: type[Exception], words: str) -> None:
    resp = response(status, b'{"error":"The access token is invalid"}', **{"Retry-After": "7"})
    with pytest.raises(kind, match=words) as info:
        raise_for_status(resp, auth_hint="use X")
    assert "SECRET" not in str(info.value)  # the query string is never quoted
    assert isinstance(info.value, RateLimited) == (status == 429)
    if status == 429:
        assert info.value.retry_after == 7  # type: ignore[attr-defined]


def test_a_400_about_something_else_stays_a_bad_response() -> None:
    resp = response(422, b'{"error":"Validation failed: Text character limit of 500 exceeded"}')
    with pytest.raises(BadResponse, match="422 Unprocessable Entity") as info:
        raise_for_status(resp, auth_hint="use X")
    assert not isinstance(info.value, AuthError)


def test_json_bodies_that_are_not_json() -> None:
    with pytest.raises(BadResponse, match="HTML page \\('Down'\\)"):
        parse_json(b"<!doctype html><title>Down</title>", "application/json", "m.test/x")
    with pytest.raises(BadResponse, match="malformed JSON"):
        parse_json(b'{"a": ', "application/json", "m.test/x")
    with pytest.raises(BadResponse, match="not valid UTF-8 \\(byte 7\\)"):
        parse_json(b'{"a": "\xff"}', "application/json", "m.test/x")
    assert parse_json(b'{"a": "\\ud800"}', "application/json", "m.test/x") == {"a": "\ud800"}


def test_inflate_reads_the_shapes_servers_send() -> None:
    import gzip
    import zlib

    from app.sources.http import inflate

    two_members = gzip.compress(b"a" * 10) + gzip.compress(b"b" * 5)
    assert inflate(two_members, ["gzip"], 100, "m.test/x") == b"a" * 10 + b"b" * 5
    assert inflate(gzip.compress(b"a" * 10) + b"junk", ["gzip"], 100, "m.test/x") == b"a" * 10
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)  # raw deflate, no zlib header
    assert inflate(packer.compress(b"hi") + packer.flush(), ["deflate"], 100, "m.test/x") == b"hi"
    stacked = gzip.compress(zlib.compress(b"q" * 50))  # deflate applied first, then gzip
    assert inflate(stacked, ["deflate", "gzip"], 100, "m.test/x") == b"q" * 50
    with pytest.raises(BadResponse, match="gzip body that does not decode"):
        inflate(b"not gzip at all", ["gzip"], 100, "m.test/x")
