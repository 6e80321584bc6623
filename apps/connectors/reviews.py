"""What the review-site connectors (Google Business Profile, App Store, Google Play, Trustpilot) do alike.

A poll reads the platform's reviews newest first, page by page, until it reaches reviews older than the
previous poll's newest one less REVISIT (a review edited, or answered, within that window is read again),
at most MAX_PAGES pages (one on a new channel: it starts with the latest page, not the whole history).
Each review is one raw payload (the platform's own JSON object) whose external id is the review's id and a
digest of its content: a review read again unchanged is stored once; a changed one (new text, new stars,
a reply added or published) is a new payload.

Each payload is interpreted the same way whatever the platform:
- the review → an inbound message (thread: the review) whose stars are kept in `metadata["rating"]` as
  {"value": 4, "best": 5.0}, the shape the feed-based "reviews" kind already stores;
- a later version of it → an edit of that message (the old text and stars kept in its history), applied
  only when the text or the stars changed;
- the brand's reply shown on the review → an outbound message `reply:<review id>` (one a review on every
  platform): a reply written in CXM is matched, not stored twice, and its delivery status moves on from
  what the platform says (published → delivered); one written in the platform's console is stored as the
  brand's.

- a review the platform no longer lists → its message marked deleted (kept for audit). The platforms say
  nothing else about deletions, so once a day a poll reads every page (at most MAX_SWEEP_PAGES) and keeps
  the ids listed in the cursor; those listed by the previous sweep and not by this one make one payload
  {"reviews_no_longer_listed": [ids], "at"} (Google Play, which lists only the last week, does not sweep).

Replies go out through the reply composer like on every channel (`send`): the platform's answer makes the
message sent (App Store: "PENDING_PUBLISH" until Apple publishes it, which a later poll sees).
Connectors stay pure: nothing here writes to the database (ingestion stores what `interpret` returns).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx

from .base import (
    Connector,
    DeliveryUpdate,
    FetchedItem,
    FetchResult,
    InboundAuthor,
    InboundMessage,
    Interpretation,
    MessageUpdate,
    PayloadRejected,
    RateLimited,
)
from .http import TIMEOUT, delay_seconds, error_reason, json_object, public_client, raise_for_status, send
from .normalized import clean_text, decode_json, parse_time

REVISIT = timedelta(days=14)
MAX_PAGES = 10
SWEEP_EVERY = timedelta(days=1)
MAX_SWEEP_PAGES = 200  # beyond this a location is too big to sweep: deletions are then not detected
DELETED_KEY = "reviews_no_longer_listed"
REPLY_PREFIX = "reply:"


@dataclass
class Reply:
    """The brand's answer shown on a review."""

    text: str
    at: datetime
    delivery: str = "delivered"  # a Message.Delivery value: "sent" while the platform has not published it
    platform_status: str = "published"


@dataclass
class Review:
    """One review as every platform has it: what `ReviewConnector.read` returns."""

    id: str
    rating: int | None
    text: str
    author: InboundAuthor
    created_at: datetime
    updated_at: datetime | None = None
    title: str = ""
    language: str = ""
    details: dict = field(default_factory=dict)  # the platform's own fields worth keeping (territory...)
    reply: Reply | None = None


# --- access tokens, kept in this process's memory until shortly before they expire, never in the database

_tokens: dict[tuple, tuple[str, float]] = {}
_tokens_lock = threading.Lock()


def cached_token(key: tuple, obtain: Callable[[], tuple[str, float]], *, renew: bool = False) -> str:
    """The token cached under `key`, or `obtain()` → (token, lifetime in seconds), kept a minute less."""
    with _tokens_lock:
        cached = _tokens.get(key)
        if cached and not renew and cached[1] > time.monotonic():
            return cached[0]
        _tokens.pop(key, None)
    token, lifetime = obtain()
    with _tokens_lock:
        _tokens[key] = (token, time.monotonic() + max(30.0, lifetime - 60))
    return token


def secret_digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def google_access_token(channel, http: httpx.Client, *, renew: bool = False) -> str:
    """An OAuth 2.0 access token from the channel's refresh token (Google Business Profile, Google Play).
    A refresh token that expired or was revoked refuses the channel with what to do about it."""
    credentials, settings = channel.credentials or {}, channel.settings or {}
    missing = [k for k in ("client_id", "client_secret", "refresh_token") if not credentials.get(k)]
    if missing:
        raise PayloadRejected(f"the channel's Google credentials lack {', '.join(missing)}")
    token_base = (settings.get("token_base") or "https://oauth2.googleapis.com").rstrip("/")

    def obtain() -> tuple[str, float]:
        response = send(
            http,
            "POST",
            f"{token_base}/token",
            platform="Google",
            data={
                "grant_type": "refresh_token",
                "client_id": credentials["client_id"],
                "client_secret": credentials["client_secret"],
                "refresh_token": credentials["refresh_token"],
            },
        )
        if response.status_code == 429 or response.status_code >= 500:
            raise_for_status(
                response,
                platform="Google",
                what="a token refresh",
                retry_after=delay_seconds(response.headers.get("retry-after")),
            )
        data = json_object(response, platform="Google", what="a token refresh", expect=object)
        data = data if isinstance(data, dict) else {}
        if response.status_code >= 400 or not data.get("access_token"):
            error = data.get("error") or response.status_code
            described = f"{error}: {data['error_description']}" if data.get("error_description") else error
            raise PayloadRejected(
                f"Google refused the channel's refresh token ({described}): "
                "sign in with Google again and paste the new refresh token in the channel's settings"
            )
        lifetime = data.get("expires_in") if isinstance(data.get("expires_in"), int | float) else 3600
        return data["access_token"], float(lifetime)

    key = ("google", token_base, credentials["client_id"], secret_digest(credentials["refresh_token"]))
    return cached_token(key, obtain, renew=renew)


def google_error(data: dict) -> object:
    """Google APIs answer errors as {"error": {"code", "message", "status", "errors": [{"reason"}]}}."""
    error = data.get("error")
    if isinstance(error, dict):
        return error.get("message") or error.get("status")
    return data.get("error_description") or error


_GOOGLE_QUOTA_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded", "dailyLimitExceeded"}


def google_quota_refusal(response: httpx.Response) -> RateLimited | None:
    """Google says "quota" with a 403 too (older APIs: errors[].reason rateLimitExceeded, quotaExceeded),
    or with status RESOURCE_EXHAUSTED: rate limits to wait out, not refusals."""
    if response.status_code != 403:
        return None
    try:
        error = response.json().get("error") or {}
        reasons = {e.get("reason") for e in error.get("errors") or [] if isinstance(e, dict)}
        status = error.get("status")
    except (ValueError, AttributeError):
        return None
    if status == "RESOURCE_EXHAUSTED" or reasons & _GOOGLE_QUOTA_REASONS:
        wait = delay_seconds(response.headers.get("retry-after"))
        daily = "quotaExceeded" in reasons or "dailyLimitExceeded" in reasons
        return RateLimited(
            f"Google's quota is spent: {error.get('message') or status}", wait or (3600 if daily else 60)
        )
    return None


class ReviewApi:
    """One channel's session with a review platform for one poll or reply: the platform's bearer token
    (renewed once when the platform answers 401: it expired early or was revoked), its errors mapped the
    same way as every connector's (apps/connectors/http.py)."""

    def __init__(self, connector: ReviewConnector, channel, http: httpx.Client):
        self.connector, self.channel, self.http = connector, channel, http
        self.base = connector.api_base(channel)

    def request(self, method: str, path: str, *, what: str = "", **kwargs) -> dict:
        url = path if path.startswith(("http://", "https://")) else f"{self.base}{path}"
        what = what or path.split("?")[0]
        platform = self.connector.platform
        extra_headers = kwargs.pop("headers", {})
        response = None
        for attempt in range(2):
            headers = {**extra_headers, **self.connector.auth_headers(self.channel, self.http, attempt > 0)}
            response = send(self.http, method, url, platform=platform, headers=headers, **kwargs)
            if response.status_code != 401:
                break
        if response.status_code == 401:
            reason = error_reason(response, self.connector.error_message)
            said = f"HTTP 401: {reason}" if reason else "HTTP 401"
            raise PayloadRejected(
                f"{platform} refused the channel's credentials on {what} ({said}): "
                "they expired or were revoked; update them in the channel's settings"
            )
        if refusal := self.connector.quota_refusal(response):
            raise refusal
        raise_for_status(
            response,
            platform=platform,
            what=what,
            reason=error_reason(response, self.connector.error_message),
            retry_after=self.connector.retry_after(response),
        )
        if not response.content:
            return {}
        return json_object(response, platform=platform, what=what)


class ReviewConnector(Connector):
    """A review site polled for the brand's reviews, replied to where the platform allows."""

    polls = True
    poll_interval_seconds = 900
    # Whether the platform lists every review (so that one missing from a full read was deleted).
    sweeps = True
    platform = ""  # the platform's name in reasons
    default_api_base = ""
    # What the reply composer checks (apps/replies/limits.py): one public answer to the review.
    limits = {"max_length": 4096, "length_unit": "characters", "reaches": "conversation"}

    # ---- what each platform says -------------------------------------------------------------------------

    def api_base(self, channel) -> str:
        return ((channel.settings or {}).get("api_base") or self.default_api_base).rstrip("/")

    def auth_headers(self, channel, http: httpx.Client, renew: bool) -> dict[str, str]:
        raise NotImplementedError

    def error_message(self, data: dict) -> object:
        return data.get("message") or data.get("error")

    def quota_refusal(self, response: httpx.Response) -> RateLimited | None:
        return None

    def retry_after(self, response: httpx.Response) -> float | None:
        return delay_seconds(response.headers.get("retry-after"))

    def pages(self, api: ReviewApi, channel) -> Iterator[list[dict]]:
        """The platform's reviews, newest first (by `sort_time`), a page at a time; each one a JSON object
        (the platform's review, with what belongs to it: App Store's response)."""
        raise NotImplementedError

    def review_id(self, document: dict) -> str:
        raise NotImplementedError

    def sort_time(self, document: dict) -> datetime:
        """The time the platform's listing is sorted by (newest first)."""
        raise NotImplementedError

    def read(self, channel, document: dict) -> Review:
        """The review a payload holds; PayloadRejected when it is not one."""
        raise NotImplementedError

    def reply(self, api: ReviewApi, channel, review_id: str, text: str) -> None:
        """Publish (or replace) the brand's answer to a review."""
        raise PayloadRejected(f"{self.platform} does not let the brand answer reviews")

    # ---- fetch -------------------------------------------------------------------------------------------

    def fetch(self, channel) -> FetchResult:
        cursor = dict(channel.cursor or {})
        since = parse_time(cursor["since"], "cursor.since") if cursor.get("since") else None
        now = datetime.now(UTC)
        swept = parse_time(cursor["swept_at"], "cursor.swept_at") if cursor.get("swept_at") else None
        # A sweep reads every page (once a day) to see which reviews are gone: the platforms list a deleted
        # review no more, and say nothing else about it.
        sweep = self.sweeps and since is not None and (swept is None or now - swept >= SWEEP_EVERY)
        stop_before = since - REVISIT if since else None
        items: list[FetchedItem] = []
        listed: set[str] = set()
        complete = False
        newest = since
        with public_client(timeout=TIMEOUT) as http:
            api = ReviewApi(self, channel, http)
            for number, page in enumerate(self.pages(api, channel), start=1):
                reached = False
                for document in page:
                    try:
                        review_id, at = self.review_id(document), self.sort_time(document)
                    except (PayloadRejected, KeyError, TypeError, AttributeError):
                        # Kept anyway: `interpret` rejects it with the reason, nothing is dropped unseen.
                        review_id, at = "", None
                    listed.add(review_id)
                    if at is not None and stop_before is not None and at < stop_before:
                        reached = True
                        continue
                    if at is not None:
                        newest = max(newest, at) if newest else at
                    body = json.dumps(document, sort_keys=True).encode()
                    digest = hashlib.sha256(body).hexdigest()[:16]
                    items.append(FetchedItem(external_id=f"{review_id or 'unreadable'}#{digest}", body=body))
                if number >= (MAX_SWEEP_PAGES if sweep else MAX_PAGES if since else 1):
                    break
                if reached and not sweep:
                    break
            else:
                complete = True
        if sweep and complete:
            listed.discard("")
            gone = sorted(set(cursor.get("listed") or []) - listed)
            if gone:
                body = json.dumps({DELETED_KEY: gone, "at": now.isoformat()}, sort_keys=True).encode()
                items.append(
                    FetchedItem(external_id=f"deleted#{hashlib.sha256(body).hexdigest()[:16]}", body=body)
                )
            cursor["listed"] = sorted(listed)
            cursor["swept_at"] = now.isoformat()
        if newest:
            cursor["since"] = newest.isoformat()
        return FetchResult(items=items, cursor=cursor)

    # ---- interpret ---------------------------------------------------------------------------------------

    def interpret(self, channel, body: bytes, headers: dict[str, str]) -> Interpretation:
        document = decode_json(body)
        if not isinstance(document, dict):
            raise PayloadRejected(f"a {self.platform} review payload is a JSON object")
        if DELETED_KEY in document:  # a sweep's finding (see fetch), not a platform object
            gone, at = document.get(DELETED_KEY), parse_time(document.get("at"), "at")
            if not isinstance(gone, list):
                raise PayloadRejected(f"'{DELETED_KEY}' is a list of review ids")
            return Interpretation(
                updates=[
                    MessageUpdate(str(review_id), MessageUpdate.DELETE, at, "review_deleted")
                    for review_id in gone
                ]
            )
        review = self.read(channel, document)
        return self.interpretation(review, channel)

    def interpretation(self, review: Review, channel) -> Interpretation:
        text = (
            review.text
            or review.title
            or (f"{review.rating}/5 stars, no written review" if review.rating else "(an empty review)")
        )
        metadata = {"rating": {"value": review.rating, "best": 5.0}} if review.rating else {}
        details = {"platform": self.kind, "title": review.title, **review.details}
        message = InboundMessage(
            external_id=review.id,
            thread_key=review.id,
            text=clean_text(text, "text"),
            subject=clean_text(review.title, "title", 500),
            language=clean_text(review.language, "language", 16),
            sent_at=review.created_at,
            author=review.author,
            metadata={**metadata, "review": details},
        )
        # A review read again is an edit of the stored one, applied only when its text or stars changed;
        # one never stored (first seen here) is stored as the message.
        result = Interpretation(
            updates=[
                MessageUpdate(
                    review.id,
                    MessageUpdate.EDIT,
                    review.updated_at or review.created_at,
                    "review_updated",
                    text=message.text,
                    metadata=metadata,
                    fallback=message,
                )
            ]
        )
        if review.reply is not None:
            reply_id = f"{REPLY_PREFIX}{review.id}"
            echo = InboundMessage(
                external_id=reply_id,
                thread_key=review.id,
                text=clean_text(review.reply.text, "reply"),
                sent_at=review.reply.at,
                # The brand's own account on the platform, as other connectors name the brand's echoes.
                author=InboundAuthor(
                    external_id=f"brand:{channel.brand_id}", display_name=channel.brand.name[:255]
                ),
                in_reply_to=review.id,
                outbound=True,
                metadata={"review": {"platform": self.kind, "reply_status": review.reply.platform_status}},
            )
            result.updates.append(
                MessageUpdate(
                    reply_id,
                    MessageUpdate.EDIT,
                    review.reply.at,
                    "review_reply_updated",
                    text=echo.text,
                    metadata={},
                    fallback=echo,
                )
            )
            result.receipts.append(
                DeliveryUpdate(reply_id, review.reply.delivery, review.reply.platform_status, review.reply.at)
            )
        return result

    # ---- send --------------------------------------------------------------------------------------------

    def send(self, channel, message, reply_to: str = "") -> str:
        review_id = str(reply_to or "")
        if not review_id or review_id.startswith(REPLY_PREFIX):
            raise PayloadRejected(f"there is no {self.platform} review in this conversation to answer")
        text = (message.text or "").strip()
        if not text:
            raise PayloadRejected(f"a {self.platform} reply needs text")
        most = self.limits["max_length"]
        if len(text) > most:
            raise PayloadRejected(f"a {self.platform} reply holds at most {most} characters, not {len(text)}")
        with public_client(timeout=TIMEOUT) as http:
            self.reply(ReviewApi(self, channel, http), channel, review_id, text)
        return f"{REPLY_PREFIX}{review_id}"

    def check(self, channel) -> str:
        with public_client(timeout=TIMEOUT) as http:
            first = next(iter(self.pages(ReviewApi(self, channel, http), channel)), [])
        return f"connected: {len(first)} review(s) on the latest page (nothing was stored)"


def stranger(review_id: str, name: str, **fields) -> InboundAuthor:
    """A reviewer the platform names but gives no stable id for (Google, Apple): a display name is no one's
    key, so each review's author is a profile of its own rather than a guess that merges two people."""
    return InboundAuthor(
        external_id=f"review:{review_id}"[:255], display_name=clean_text(name, "reviewer", 255), **fields
    )


class GoogleReviewConnector(ReviewConnector):
    """What Google's review APIs (Business Profile, Play) share: an OAuth access token from the channel's
    refresh token, Google's error shape, and its 403 "quota exceeded" answer read as a rate limit."""

    def auth_headers(self, channel, http, renew: bool) -> dict[str, str]:
        return {"Authorization": f"Bearer {google_access_token(channel, http, renew=renew)}"}

    def error_message(self, data: dict) -> object:
        return google_error(data)

    def quota_refusal(self, response):
        return google_quota_refusal(response)
