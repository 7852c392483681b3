"""HTTP for every network source: bounded requests and one mapping of failures to errors.

A real server on a bad day hangs, drips a byte a second, answers with a maintenance page,
sends a gigabyte or refuses the token. Every request here has a *total* deadline (httpx's
timeouts are per read, so a drip would never trip them) and a size cap enforced while
streaming, and every failure becomes one of the :mod:`app.sources.base` errors with a
reason a person can read on the wall. Reasons name the host and path, never the query
string or a header, so a token cannot leak into a log line or the database.

Credentials go to one origin only: the configured server's (scheme, host and port).
Redirects are followed here, not by httpx, and a request carrying credentials that a
link or a redirect would take elsewhere is refused (:class:`ForeignOrigin`). Bodies are
read compressed and inflated here too, in a worker thread and with the cap applied while
inflating, layer by layer: ``Content-Encoding: gzip, gzip`` turns 3.6 KB into 2 GB, and
httpx checks nothing until each chunk is fully inflated.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import math
import re
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from app.sources.base import (
    AuthError,
    BadResponse,
    ForeignOrigin,
    RateLimited,
    SourceError,
    TransientError,
)

log = logging.getLogger(__name__)

#: the most we wait for a rate-limit window, so a bogus reset header cannot park a source for days
MAX_RATE_WAIT_S = 3600.0
MAX_REDIRECTS = 5
#: what we can inflate with a cap; nothing else is asked for (a server sending it anyway is refused)
ACCEPT_ENCODING = "gzip, deflate"
_CREDENTIAL_HEADERS = ("authorization", "proxy-authorization")
#: a 400/422 whose explanation names the credentials (some servers say "Invalid Bearer token"
#: where Mastodon says 401): a credential problem, not a bad request
_NAMES_CREDENTIALS = re.compile(
    r"(?i)\b(bearer|access[ _]?token|token|credentials?|unauthori[sz]ed|not authenticated|"
    r"authentication (failed|required)|invalid_grant|invalid_token)\b"
)


@dataclass(slots=True)
class Response:
    """A fully read response: status, headers and a body no bigger than the cap."""

    status: int
    headers: httpx.Headers
    body: bytes
    url: httpx.URL
    links: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return where(self.url)

    def json(self) -> Any:
        """The body as JSON, or :class:`BadResponse` saying what came instead."""
        return parse_json(self.body, self.headers.get("content-type", ""), self.where)

    def link(self, rel: str) -> str | None:
        return self.links.get(rel, {}).get("url")


def where(url: httpx.URL | str) -> str:
    """``host/path`` of a URL: enough to locate a problem, nothing secret."""
    u = httpx.URL(str(url))
    port = f":{u.port}" if u.port else ""
    return f"{u.host}{port}{u.path}"


def _shown(url: httpx.URL | str) -> str:
    """``scheme://host/path`` of a URL (no query string, nothing secret)."""
    try:
        scheme = httpx.URL(str(url)).scheme
    except httpx.InvalidURL:
        scheme = ""
    return f"{scheme}://{where(url)}" if scheme else where(url)


def origin(url: httpx.URL | str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the scheme's default port filled in: what "the same server" means."""
    u = httpx.URL(str(url))
    port = u.port or {"http": 80, "https": 443}.get(u.scheme)
    return (u.scheme, u.host.casefold(), port)


def same_origin(a: httpx.URL | str, b: httpx.URL | str) -> bool:
    return origin(a) == origin(b)


def origin_text(url: httpx.URL | str) -> str:
    scheme, host, port = origin(url)
    return f"{scheme}://{host}:{port}"


def parse_json(body: bytes, content_type: str, place: str) -> Any:
    if looks_like_html(body, content_type):
        title = html_title(body)
        hint = f" ({title!r})" if title else ""
        raise BadResponse(
            f"{place} answered with an HTML page{hint} instead of JSON (maintenance?)"
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadResponse(
            f"{place} sent a body that is not valid UTF-8 (byte {exc.start})"
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadResponse(
            f"{place} sent malformed JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None


def looks_like_html(body: bytes, content_type: str) -> bool:
    if "html" in content_type.lower():
        return True
    head = body[:256].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body"))


def html_title(body: bytes) -> str:
    match = re.search(rb"<title[^>]*>(.*?)</title>", body[:65536], re.IGNORECASE | re.DOTALL)
    if not match:
        return ""
    title = match.group(1).decode("utf-8", "replace")
    return " ".join(title.split())[:80]


def error_message(resp: Response) -> str:
    """The server's own explanation from a JSON error body (Mastodon, XRPC), if any."""
    try:
        data = json.loads(resp.body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return ""
    if not isinstance(data, dict):
        return ""
    parts = [str(data[k]) for k in ("error", "message", "error_description") if data.get(k)]
    text = ": ".join(dict.fromkeys(parts))
    return " ".join(text.split())[:200]


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds from now: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    now = time.time() if now is None else now
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - now
    if not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), MAX_RATE_WAIT_S)


def parse_reset(value: str | None, now: float | None = None) -> float | None:
    """A rate-limit reset header as seconds from now.

    Mastodon sends an ISO 8601 time, atproto and many others epoch seconds, a few a
    delta in seconds; all three are accepted.
    """
    if not value:
        return None
    value = value.strip()
    now = time.time() if now is None else now
    try:
        number = float(value)
    except ValueError:
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return parse_retry_after(value, now)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - now
    else:
        if not math.isfinite(number):
            return None
        seconds = number - now if number > 1e9 else number
    return min(max(seconds, 0.0), MAX_RATE_WAIT_S)


def rate_limit_wait(
    headers: Mapping[str, str], *, reserve: int = 1, now: float | None = None
) -> float | None:
    """Seconds to wait before the next request when the rate-limit window is (nearly) spent.

    Reads ``X-RateLimit-Remaining``/``-Reset`` (Mastodon) and ``RateLimit-Remaining``/
    ``-Reset`` (atproto). ``None`` means no need to wait beyond the usual interval.
    """
    for prefix in ("x-ratelimit-", "ratelimit-"):
        remaining = headers.get(prefix + "remaining")
        if remaining is None:
            continue
        try:
            left = int(float(remaining))
        except ValueError:
            continue
        if left > reserve:
            return None
        return parse_reset(headers.get(prefix + "reset"), now)
    return None


def raise_for_status(resp: Response, *, auth_hint: str = "") -> None:
    """Map a non-2xx answer to the error the poller understands."""
    status = resp.status
    if status < 400:
        return
    said = error_message(resp)
    detail = f": {said}" if said else ""
    place = resp.where
    if status == 401:
        hint = f" — {auth_hint}" if auth_hint else ""
        raise AuthError(
            f"401 Unauthorized from {place}: the credentials were refused{detail}{hint}"
        )
    if status == 403:
        hint = f" — {auth_hint}" if auth_hint else ""
        raise AuthError(f"403 Forbidden from {place}: access denied{detail}{hint}")
    if status in (400, 422) and said and _NAMES_CREDENTIALS.search(said):
        hint = f" — {auth_hint}" if auth_hint else ""
        raise AuthError(
            f"{status} {_phrase(status)} from {place}: the credentials were refused{detail}{hint}"
        )
    if status == 429:
        wait = parse_retry_after(resp.headers.get("retry-after"))
        if wait is None:
            wait = rate_limit_wait(resp.headers, reserve=10**9)
        after = f", retry after {wait:.0f} s" if wait is not None else ""
        raise RateLimited(f"429 Too Many Requests from {place}{after}", retry_after=wait)
    if status == 404:
        raise BadResponse(f"404 Not Found: {place} (check base_url/url){detail}")
    if status in (408, 425) or status >= 500:
        wait = parse_retry_after(resp.headers.get("retry-after"))
        if looks_like_html(resp.body, resp.headers.get("content-type", "")):
            title = html_title(resp.body)
            detail = f" ({title!r})" if title else ""
        raise TransientError(f"{status} {_phrase(status)} from {place}{detail}", retry_after=wait)
    raise BadResponse(f"{status} {_phrase(status)} from {place}{detail}")


def _phrase(status: int) -> str:
    try:
        return httpx.codes(status).get_reason_phrase(status)
    except ValueError:
        return "error"


async def request(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
    json_body: Any = None,
    content: bytes | None = None,
    timeout_s: float = 20.0,
    max_bytes: int = 8 * 1024 * 1024,
    check: bool = True,
    auth_hint: str = "",
    home: str | None = None,
) -> Response:
    """One request with a total deadline and a streamed size cap.

    With ``check`` (the default) a non-2xx status raises; without it the caller sees
    the status (to refresh an expired session, or to accept a 304). ``home`` is the
    configured server: credentials are sent to its origin only (default: ``url``'s).
    """
    target = where(url)
    home = home or url
    try:
        async with asyncio.timeout(timeout_s):
            resp = await _send(client, method, url, params, headers, json_body, content,
                               max_bytes, home)  # fmt: skip
    except TimeoutError:
        raise TransientError(
            f"{target} timed out (no complete answer within {timeout_s:g} s)"
        ) from None
    except httpx.TimeoutException:
        raise TransientError(f"{target} timed out") from None
    except httpx.ConnectError as exc:
        raise TransientError(f"cannot connect to {target}: {_connect_reason(exc)}") from None
    except httpx.RemoteProtocolError:
        raise TransientError(f"{target} closed the connection or broke the HTTP protocol") from None
    except httpx.UnsupportedProtocol:
        raise SourceError(f"{_shown(url)}: not an http or https address (check base_url/url)") from None
    except httpx.TransportError as exc:
        raise TransientError(f"network error talking to {_shown(url)}: {type(exc).__name__}") from None
    except httpx.InvalidURL as exc:
        raise SourceError(f"invalid URL {target!r}: {exc}") from None
    if check:
        raise_for_status(resp, auth_hint=auth_hint)
    return resp


def _connect_reason(exc: httpx.ConnectError) -> str:
    chain: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None and len(chain) < 8:
        chain.append(cause)
        cause = cause.__cause__ or cause.__context__
    if any(isinstance(c, ConnectionRefusedError) for c in chain):
        return "connection refused"
    text = " ".join(str(c) for c in chain).lower()
    if "refused" in text or "all connection attempts failed" in text:
        return "connection refused"
    if "name" in text and ("resolution" in text or "not known" in text or "resolve" in text):
        return "host name not found"
    return "host unreachable"


def carries_credentials(req: httpx.Request) -> bool:
    """Whether a request holds something only its own server may see.

    A body counts: what we send is a login (an app password) or a post as the brand.
    """
    if req.url.userinfo or any(h in req.headers for h in _CREDENTIAL_HEADERS):
        return True
    return req.method not in ("GET", "HEAD") and bool(req.content)


def refuse_foreign(req: httpx.Request, home: str, *, via: str = "") -> None:
    """Raise :class:`ForeignOrigin` if ``req`` would take credentials away from ``home``."""
    if carries_credentials(req) and not same_origin(req.url, home):
        how = f" ({via})" if via else ""
        raise ForeignOrigin(
            f"refused to send credentials to {origin_text(req.url)}{how}: they go only to "
            f"the configured server {origin_text(home)}"
        )


def _redirect(req: httpx.Request, resp: httpx.Response) -> httpx.Request | None:
    """The request a 3xx answer asks for, or None if it is not a redirect we follow."""
    location = resp.headers.get("location")
    if resp.status_code not in (301, 302, 303, 307, 308) or not location:
        return None
    try:
        url = req.url.join(location)
    except httpx.InvalidURL:
        raise BadResponse(f"{where(req.url)} redirected to an invalid address") from None
    if url.scheme not in ("http", "https"):
        raise BadResponse(f"{where(req.url)} redirected to a {url.scheme or 'relative'} address")
    method, body = req.method, req.content
    headers = httpx.Headers(req.headers)
    if resp.status_code == 303 or (resp.status_code in (301, 302) and method == "POST"):
        method, body = ("GET" if method != "HEAD" else method), b""
        for name in ("content-length", "content-type", "transfer-encoding"):
            headers.pop(name, None)
    headers.pop("host", None)
    if not same_origin(url, req.url):
        headers.pop("cookie", None)  # one server's cookies are not another's to read
    return httpx.Request(method, url, headers=headers, content=body or None)


async def _send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    params: Mapping[str, Any] | list[tuple[str, Any]] | None,
    headers: Mapping[str, str] | None,
    json_body: Any,
    content: bytes | None,
    max_bytes: int,
    home: str,
) -> Response:
    req = client.build_request(
        method, url, params=params, headers=headers, json=json_body, content=content
    )
    req.headers["Accept-Encoding"] = ACCEPT_ENCODING
    refuse_foreign(req, home, via="a link from the server")
    for _ in range(MAX_REDIRECTS + 1):
        resp = await client.send(req, stream=True, follow_redirects=False)
        try:
            follow = _redirect(req, resp)
            if follow is None:
                raw, decoded = await _read_raw(resp, max_bytes)
                break
        finally:
            await resp.aclose()
        refuse_foreign(follow, home, via=f"redirected from {where(req.url)}")
        req = follow
    else:
        raise BadResponse(f"{where(req.url)} redirected more than {MAX_REDIRECTS} times")
    encodings = [] if decoded else _encodings(resp.headers.get("content-encoding", ""))
    body = raw
    if encodings:  # inflating costs CPU: off the event loop, which may be the GUI's
        body = await asyncio.to_thread(inflate, raw, encodings, max_bytes, where(resp.url))
    return Response(
        status=resp.status_code,
        headers=resp.headers,
        body=body,
        url=resp.url,
        links={k: dict(v) for k, v in resp.links.items() if isinstance(k, str)},
    )


async def _read_raw(resp: httpx.Response, max_bytes: int) -> tuple[bytes, bool]:
    """The body as sent (still compressed), no more than ``max_bytes`` of it, and whether
    it is decoded already (an in-memory answer, as a test transport gives, is)."""
    if resp.is_stream_consumed:
        body = resp.content
        if len(body) > max_bytes:
            raise BadResponse(f"{where(resp.url)} sent more than {max_bytes:,} bytes")
        return body, True
    declared = resp.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise BadResponse(
            f"{where(resp.url)} sent a body of {int(declared):,} bytes, over the "
            f"{max_bytes:,}-byte cap"
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.aiter_raw():
        size += len(chunk)
        if size > max_bytes:
            raise BadResponse(
                f"{where(resp.url)} sent more than {max_bytes:,} bytes; stopped reading"
            )
        chunks.append(chunk)
    return b"".join(chunks), False


def _encodings(header: str) -> list[str]:
    """The codings applied to a body, in the order they were applied (``identity`` left out)."""
    return [e for e in (p.strip().lower() for p in header.split(",")) if e and e != "identity"]


def inflate(body: bytes, encodings: list[str], max_bytes: int, place: str) -> bytes:
    """Undo ``encodings`` (last applied first), never holding more than ``max_bytes`` of output.

    Each layer is inflated in bounded steps (``max_length``), so a bomb is stopped after
    ``max_bytes`` of output, not after it has filled the memory.
    """
    for coding in reversed(encodings):
        if coding not in ("gzip", "x-gzip", "deflate"):
            raise BadResponse(f"{place} sent a body in an encoding we did not ask for ({coding!r})")
        # deflate is zlib-wrapped by the standard; some servers send it raw
        tries = [16 + zlib.MAX_WBITS] if coding != "deflate" else [zlib.MAX_WBITS, -zlib.MAX_WBITS]
        for n, wbits in enumerate(tries, 1):
            try:
                body = _inflate_steps(body, wbits, coding, max_bytes, place)
                break
            except zlib.error:
                if n == len(tries):
                    raise BadResponse(f"{place} sent a {coding} body that does not decode") from None
    return body


def _inflate_steps(body: bytes, wbits: int, coding: str, max_bytes: int, place: str) -> bytes:
    out = bytearray()
    inflater = zlib.decompressobj(wbits)
    pending = body
    follow_on = False  # inside a second gzip member: junk there ends the body, as browsers do
    while True:
        try:
            piece = inflater.decompress(pending, max_bytes + 1 - len(out))
        except zlib.error:
            if not follow_on:
                raise
            break
        out += piece
        if len(out) > max_bytes:
            raise BadResponse(
                f"{place} sent a {coding} body that inflates past the {max_bytes:,}-byte cap "
                f"({len(body):,} bytes compressed); stopped inflating"
            )
        pending = inflater.unconsumed_tail
        if inflater.eof:
            rest = inflater.unused_data
            if wbits > 16 and rest.strip(b"\0"):  # another gzip member follows
                inflater, pending, follow_on = zlib.decompressobj(wbits), rest, True
                continue
            break
        if not pending and not piece:
            break  # input used up (a truncated stream keeps what it gave)
    return bytes(out)
