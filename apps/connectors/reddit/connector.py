"""Reddit through its OAuth2 API: posts and comments about the brand, replies to the brand, comments back.

Channel configuration
    credentials  {"client_id", "client_secret": of a Reddit app of the "script" type,
                  "username", "password": of the brand's Reddit account (the script app's developer)}
    settings     {"auth_base": "https://www.reddit.com", "api_base": "https://oauth.reddit.com",
                  "query": a search query (default: the brand's keywords, quoted and OR-ed),
                  "subreddits": ["NimbusMobile", …] whose new posts and comments are all read,
                  "inbox": true (replies to the brand's posts and comments, username mentions, messages),
                  "user_agent": replaces the default User-Agent}
    cursor       {"search": {"seen": [fullnames, newest first], "newest_utc": …}, "r/<sub>/new": …,
                  "r/<sub>/comments": …, "inbox": …}

The access token (password grant, HTTP basic auth with the app's id and secret) is kept in this process's
memory until shortly before it expires, never in the database. Reddit's API rules require a descriptive
User-Agent of the form `<platform>:<app id>:<version> (by /u/<username>)` on every request.

Listings are read newest first and paged with `after` until a page reaches what the previous poll saw
(the fullnames kept in the cursor) or older posts, at most MAX_PAGES pages. `before=<fullname>` is not used:
a listing anchored on a post that was since deleted answers empty forever. Every post (t3), comment (t1)
or private message (t4) becomes one raw payload whose external id is its fullname, so one found by two
listings, or by two polls, is stored once. Nothing a listing holds is dropped at fetch time: a thing by a
deleted account keeps its text and is stored by a stranger (`deleted:<fullname>`), one whose text was
deleted or removed, or a message from Reddit itself (no author), is ignored with that reason.

Rate limits: Reddit reports X-Ratelimit-Remaining / X-Ratelimit-Reset (seconds) on each response; a
request is not sent once the remaining budget is spent (RateLimited until the reset), nor after an HTTP 429.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import threading
import time

import httpx

from ..base import (
    Ignored,
    InboundAuthor,
    InboundMessage,
    Interpretation,
    PayloadRejected,
    RateLimited,
    TransientError,
)
from ..http import TIMEOUT, delay_seconds, error_reason, json_object, public_client, raise_for_status, send
from ..kinds import ChannelKind
from ..normalized import clean_text, decode_json, parse_time
from ..setup import FLAG, LINES, Setting, api_base
from ..social import SocialConnector

DEFAULT_AUTH_BASE = "https://www.reddit.com"
DEFAULT_API_BASE = "https://oauth.reddit.com"
PAGE_SIZE = 100
MAX_PAGES = 3
MAX_SUBREDDITS = 10
SEEN_KEPT = 500
MAX_QUERY_CHARS = 512
VERSION = "1.0"

_SUBREDDIT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_]{1,20}")
_FULLNAME = re.compile(r"t[134]_[a-z0-9]+")
_LINK_IN_CONTEXT = re.compile(r"/comments/([a-z0-9]+)/")
_READABLE = ("t1", "t3", "t4")
_WHAT = {"t1": "comment", "t3": "post", "t4": "private message"}
_GONE = ("[deleted]", "[removed]")
_WAIT = re.compile(r"(\d+) (minutes?|seconds?)")

# (auth base, client id, username, hash of the secrets) → (access token, monotonic expiry)
_tokens: dict[tuple[str, str, str, str], tuple[str, float]] = {}
_tokens_lock = threading.Lock()


def default_query(brand) -> str:
    """`"Nimbus" OR "Nimbus Mobile"` from the brand's keywords (Reddit search takes quotes and OR)."""
    terms = list(
        dict.fromkeys(f'"{k.replace(chr(34), " ").strip()}"' for k in brand.keywords or [] if k.strip())
    )
    while terms and len(" OR ".join(terms)) > MAX_QUERY_CHARS:
        terms.pop()
    return " OR ".join(terms)


def _reason(data: dict) -> object:
    return data.get("message") or data.get("error_description") or data.get("error")


class _Reddit:
    """One channel's session with Reddit for one fetch or send: token, User-Agent, rate-limit budget."""

    def __init__(self, channel, http: httpx.Client):
        credentials, settings = channel.credentials or {}, channel.settings or {}
        missing = [
            k for k in ("client_id", "client_secret", "username", "password") if not credentials.get(k)
        ]
        if missing:
            raise PayloadRejected(f"the Reddit channel's credentials lack {', '.join(missing)}")
        self.client_id = credentials["client_id"]
        self.client_secret = credentials["client_secret"]
        self.username = credentials["username"]
        self.password = credentials["password"]
        self.auth_base = (settings.get("auth_base") or DEFAULT_AUTH_BASE).rstrip("/")
        self.api_base = (settings.get("api_base") or DEFAULT_API_BASE).rstrip("/")
        self.user_agent = settings.get("user_agent") or (
            f"server:cxm-social-connector:v{VERSION} (by /u/{self.username})"
        )
        self.http = http
        self.remaining: float | None = None
        self.reset: float | None = None

    @property
    def _token_key(self) -> tuple[str, str, str, str]:
        secrets = hashlib.sha256(f"{self.client_secret}\x00{self.password}".encode()).hexdigest()
        return (self.auth_base, self.client_id, self.username, secrets)

    def token(self, *, renew: bool = False) -> str:
        key = self._token_key
        with _tokens_lock:
            cached = _tokens.get(key)
            if cached and not renew and cached[1] > time.monotonic():
                return cached[0]
            _tokens.pop(key, None)
        response = send(
            self.http,
            "POST",
            f"{self.auth_base}/api/v1/access_token",
            platform="Reddit",
            auth=(self.client_id, self.client_secret),
            data={"grant_type": "password", "username": self.username, "password": self.password},
            headers={"User-Agent": self.user_agent},
        )
        if response.status_code in (401, 403):
            raise PayloadRejected(
                f"Reddit refused the app's client id or secret (HTTP {response.status_code})"
            )
        what = "an access token request"
        if response.status_code == 429 or response.status_code >= 500:  # other refusals are read below
            retry_after = delay_seconds(response.headers.get("retry-after"))
            raise_for_status(response, platform="Reddit", what=what, retry_after=retry_after)
        data = json_object(response, platform="Reddit", what=what, expect=object)  # any JSON document
        if response.status_code >= 400 or not isinstance(data, dict) or not data.get("access_token"):
            reason = data.get("error") if isinstance(data, dict) else ""
            if reason == "invalid_grant":
                raise PayloadRejected(
                    "Reddit refused the username or password (invalid_grant; an account with two-factor "
                    "authentication cannot use a script app's password grant)"
                )
            raise PayloadRejected(f"Reddit gave no access token: {reason or response.status_code}")
        expires_in = data.get("expires_in") if isinstance(data.get("expires_in"), int | float) else 3600
        with _tokens_lock:
            _tokens[key] = (data["access_token"], time.monotonic() + max(60, expires_in - 60))
        return data["access_token"]

    def request(self, method: str, path: str, **kwargs) -> dict:
        if self.remaining is not None and self.remaining < 1:
            raise RateLimited("Reddit's rate-limit budget is spent for this period", self.reset)
        response = None
        for attempt in range(2):
            headers = {
                "Authorization": f"bearer {self.token(renew=attempt > 0)}",
                "User-Agent": self.user_agent,
            }
            response = send(
                self.http, method, f"{self.api_base}{path}", platform="Reddit", headers=headers, **kwargs
            )
            if response.status_code != 401:
                break  # a 401 with a cached token: it expired or was revoked early; get a new one once
        self._note_budget(response)
        return self._check(response, path)

    def _note_budget(self, response: httpx.Response) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self.remaining = float(response.headers["x-ratelimit-remaining"])
        self.reset = delay_seconds(response.headers.get("x-ratelimit-reset")) or self.reset

    def _check(self, response: httpx.Response, path: str) -> dict:
        status = response.status_code
        if 300 <= status < 400:  # e.g. /r/<name>/new of a subreddit that does not exist
            raise PayloadRejected(f"Reddit redirected {path} (HTTP {status}): does this subreddit exist?")
        raise_for_status(
            response,
            platform="Reddit",
            what=path,
            reason=error_reason(response, _reason),
            retry_after=delay_seconds(response.headers.get("x-ratelimit-reset"))
            or delay_seconds(response.headers.get("retry-after")),
        )
        return json_object(response, platform="Reddit", what=path)


def _thread_of(kind: str, data: dict) -> str:
    if kind == "t3":
        return data.get("name") or f"t3_{data.get('id')}"
    if kind == "t1":
        if data.get("link_id"):
            return data["link_id"]
        match = _LINK_IN_CONTEXT.search(data.get("context") or "")
        return f"t3_{match.group(1)}" if match else data.get("parent_id") or data.get("name") or ""
    return data.get("first_message_name") or data.get("name") or ""


def _author_key(author: str, data: dict) -> str:
    """One identity per Reddit user whatever the listing gives: inbox messages name the author only by
    username, posts and comments also by `author_fullname` (t2_…). Usernames are unique and never change,
    so they are the key (lower-cased: Reddit matches them without case); a deleted account, which every
    listing names "[deleted]", is one stranger per post rather than one person."""
    if author in ("[deleted]", "[removed]", ""):
        return f"deleted:{data.get('name')}"
    return f"u/{author.lower()}"[:255]


class RedditConnector(SocialConnector):
    kind = ChannelKind.REDDIT
    setup_fields = (
        Setting(
            "client_id",
            "Client id",
            credential=True,
            required=True,
            help="From reddit.com/prefs/apps (a “script” app).",
        ),
        Setting("client_secret", "Client secret", secret=True, required=True),
        Setting("username", "Reddit user name", credential=True, required=True, help="The brand's account."),
        Setting("password", "Reddit password", secret=True, required=True),
        Setting("query", "Search query", help="Empty: the brand's keywords."),
        Setting("subreddits", "Subreddits", LINES, help=f"One a line, without r/; at most {MAX_SUBREDDITS}."),
        Setting("inbox", "Read the account's inbox", FLAG, default=True),
        Setting("user_agent", "User agent", advanced=True),
        api_base("auth_base", DEFAULT_AUTH_BASE, "OAuth"),
        api_base("api_base", DEFAULT_API_BASE, "API"),
    )
    # What the reply composer checks (apps/replies/limits.py): a comment holds 10,000 characters and
    # answers a post, comment or message of its own conversation; text only.
    limits = {"max_length": 10000, "length_unit": "characters", "reaches": "conversation"}
    poll_interval_seconds = 180

    # ---- fetch -------------------------------------------------------------------------------------------

    def _streams(self, channel) -> list[tuple[str, str, dict]]:
        settings = channel.settings or {}
        streams = []
        query = (settings.get("query") or "").strip() or default_query(channel.brand)
        if query:
            streams.append(("search", "/search", {"q": query, "sort": "new", "type": "link"}))
        for name in (settings.get("subreddits") or [])[:MAX_SUBREDDITS]:
            name = str(name).strip().removeprefix("/").removeprefix("r/")
            if not _SUBREDDIT.fullmatch(name):
                raise PayloadRejected(f"{name!r} is not a subreddit name")
            streams.append((f"r/{name}/new", f"/r/{name}/new", {}))
            streams.append((f"r/{name}/comments", f"/r/{name}/comments", {}))
        if settings.get("inbox", True):
            streams.append(("inbox", "/message/inbox", {}))
        return streams

    def poll(self, channel, http: httpx.Client, cursor: dict) -> dict[str, dict]:
        streams = self._streams(channel)
        if not streams:
            raise PayloadRejected("nothing to poll on Reddit: give the brand keywords, a query or subreddits")
        found: dict[str, dict] = {}
        reddit = _Reddit(channel, http)
        for name, path, params in streams:
            things, cursor[name] = self._read_listing(reddit, path, params, cursor.get(name) or {})
            for thing in things:
                found.setdefault(thing["data"]["name"], {"thing": thing, "source": name})
        return found

    def _read_listing(self, reddit: _Reddit, path: str, params: dict, state: dict):
        seen = [name for name in state.get("seen") or [] if isinstance(name, str)]
        known = set(seen)
        newest_utc = float(state.get("newest_utc") or 0)
        pages = MAX_PAGES if state else 1  # a new channel starts listening now
        things: list[dict] = []
        after = None
        for _ in range(pages):
            query = {**params, "limit": PAGE_SIZE, "raw_json": 1}
            if after:
                query["after"] = after
            data = reddit.request("GET", path, params=query)
            listing = data.get("data") if data.get("kind") == "Listing" else None
            if not isinstance(listing, dict):
                raise TransientError(f"Reddit answered {path} without a Listing")
            reached_known = False
            for child in listing.get("children") or []:
                if not isinstance(child, dict) or child.get("kind") not in _READABLE:
                    continue
                item = child.get("data") or {}
                fullname = item.get("name") or (f"{child['kind']}_{item['id']}" if item.get("id") else "")
                created = item.get("created_utc") if isinstance(item.get("created_utc"), int | float) else 0
                if fullname in known or (newest_utc and created < newest_utc):
                    reached_known = True
                if not fullname or fullname in known:
                    continue
                known.add(fullname)
                item["name"] = fullname
                # Kept even by a deleted account or from Reddit itself: `interpret` stores what is left
                # or says why nothing is.
                things.append(child)
            after = listing.get("after")
            if reached_known or not after:
                break
        fresh = [t["data"]["name"] for t in things]
        newest = max([newest_utc] + [float(t["data"].get("created_utc") or 0) for t in things])
        state = {"seen": (fresh + seen)[:SEEN_KEPT], "newest_utc": newest}
        return things, state

    # ---- parse -------------------------------------------------------------------------------------------

    def interpret(self, channel, body: bytes, headers: dict[str, str]) -> Interpretation:
        payload = decode_json(body)
        thing = payload.get("thing") if isinstance(payload, dict) else None
        data = thing.get("data") if isinstance(thing, dict) else None
        kind = thing.get("kind") if isinstance(thing, dict) else None
        if kind not in _READABLE or not isinstance(data, dict) or not data.get("name"):
            raise PayloadRejected(
                "a Reddit payload holds {'thing': {'kind': 't1|t3|t4', 'data': {name, author…}}}"
            )
        what = _WHAT[kind]
        if not data.get("author"):  # Reddit's own messages, and modmail sent as the subreddit
            return Interpretation(
                ignored=[
                    Ignored(
                        f"{what} without author", f"a {what} from Reddit or a subreddit: no one to answer"
                    )
                ]
            )
        if kind == "t3":
            text, html = data.get("selftext") or "", data.get("selftext_html") or ""
            if text.strip() in ("", *_GONE):  # a link post, or its text deleted: the title stays on Reddit
                text, html = data.get("title") or "", ""
            subject = data.get("title") or ""
        else:
            text, html = data.get("body") or "", data.get("body_html") or ""
            subject = data.get("link_title") or data.get("subject") or ""
        if text.strip() in ("", *_GONE):  # deleted by its author or removed by moderators
            return Interpretation(
                ignored=[Ignored(f"deleted {what}", f"the {what} was deleted or removed: its text is gone")]
            )
        return Interpretation(messages=[self._message(channel, payload, kind, data, text, html, subject)])

    def _message(self, channel, payload, kind, data, text, html, subject) -> InboundMessage:
        """A post, comment or private message; one by a deleted account keeps its text, by a stranger."""
        author = clean_text(data["author"], "author", 100)
        own = str((channel.credentials or {}).get("username") or "").lower()
        permalink = data.get("permalink") or data.get("context") or ""
        return InboundMessage(
            external_id=data["name"],
            thread_key=clean_text(_thread_of(kind, data), "thread", 500),
            text=clean_text(text, "text"),
            html=clean_text(html, "html"),
            subject=clean_text(subject, "subject", 500),
            sent_at=parse_time(data.get("created_utc"), "created_utc"),
            in_reply_to=clean_text(data.get("parent_id") if kind != "t3" else "", "parent_id", 500),
            outbound=bool(own) and author.lower() == own,
            author=InboundAuthor(
                external_id=_author_key(author, data),
                handle="" if author in _GONE else f"u/{author}",
                display_name=author,
                profile_url="" if author in _GONE else f"https://www.reddit.com/user/{author}/",
            ),
            metadata={
                "reddit": {
                    "kind": kind,
                    "subreddit": data.get("subreddit") or "",
                    "url": f"https://www.reddit.com{permalink}" if permalink.startswith("/") else permalink,
                    "score": data.get("score"),
                    "num_comments": data.get("num_comments"),
                    "private": kind == "t4",
                    "source": payload.get("source") or "",
                }
            },
        )

    # ---- send --------------------------------------------------------------------------------------------

    def send(self, channel, message, reply_to: str = "") -> str:
        if not reply_to or not _FULLNAME.fullmatch(str(reply_to)):
            raise PayloadRejected(
                "there is no Reddit post, comment or message in this conversation to answer"
            )
        text = (message.text or "").strip()
        if not text:
            raise PayloadRejected("a Reddit comment needs text")
        with public_client(timeout=TIMEOUT) as http:
            data = _Reddit(channel, http).request(
                "POST", "/api/comment", data={"api_type": "json", "thing_id": reply_to, "text": text}
            )
        answer = data.get("json") if isinstance(data.get("json"), dict) else {}
        errors = answer.get("errors") or []
        if errors:
            first = errors[0] if isinstance(errors[0], list | tuple) else [str(errors[0])]
            code, reason = str(first[0]), " ".join(str(part) for part in first[1:2])
            if code == "RATELIMIT":  # "you are doing that too much. try again in 9 minutes."
                wait = _WAIT.search(reason)
                told = (
                    int(wait.group(1)) * (60 if wait.group(2).startswith("minute") else 1) if wait else None
                )
                raise RateLimited(f"Reddit: {reason}", delay_seconds(answer.get("ratelimit")) or told or 60)
            raise PayloadRejected(f"Reddit refused the comment: {code}: {reason}".rstrip(": "))
        things = (answer.get("data") or {}).get("things") or []
        name = (things[0].get("data") or {}).get("name") if things and isinstance(things[0], dict) else None
        if not name:
            raise PayloadRejected("Reddit accepted the comment but returned no fullname")
        return str(name)
