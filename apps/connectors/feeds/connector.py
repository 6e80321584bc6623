"""Feed connectors: blogs and news (feed), forums (forum) and review sites (reviews) that publish RSS/Atom.

channel.settings:
    {"feeds": ["https://blog.example/feed/", "https://forum.example/latest.rss"],   # required, 1 to 20
     "keywords": true | ["nimbus", "@nimbus"]}                                      # optional filter

"keywords": true keeps only entries that mention the brand's keywords or handles (whole words, any case);
a list keeps those mentioning one of its terms; absent, empty, or no terms at all keeps every entry.

channel.cursor (owned here), per configured URL:
    {"feeds": {"<configured URL>": {"url": "<where a 301/308 moved it>", "etag": "…", "last_modified": "…",
                                    "error": "<why the last poll of this feed failed>",
                                    "retry_at": "<ISO time before which it is not asked again>"}}}

One failing feed never hides the others: a poll stores what the working feeds returned and records the
failure against the failing one in the cursor; only when every feed failed does the poll raise (transient
failures first, so that the poll is retried; PayloadRejected only when all are refused for good).
Feeds are read-only: there is no reply.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

from ..base import (
    Connector,
    FetchedItem,
    FetchResult,
    Ignored,
    InboundMessage,
    Interpretation,
    PayloadRejected,
    RateLimited,
    TransientError,
)
from ..kinds import ChannelKind
from ..normalized import decode_json
from ..setup import LINES, Setting
from .client import feed_client, feed_get
from .parsers import (
    document_text,
    entry_external_id,
    keyword_pattern,
    message_from_document,
    read_feed,
    says_something,
)

logger = logging.getLogger(__name__)

MAX_FEEDS_PER_CHANNEL = 20


def feed_urls(settings: dict) -> list[str]:
    feeds = (settings or {}).get("feeds")
    if isinstance(feeds, str):
        feeds = [feeds]
    if not isinstance(feeds, list) or not feeds:
        raise PayloadRejected("channel settings need 'feeds': a list of RSS or Atom feed URLs")
    urls = []
    for url in feeds:
        if not isinstance(url, str) or not url.strip().lower().startswith(("http://", "https://")):
            raise PayloadRejected(f"feed URL {url!r} is not an http:// or https:// URL")
        if url.strip() not in urls:
            urls.append(url.strip())
    if len(urls) > MAX_FEEDS_PER_CHANNEL:
        raise PayloadRejected(
            f"at most {MAX_FEEDS_PER_CHANNEL} feeds per channel ({len(urls)} configured); split them"
        )
    return urls


def keyword_terms(channel) -> list[str]:
    keywords = (channel.settings or {}).get("keywords")
    if keywords is True:
        return [*(channel.brand.keywords or []), *(channel.brand.handles or [])]
    if isinstance(keywords, str):
        return [keywords]
    if isinstance(keywords, list):
        return [term for term in keywords if isinstance(term, str)]
    return []


def _waiting(state: dict, now: datetime) -> bool:
    try:
        return bool(state.get("retry_at")) and datetime.fromisoformat(state["retry_at"]) > now
    except (TypeError, ValueError):
        return False


def _all_failed(failures: list[tuple[str, Exception]]) -> Exception:
    """The one error to raise when no feed worked: retryable first, so the poll is tried again."""
    reason = "; ".join(error.reason for _, error in failures)
    rate_limited = [error for _, error in failures if isinstance(error, RateLimited)]
    if rate_limited:
        delays = [error.retry_after for error in rate_limited if error.retry_after is not None]
        return RateLimited(reason, retry_after=max(delays) if delays else None)
    if any(isinstance(error, TransientError) for _, error in failures):
        return TransientError(reason)
    return PayloadRejected(reason)


class FeedConnector(Connector):
    """Blogs and news sites: every entry of every configured feed is one post, its own conversation."""

    kind = ChannelKind.FEED
    setup_fields = (
        Setting(
            "feeds",
            "Feed addresses",
            LINES,
            required=True,
            help=f"RSS or Atom feed URLs, one a line (at most {MAX_FEEDS_PER_CHANNEL}).",
        ),
    )
    polls = True
    poll_interval_seconds = 900
    ratings_from_title = False

    def health_details(self, channel) -> list[str]:
        states = (channel.cursor or {}).get("feeds") or {}
        found = [f"{url}: {state['error']}" for url, state in states.items() if state.get("error")]
        found += [
            f"{url}: read despite errors in its XML ({state['warning']})"
            for url, state in states.items()
            if state.get("warning") and not state.get("error")
        ]
        return found

    def fetch(self, channel) -> FetchResult:
        urls = feed_urls(channel.settings)
        previous = (channel.cursor or {}).get("feeds") or {}
        pattern = keyword_pattern(keyword_terms(channel))
        now = datetime.now(UTC)
        states: dict[str, dict] = {}
        items: list[FetchedItem] = []
        failures: list[tuple[str, Exception]] = []
        attempted = 0
        with feed_client() as client:
            for url in urls:
                state = dict(previous.get(url) or {})
                states[url] = state
                if _waiting(state, now):
                    continue  # the site asked us to wait (Retry-After), and the other feeds worked
                attempted += 1
                try:
                    items.extend(self._fetch_feed(client, url, state, pattern))
                except (PayloadRejected, TransientError) as error:
                    failures.append((url, error))
                    state["error"] = error.reason[:500]
                    state.pop("retry_at", None)
                    if isinstance(error, RateLimited) and error.retry_after:
                        state["retry_at"] = (now + timedelta(seconds=error.retry_after)).isoformat()
                    logger.warning("feed poll failed", extra={"channel": channel.pk, "reason": error.reason})
        if attempted and len(failures) == attempted:
            raise _all_failed(failures)
        return FetchResult(items=items, cursor={**(channel.cursor or {}), "feeds": states})

    def _fetch_feed(self, client, url: str, state: dict, pattern) -> list[FetchedItem]:
        """Fetch one feed; update its cursor state in place; return its (matching) entries."""
        moved_to = state.get("url")
        try:
            response = feed_get(
                client,
                moved_to or url,
                etag=state.get("etag", ""),
                last_modified=state.get("last_modified", ""),
            )
        except PayloadRejected:
            if not moved_to:
                raise
            # Where the feed had moved it is no more: start again from the URL the channel names.
            for key in ("url", "etag", "last_modified"):
                state.pop(key, None)
            response = feed_get(client, url)
        items = []
        if not response.not_modified:
            feed = read_feed(
                response.body, content_type=response.content_type, feed_url=url, fetched_url=response.url
            )
            if feed.problem:  # entries were read; the page still says the feed is broken
                state["warning"] = feed.problem[:500]
            else:
                state.pop("warning", None)
            for document in feed.documents:
                if pattern is not None and not pattern.search(document_text(document)):
                    continue
                body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
                items.append(FetchedItem(external_id=entry_external_id(document), body=body))
            # Validators of an answer are only worth keeping with the answer they describe.
            for key, value in (("etag", response.etag), ("last_modified", response.last_modified)):
                if value:
                    state[key] = value
                else:
                    state.pop(key, None)
        if response.permanent_url and response.permanent_url != url:
            state["url"] = response.permanent_url
        state.pop("error", None)
        state.pop("retry_at", None)
        return items

    def parse(self, channel, body: bytes, headers: dict[str, str]) -> list[InboundMessage]:
        return [message_from_document(body, ratings_from_title=self.ratings_from_title)]

    def interpret(self, channel, body: bytes, headers: dict[str, str]) -> Interpretation:
        # Feeds publish entries that hold only a date, an author or a category (feedparser's own test
        # suite is full of them): nothing to store, but not dropped without a word either.
        document = decode_json(body)
        entry = document.get("entry") if isinstance(document, dict) else None
        if isinstance(entry, dict) and not says_something(entry):
            return Interpretation(
                ignored=[Ignored("feed entry", "the entry has no title, text, link or media to store")]
            )
        return Interpretation(messages=self.parse(channel, body, headers))

    def send(self, channel, message, reply_to: str = "") -> str:
        raise PayloadRejected(
            "replies are not possible on RSS/Atom feeds: they are read-only; answer on the site itself"
        )


class ForumFeedConnector(FeedConnector):
    """Forums that publish their latest topics and posts as RSS/Atom."""

    kind = ChannelKind.FORUM


class ReviewsFeedConnector(FeedConnector):
    """Review sites' RSS/Atom feeds; a rating (an extension element, or "4/5" in the title) is kept."""

    kind = ChannelKind.REVIEWS
    ratings_from_title = True
