"""X (formerly Twitter) through the X API v2: what is said to the brand's account and about the brand.

Channel configuration
    credentials  {"bearer_token": the app-only Bearer token (reads: mentions and recent search),
                  "user_access_token": an OAuth 2.0 user-context token of the brand's account with the
                  tweet.read, tweet.write and users.read scopes (replies)}
    settings     {"api_base": "https://api.x.com",
                  "user_id": the brand account's numeric id, whose mentions are read,
                  "query": a recent-search query; by default built from the brand's keywords and @handles,
                           e.g. ("Nimbus" OR @nimbusmobile) -is:retweet}
    cursor       {"mentions": {"since_id": …}, "search": {"since_id": …}}

A poll reads GET /2/users/:id/mentions and GET /2/tweets/search/recent with `since_id` (the `newest_id`
of the previous run), following `meta.next_token` for at most MAX_PAGES pages per endpoint. A backlog
longer than that is finished over the next polls: the cursor then also keeps the unfinished run's
pagination token and newest id, so nothing between two polls is skipped. The first poll of a channel reads
one page only: it starts listening now rather than importing the past week.

Each post becomes one raw payload (external id = the post id, so a post found by both endpoints, or by two
polls, is stored once) holding the post, its author from `includes.users` and the posts it references
from `includes.tweets`: a retweet is stored with the full text of the post it reposts (X cuts it short
after "RT @user:"), a quote with its own text followed by the quoted post's. An answer whose `data` is one
post object (not a list) is read the same way.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import httpx

from ..base import InboundAuthor, InboundMessage, PayloadRejected
from ..http import (
    TIMEOUT,
    USER_AGENT,
    error_reason,
    json_object,
    public_client,
    raise_for_status,
    seconds_until,
    send,
)
from ..kinds import ChannelKind
from ..normalized import clean_text, decode_json, parse_time
from ..setup import Setting, api_base
from ..social import SocialConnector

DEFAULT_API_BASE = "https://api.x.com"
MAX_PAGES = 5
PAGE_SIZE = 100
MAX_QUERY_CHARS = 512  # the recent-search query limit of the self-serve tiers

TWEET_FIELDS = (
    "created_at,conversation_id,author_id,lang,public_metrics,in_reply_to_user_id,referenced_tweets,"
    "note_tweet"
)
EXPANSIONS = "author_id,referenced_tweets.id,referenced_tweets.id.author_id"
USER_FIELDS = "username,name,verified,public_metrics,profile_image_url"
_HANDLE = re.compile(r"@([A-Za-z0-9_]{1,15})")


class _BadRequest(PayloadRejected):
    """HTTP 400: a parameter X refuses (an expired pagination token, a since_id older than 7 days...)."""


def default_query(brand) -> str:
    """`("Nimbus" OR "Nimbus Mobile" OR @nimbusmobile) -is:retweet` from the brand's keywords and handles."""
    terms: list[str] = []
    for keyword in brand.keywords or []:
        keyword = keyword.replace('"', " ").strip()
        if keyword:
            terms.append(f'"{keyword}"')
    for handle in brand.handles or []:
        match = _HANDLE.fullmatch(handle.strip())
        if match:
            terms.append(f"@{match.group(1)}")
    terms = list(dict.fromkeys(terms))
    while terms:
        query = f"({' OR '.join(terms)}) -is:retweet"
        if len(query) <= MAX_QUERY_CHARS:
            return query
        terms.pop()
    return ""


def _detail(data: dict) -> object:
    """X's reason: the problem's `detail`, else the first error's `message` or `detail`, else the `title`."""
    errors = data.get("errors") or []
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    return data.get("detail") or first.get("message") or first.get("detail") or data.get("title")


def _check(response: httpx.Response, what: str) -> dict:
    reason = error_reason(response, _detail)
    if response.status_code == 400:
        raise _BadRequest(f"X refused {what} (HTTP 400): {reason}")
    raise_for_status(
        response,
        platform="X",
        what=what,
        reason=reason,
        retry_after=seconds_until(response.headers.get("x-rate-limit-reset")),
    )
    data = json_object(response, platform="X", what=what)
    if data.get("errors") and "data" not in data and "meta" not in data:
        # e.g. {"errors": [{"title": "Not Found Error", "detail": "Could not find user with id: [1]."}]}
        raise PayloadRejected(f"X refused {what}: {reason}")
    return data


def _request(http: httpx.Client, method: str, url: str, token: str, **kwargs) -> dict:
    headers = {"Authorization": f"Bearer {token}", "User-Agent": USER_AGENT}
    response = send(http, method, url, platform="X API", headers=headers, **kwargs)
    return _check(response, urlsplit(url).path)


def _newer(a: str | None, b: str | None) -> str | None:
    """The larger of two post ids (snowflakes: compare as integers)."""
    ids = [value for value in (a, b) if value and str(value).isdigit()]
    return max(ids, key=int) if ids else None


def _full_text(tweet: dict) -> str:
    """A post's whole text: a long post's `note_tweet.text`, else `text` (HTML entities undone)."""
    note = tweet.get("note_tweet") if isinstance(tweet.get("note_tweet"), dict) else {}
    return html.unescape(clean_text(note.get("text") or tweet.get("text") or "", "tweet.text"))


class XConnector(SocialConnector):
    kind = ChannelKind.X
    setup_fields = (
        Setting(
            "bearer_token",
            "Bearer token",
            secret=True,
            required=True,
            help="The X app's bearer token: reads.",
        ),
        Setting(
            "user_access_token",
            "User access token",
            secret=True,
            help="An OAuth 2.0 user-context token of the brand's account: needed to reply.",
        ),
        Setting("user_id", "Account id", help="The brand's numeric X account id: its mentions are read."),
        Setting("query", "Search query", help="X's search syntax; empty: the brand's keywords."),
        api_base("api_base", DEFAULT_API_BASE, "X API"),
    )
    # What the reply composer checks (apps/replies/limits.py): 280 weighted characters (CJK and emoji
    # count 2, a link 23); a reply answers a post of its own conversation; text only.
    limits = {"max_length": 280, "length_unit": "x-weighted", "reaches": "conversation"}

    # ---- fetch -------------------------------------------------------------------------------------------

    def poll(self, channel, http: httpx.Client, cursor: dict) -> dict[str, dict]:
        credentials, settings = channel.credentials or {}, channel.settings or {}
        token = credentials.get("bearer_token")
        if not token:
            raise PayloadRejected("the X channel has no bearer_token in its credentials")
        base = (settings.get("api_base") or DEFAULT_API_BASE).rstrip("/")
        user_id = str(settings.get("user_id") or "").strip()
        if user_id and not user_id.isdigit():
            raise PayloadRejected(
                f"settings.user_id must be the X account's numeric id, not {user_id[:40]!r}"
            )
        query = (settings.get("query") or "").strip() or default_query(channel.brand)
        if not user_id and not query:
            raise PayloadRejected(
                "nothing to poll on X: set settings.user_id (mentions) or the brand's keywords (search)"
            )
        fields = {
            "tweet.fields": TWEET_FIELDS,
            "expansions": EXPANSIONS,
            "user.fields": USER_FIELDS,
            "max_results": str(PAGE_SIZE),
        }
        found: dict[str, dict] = {}

        def read(name: str, path: str, params: dict, token_param: str) -> None:
            posts, cursor[name] = self._read_stream(
                http, f"{base}{path}", token, params, cursor.get(name) or {}, token_param
            )
            for tweet, author, referenced in posts:
                entry = found.setdefault(tweet["id"], {"tweet": tweet, "author": author, "sources": []})
                entry["sources"].append(name)
                entry["author"] = entry["author"] or author
                if referenced:
                    entry["referenced"] = referenced

        if user_id:
            read("mentions", f"/2/users/{user_id}/mentions", fields, "pagination_token")
        if query:
            read("search", "/2/tweets/search/recent", {**fields, "query": query}, "next_token")
        return found

    def _read_stream(self, http, url, token, params, state, token_param):
        since_id = state.get("since_id")
        next_token = state.get("next_token")
        newest = state.get("newest_id") if next_token else None
        pages = MAX_PAGES if (since_id or next_token) else 1  # a new channel starts listening now
        posts: list[tuple[dict, dict | None, dict]] = []
        for page in range(pages):
            query = dict(params)
            if since_id:
                query["since_id"] = since_id
            if next_token:
                query[token_param] = next_token
            try:
                data = _request(http, "GET", url, token, params=query)
            except _BadRequest:
                if page == 0 and next_token:
                    # The saved pagination token expired: read again from since_id (what is already
                    # stored is not stored twice).
                    return self._read_stream(http, url, token, params, {"since_id": since_id}, token_param)
                if page == 0 and since_id:
                    # A since_id older than the endpoint's window (7 days for recent search): start
                    # listening again from the newest posts.
                    return self._read_stream(http, url, token, params, {}, token_param)
                if page == 0:
                    raise
                next_token = None  # keep what this run read; the next poll goes on from its newest post
                break
            meta = data.get("meta") or {}
            newest = newest or meta.get("newest_id")
            includes = data.get("includes") if isinstance(data.get("includes"), dict) else {}
            users = {user.get("id"): user for user in includes.get("users") or [] if isinstance(user, dict)}
            included = {
                post.get("id"): post for post in includes.get("tweets") or [] if isinstance(post, dict)
            }
            tweets = data.get("data") or []
            for tweet in [tweets] if isinstance(tweets, dict) else tweets:  # one post: `data` is the object
                if isinstance(tweet, dict) and tweet.get("id"):
                    referenced = {}
                    for reference in tweet.get("referenced_tweets") or []:
                        post = included.get(reference.get("id")) if isinstance(reference, dict) else None
                        if post:
                            author = users.get(post.get("author_id")) or {}
                            referenced[reference["id"]] = {**post, "username": author.get("username") or ""}
                    posts.append((tweet, users.get(tweet.get("author_id")), referenced))
            next_token = meta.get("next_token")
            if not next_token:
                break
        if next_token and pages > 1:
            # The backlog is longer than one poll reads: the next poll goes on from this page.
            state = {"since_id": since_id, "next_token": next_token, "newest_id": newest}
        else:
            state = {"since_id": _newer(newest, since_id)}
        return posts, {key: value for key, value in state.items() if value}

    # ---- parse -------------------------------------------------------------------------------------------

    def parse(self, channel, body: bytes, headers: dict[str, str]) -> list[InboundMessage]:
        data = decode_json(body)
        tweet = data.get("tweet") if isinstance(data, dict) else None
        if not isinstance(tweet, dict) or not tweet.get("id") or not tweet.get("author_id"):
            raise PayloadRejected("an X payload holds {'tweet': {...with id and author_id}, 'author': {...}}")
        author = data.get("author") if isinstance(data.get("author"), dict) else {}
        text = _full_text(tweet)
        referenced = data.get("referenced") if isinstance(data.get("referenced"), dict) else {}
        extra: dict = {}
        for reference in tweet.get("referenced_tweets") or []:
            post = referenced.get(reference.get("id")) if isinstance(reference, dict) else None
            if not isinstance(post, dict) or reference.get("type") not in ("retweeted", "quoted"):
                continue
            whose = f"@{post['username']}" if post.get("username") else "a post"
            if reference["type"] == "retweeted":
                text = f"RT {whose}: {_full_text(post)}"
                extra["retweet_of"] = str(post.get("id"))
            else:
                text = f"{text}\n\n> {whose}: {_full_text(post)}"
                extra["quote_of"] = str(post.get("id"))
        username = clean_text(author.get("username"), "author.username", 100)
        metrics = author.get("public_metrics") if isinstance(author.get("public_metrics"), dict) else {}
        followers = metrics.get("followers_count")
        language = clean_text(tweet.get("lang"), "tweet.lang", 16)
        if language in ("und", "zxx") or language.startswith("q"):  # X's codes for "no language"
            language = ""
        replied_to = next(
            (
                str(reference.get("id"))
                for reference in tweet.get("referenced_tweets") or []
                if isinstance(reference, dict) and reference.get("type") == "replied_to"
            ),
            "",
        )
        tweet_id, author_id = str(tweet["id"]), str(tweet["author_id"])
        own_id = str((channel.settings or {}).get("user_id") or "")
        return [
            InboundMessage(
                external_id=tweet_id,
                thread_key=str(tweet.get("conversation_id") or tweet_id),
                text=text,
                sent_at=parse_time(tweet.get("created_at"), "tweet.created_at"),
                language=language,
                in_reply_to=replied_to,
                outbound=bool(own_id) and author_id == own_id,
                author=InboundAuthor(
                    external_id=author_id,
                    handle=f"@{username}" if username else "",
                    display_name=clean_text(author.get("name"), "author.name", 255),
                    profile_url=f"https://x.com/{username}" if username else "",
                    avatar_url=clean_text(author.get("profile_image_url"), "author.profile_image_url", 500),
                    followers=followers if isinstance(followers, int) and followers >= 0 else None,
                    verified=author["verified"] if isinstance(author.get("verified"), bool) else None,
                ),
                metadata={
                    "x": {
                        "url": f"https://x.com/{username or 'i/web'}/status/{tweet_id}",
                        "public_metrics": tweet.get("public_metrics") or {},
                        "sources": data.get("sources") or [],
                        **extra,
                    }
                },
            )
        ]

    # ---- send --------------------------------------------------------------------------------------------

    def send(self, channel, message, reply_to: str = "") -> str:
        credentials, settings = channel.credentials or {}, channel.settings or {}
        token = credentials.get("user_access_token")
        if not token:
            raise PayloadRejected("the X channel has no user_access_token: replies need a user-context token")
        if not reply_to or not str(reply_to).isdigit():
            raise PayloadRejected("there is no X post in this conversation to reply to")
        text = (message.text or "").strip()
        if not text:
            raise PayloadRejected("an X reply needs text")
        base = (settings.get("api_base") or DEFAULT_API_BASE).rstrip("/")
        with public_client(timeout=TIMEOUT) as http:
            data = _request(
                http,
                "POST",
                f"{base}/2/tweets",
                token,
                json={"text": text, "reply": {"in_reply_to_tweet_id": str(reply_to)}},
            )
        post_id = (data.get("data") or {}).get("id")
        if not post_id:
            raise PayloadRejected("X accepted the reply but returned no post id")
        return str(post_id)
