"""One conditional HTTP GET of a feed URL.

Sends If-None-Match / If-Modified-Since from the previous answer, follows redirects (and reports where a
chain of permanent ones, 301 / 308, says the feed now lives), and reads at most MAX_FEED_BYTES (after
decompression) within DEADLINE_SECONDS. HTTP failures become the connector exceptions: 429, or 503 with
Retry-After, is RateLimited; other 5xx, timeouts and network errors are TransientError; a feed that is
not there (404 / 410) or refuses us is PayloadRejected. Every reason names the URL.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from apps.core.parsing import ascii_int

from ..base import PayloadRejected, RateLimited, TransientError
from ..http import public_client

MAX_FEED_BYTES = 10 * 1024 * 1024
DEADLINE_SECONDS = 60.0
MAX_REDIRECTS = 5
PERMANENT_REDIRECTS = (301, 308)
USER_AGENT = "CXM-FeedReader/1.0 (conditional GET; honours Retry-After)"
ACCEPT = (
    "application/atom+xml, application/rss+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.1"
)


@dataclass
class FeedResponse:
    url: str  # the URL that finally answered (after redirects)
    permanent_url: str | None  # where 301 / 308 redirects say the feed lives now, if they do
    not_modified: bool
    body: bytes = b""
    content_type: str = ""
    etag: str = ""
    last_modified: str = ""


def feed_client(*, timeout: float = 30.0) -> httpx.Client:
    return public_client(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        headers={"User-Agent": USER_AGENT, "Accept": ACCEPT},
    )


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After is either delay-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if (seconds := ascii_int(value)) is not None:
        return float(seconds)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _permanent_url(response: httpx.Response) -> str | None:
    """The URL reached by the leading run of permanent redirects (a later 302 is temporary: not kept)."""
    hops = response.history
    urls = [str(hop.url) for hop in hops] + [str(response.url)]
    moved = None
    for index, hop in enumerate(hops):
        if hop.status_code not in PERMANENT_REDIRECTS:
            break
        moved = urls[index + 1]
    return moved


def _refuse(url: str, response: httpx.Response) -> None:
    status = response.status_code
    phrase = f"HTTP {status} {response.reason_phrase}".strip()
    if status == 304:
        return
    if status == 429 or (status == 503 and response.headers.get("retry-after")):
        delay = retry_after_seconds(response.headers.get("retry-after"))
        wait = f"; retry after {delay:.0f} s" if delay is not None else ""
        raise RateLimited(f"feed {url} is rate limited ({phrase}{wait})", retry_after=delay)
    if status == 404:
        raise PayloadRejected(f"feed {url} was not found ({phrase})")
    if status == 410:
        raise PayloadRejected(f"feed {url} is gone for good ({phrase})")
    if status >= 500 or status == 408:
        raise TransientError(f"feed {url} failed on the server ({phrase})")
    if status in (401, 403):
        raise PayloadRejected(f"feed {url} refused access ({phrase}); is it private?")
    if not 200 <= status < 300:
        raise PayloadRejected(f"feed {url} answered {phrase}")


def feed_get(client: httpx.Client, url: str, *, etag: str = "", last_modified: str = "") -> FeedResponse:
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    started = time.monotonic()
    try:
        with client.stream("GET", url, headers=headers) as response:
            _refuse(url, response)
            result = FeedResponse(
                url=str(response.url),
                permanent_url=_permanent_url(response),
                not_modified=response.status_code == 304,
                content_type=response.headers.get("content-type", ""),
                etag=response.headers.get("etag", ""),
                last_modified=response.headers.get("last-modified", ""),
            )
            if result.not_modified:
                return result
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_FEED_BYTES:
                raise PayloadRejected(
                    f"feed {url} is too large ({int(declared):,} bytes; at most {MAX_FEED_BYTES:,})"
                )
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_FEED_BYTES:
                    raise PayloadRejected(f"feed {url} is too large (more than {MAX_FEED_BYTES:,} bytes)")
                if time.monotonic() - started > DEADLINE_SECONDS:
                    raise TransientError(f"feed {url} took more than {DEADLINE_SECONDS:.0f} s to download")
                chunks.append(chunk)
            result.body = b"".join(chunks)
            return result
    except httpx.TooManyRedirects:
        raise PayloadRejected(f"feed {url} redirects more than {MAX_REDIRECTS} times") from None
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as error:
        raise PayloadRejected(f"feed URL {url} cannot be fetched: {error}") from None
    except httpx.TimeoutException:
        raise TransientError(f"feed {url} timed out") from None
    except httpx.DecodingError as error:
        raise TransientError(f"feed {url} sent a body that cannot be decoded: {error}") from None
    except httpx.HTTPError as error:
        raise TransientError(f"feed {url} could not be reached: {error or type(error).__name__}") from None
