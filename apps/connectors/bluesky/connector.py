"""Bluesky through the AT Protocol's XRPC API: mentions, replies and quotes of the brand, posts about it.

Channel configuration
    credentials  {"identifier": the brand's handle or DID, "app_password": an app password of that account}
    settings     {"service": "https://bsky.social" (the account's PDS, or its entryway),
                  "queries": ["Nimbus", …] searched one by one (default: the brand's keywords)}
    cursor       {"notifications": {"newest": indexedAt, "seen": [at:// uris]},
                  "search": {"<query>": {"newest": indexedAt, "seen": [...]}}}

Session: POST com.atproto.server.createSession gives accessJwt / refreshJwt / did. They are kept in this
process's memory (createSession is tightly rate-limited, so it is not called on every poll); an
`ExpiredToken` answer is handled with com.atproto.server.refreshSession, and a refused refresh with a new
session.

Reads: app.bsky.notification.listNotifications (reasons mention, reply, quote) and
app.bsky.feed.searchPosts (sort=latest, `since` the last poll's newest post less a margin), both newest
first, paged with their `cursor` until a page reaches what the previous poll saw. Notifications with no
post to store (likes, follows... which a server may list despite `reasons`) are kept as payloads of their
own and ignored with their reason, never dropped at fetch time. Authors' follower counts
come from app.bsky.actor.getProfiles (25 at a time). Each post becomes one raw payload whose external id is
its at:// URI; its thread is the `reply.root` of its record, so a reply threads under its root post.

Replies: com.atproto.repo.createRecord of an app.bsky.feed.post whose `reply` holds strong references
(uri + cid) to the thread's root and to the post answered; both come from app.bsky.feed.getPosts.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx

from ..base import Ignored, InboundAuthor, InboundMessage, Interpretation, PayloadRejected, TransientError
from ..http import TIMEOUT, USER_AGENT, json_object, public_client, raise_for_status, seconds_until, send
from ..kinds import ChannelKind
from ..normalized import clean_text, decode_json, parse_time
from ..setup import LINES, Setting, api_base
from ..social import SocialConnector, search_queries

DEFAULT_SERVICE = "https://bsky.social"
PAGE_SIZE = 100
MAX_PAGES = 5
MAX_SEARCH_PAGES = 3
MAX_QUERIES = 5
SEEN_KEPT = 300
SEARCH_MARGIN = timedelta(minutes=15)  # `since` is on sortAt, which may trail indexedAt a little
PROFILES_PER_CALL = 25
REASONS = ("mention", "reply", "quote")
POST_TYPE = "app.bsky.feed.post"
# Notifications that carry no post to store, and why.
_IGNORED = {
    "like": "someone liked a post of the brand's account",
    "repost": "someone reposted a post of the brand's account",
    "follow": "someone followed the brand's account",
    "starterpack-joined": "someone joined through the brand's starter pack",
    "verified": "the brand's account was verified",
    "unverified": "the brand's account lost its verification",
    "like-via-repost": "someone liked a repost by the brand's account",
    "repost-via-repost": "someone reposted a repost by the brand's account",
    "subscribed-post": "a post by an account the brand subscribed to",
}


def _quoted(post: dict) -> str:
    """The text of the post a quote post embeds (app.bsky.embed.record#view, or with media), with whose."""
    embed = post.get("embed") if isinstance(post.get("embed"), dict) else {}
    view = embed.get("record") if isinstance(embed.get("record"), dict) else {}
    if isinstance(view.get("record"), dict):  # recordWithMedia#view nests it once more
        view = view["record"]
    value = view.get("value") if isinstance(view.get("value"), dict) else {}
    text = value.get("text")
    if not isinstance(text, str) or not text:
        return ""
    handle = (view.get("author") or {}).get("handle") if isinstance(view.get("author"), dict) else ""
    return clean_text(f"@{handle}: {text}" if handle else text, "embed.record.text")


# (service, identifier, hash of the app password) → {"accessJwt", "refreshJwt", "did", "handle"}
_sessions: dict[tuple[str, str, str], dict] = {}
_sessions_lock = threading.Lock()


def _when(value) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _jwt_expiry(token: str) -> float | None:
    """The `exp` claim of a JWT, without verifying it (only to refresh before it runs out)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"])
    except (IndexError, KeyError, TypeError, ValueError):
        return None


def _error(response: httpx.Response) -> tuple[str, str]:
    try:
        data = response.json()
    except ValueError:
        return "", response.text[:300].strip()
    if isinstance(data, dict):
        return str(data.get("error") or ""), str(data.get("message") or "")
    return "", ""


class _Xrpc:
    def __init__(self, channel, http: httpx.Client):
        credentials = channel.credentials or {}
        self.identifier = credentials.get("identifier") or ""
        self.password = credentials.get("app_password") or ""
        if not self.identifier or not self.password:
            raise PayloadRejected("the Bluesky channel needs an identifier and an app_password")
        self.service = ((channel.settings or {}).get("service") or DEFAULT_SERVICE).rstrip("/")
        self.http = http
        secret = hashlib.sha256(self.password.encode()).hexdigest()
        self.key = (self.service, self.identifier.lower(), secret)

    def _post(self, nsid: str, *, token: str | None = None, body: dict | None = None) -> httpx.Response:
        headers = {"User-Agent": USER_AGENT}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return send(
            self.http, "POST", f"{self.service}/xrpc/{nsid}", platform="Bluesky", headers=headers, json=body
        )

    def _keep(self, data) -> dict:
        if not isinstance(data, dict) or not data.get("accessJwt") or not data.get("did"):
            raise TransientError("Bluesky answered a session request without accessJwt and did")
        session = {k: data.get(k) for k in ("accessJwt", "refreshJwt", "did", "handle")}
        with _sessions_lock:
            _sessions[self.key] = session
        return session

    def create_session(self) -> dict:
        response = self._post(
            "com.atproto.server.createSession",
            body={"identifier": self.identifier, "password": self.password},
        )
        return self._keep(self._check(response, "com.atproto.server.createSession"))

    def refresh_session(self, session: dict) -> dict:
        response = self._post("com.atproto.server.refreshSession", token=session.get("refreshJwt"))
        if response.status_code in (400, 401):  # the refresh token expired or was revoked: log in again
            return self.create_session()
        return self._keep(self._check(response, "com.atproto.server.refreshSession"))

    def session(self) -> dict:
        with _sessions_lock:
            session = _sessions.get(self.key)
        if session is None:
            return self.create_session()
        expiry = _jwt_expiry(session["accessJwt"])
        if expiry is not None and expiry < time.time() + 60:
            return self.refresh_session(session)
        return session

    def call(self, method: str, nsid: str, *, params=None, body: dict | None = None) -> dict:
        session = self.session()
        for attempt in range(3):
            headers = {"Authorization": f"Bearer {session['accessJwt']}", "User-Agent": USER_AGENT}
            response = send(
                self.http,
                method,
                f"{self.service}/xrpc/{nsid}",
                platform="Bluesky",
                headers=headers,
                params=params,
                json=body,
            )
            name, _ = _error(response)
            if attempt == 0 and response.status_code in (400, 401) and name == "ExpiredToken":
                session = self.refresh_session(session)
            elif attempt < 2 and response.status_code == 401 and name in ("InvalidToken", "AuthMissing"):
                session = self.create_session()  # the session was revoked (e.g. the app password rotated)
            else:
                break
        return self._check(response, nsid)

    def _check(self, response: httpx.Response, nsid: str) -> dict:
        name, message = _error(response)
        raise_for_status(
            response,
            platform="Bluesky",
            what=nsid,
            reason=f"{name}: {message}".strip(": "),
            retry_after=seconds_until(response.headers.get("ratelimit-reset")),
        )
        return json_object(response, platform="Bluesky", what=nsid)


class BlueskyConnector(SocialConnector):
    kind = ChannelKind.BLUESKY
    setup_fields = (
        Setting(
            "identifier",
            "Handle",
            credential=True,
            required=True,
            help="The brand's handle, e.g. nimbus.bsky.social.",
        ),
        Setting(
            "app_password",
            "App password",
            secret=True,
            required=True,
            help="Settings → Privacy and security → App passwords.",
        ),
        Setting(
            "queries",
            "Searches",
            LINES,
            help=f"One a line, at most {MAX_QUERIES}; empty: the brand's keywords.",
        ),
        api_base("service", DEFAULT_SERVICE, "PDS"),
    )
    # What the reply composer checks (apps/replies/limits.py): a post holds 300 graphemes (counted here as
    # characters); a reply answers a post of its own conversation; text only.
    limits = {"max_length": 300, "length_unit": "characters", "reaches": "conversation"}

    # ---- fetch -------------------------------------------------------------------------------------------

    def poll(self, channel, http: httpx.Client, cursor: dict) -> dict[str, dict]:
        found: dict[str, dict] = {}
        xrpc = _Xrpc(channel, http)
        brand_did = xrpc.session()["did"]
        others: list[dict] = []  # notifications with no post to store: kept, and ignored with their reason
        posts, cursor["notifications"] = self._read(
            xrpc,
            "app.bsky.notification.listNotifications",
            "notifications",
            MAX_PAGES,
            [("reasons", reason) for reason in REASONS],
            cursor.get("notifications") or {},
            others,
        )
        for post, reason in posts:
            found.setdefault(post["uri"], {"post": post, "reason": reason})
        searched, cursor["search"] = cursor.get("search") or {}, {}
        for query in search_queries(channel, MAX_QUERIES):
            state = searched.get(query) or {}
            params = [("q", query), ("sort", "latest")]
            if _when(state.get("newest")):
                params.append(("since", _iso(_when(state["newest"]) - SEARCH_MARGIN)))
            posts, cursor["search"][query] = self._read(
                xrpc, "app.bsky.feed.searchPosts", "posts", MAX_SEARCH_PAGES, params, state, others
            )
            for post, _ in posts:
                found.setdefault(post["uri"], {"post": post, "reason": "search", "query": query})
        self._hydrate_quotes(xrpc, [entry["post"] for entry in found.values()])
        profiles = self._profiles(xrpc, {entry["post"]["author"]["did"] for entry in found.values()})
        for entry in found.values():
            entry["author_profile"] = profiles.get(entry["post"]["author"]["did"])
            entry["brand_did"] = brand_did
        for notification in others:  # stored as the notification itself, which `interpret` explains
            found.setdefault(notification["uri"], notification)
        return found

    def _read(
        self,
        xrpc: _Xrpc,
        nsid: str,
        key: str,
        max_pages: int,
        params: list,
        state: dict,
        others: list[dict],
    ):
        """Newest first, page after page, until what the last poll saw; → [(post, reason)], new state.
        Entries that hold no post to store (likes, follows… from a server that lists them despite
        `reasons`; a post without its author) go to `others`, to be kept and explained, not dropped."""
        seen = [uri for uri in state.get("seen") or [] if isinstance(uri, str)]
        known = set(seen)
        newest = _when(state.get("newest"))
        posts: list[tuple[dict, str]] = []
        kept: list[str] = []  # the uris given to `others`
        page_cursor = None
        for _ in range(max_pages if state else 1):  # a new channel starts listening now
            page_params = [*params, ("limit", str(PAGE_SIZE))]
            if page_cursor:
                page_params.append(("cursor", page_cursor))
            data = xrpc.call("GET", nsid, params=page_params)
            entries = data.get(key)
            if not isinstance(entries, list):
                raise TransientError(f"Bluesky answered {nsid} without '{key}'")
            reached_known = False
            for entry in entries:
                if not isinstance(entry, dict) or not str(entry.get("uri", "")).startswith("at://"):
                    continue
                reason = entry.get("reason", "search")
                indexed = _when(entry.get("indexedAt"))
                if entry["uri"] in known or (newest and indexed and indexed < newest):
                    reached_known = True
                if entry["uri"] in known:
                    continue
                known.add(entry["uri"])
                author = entry.get("author") if isinstance(entry.get("author"), dict) else {}
                if reason not in (*REASONS, "search") or not author.get("did"):
                    others.append(entry)
                    kept.append(entry["uri"])
                    continue
                post = {k: entry.get(k) for k in ("uri", "cid", "author", "record", "indexedAt")}
                if isinstance(entry.get("embed"), dict):  # a post view's embed: a quoted post's text
                    post["embed"] = entry["embed"]
                for count in ("replyCount", "repostCount", "likeCount", "quoteCount"):
                    if count in entry:
                        post[count] = entry[count]
                posts.append((post, reason))
            page_cursor = data.get("cursor")
            if reached_known or not page_cursor or not entries:
                break
        times = [t for t in [newest] + [_when(post.get("indexedAt")) for post, _ in posts] if t]
        state = {"seen": ([post["uri"] for post, _ in posts] + kept + seen)[:SEEN_KEPT]}
        if times:
            state["newest"] = _iso(max(times))
        return posts, state

    def _hydrate_quotes(self, xrpc: _Xrpc, posts: list[dict]) -> None:
        """Notifications carry a quote post's record, which only references the post it quotes: its view
        (app.bsky.feed.getPosts) has the quoted post's text, stored with the quote."""
        quoting = [
            post
            for post in posts
            if "embed" not in post
            and str(((post.get("record") or {}).get("embed") or {}).get("$type", "")).startswith(
                "app.bsky.embed.record"
            )
        ]
        for start in range(0, len(quoting), PROFILES_PER_CALL):
            chunk = {post["uri"]: post for post in quoting[start : start + PROFILES_PER_CALL]}
            data = xrpc.call("GET", "app.bsky.feed.getPosts", params=[("uris", uri) for uri in chunk])
            for view in data.get("posts") or []:
                if (
                    isinstance(view, dict)
                    and view.get("uri") in chunk
                    and isinstance(view.get("embed"), dict)
                ):
                    chunk[view["uri"]]["embed"] = view["embed"]

    def _profiles(self, xrpc: _Xrpc, dids: set[str]) -> dict[str, dict]:
        """Detailed profiles (with followersCount), which notification and search views do not carry."""
        profiles: dict[str, dict] = {}
        ordered = sorted(dids)
        for start in range(0, len(ordered), PROFILES_PER_CALL):
            chunk = ordered[start : start + PROFILES_PER_CALL]
            data = xrpc.call("GET", "app.bsky.actor.getProfiles", params=[("actors", did) for did in chunk])
            for profile in data.get("profiles") or []:
                if isinstance(profile, dict) and profile.get("did"):
                    profiles[profile["did"]] = profile
        return profiles

    # ---- parse -------------------------------------------------------------------------------------------

    def interpret(self, channel, body: bytes, headers: dict[str, str]) -> Interpretation:
        """A stored poll item ({"post": …}), or what the API answers for one: a notification
        (listNotifications), a post view (getPosts, a feed) or a feed item ({"post": …, "reason": …})."""
        data = decode_json(body)
        if not isinstance(data, dict):
            raise PayloadRejected(
                "a Bluesky payload holds {'post': {uri, cid, author: {did…}, record: {text…}}}"
            )
        if "post" not in data and "record" in data and "uri" in data:
            reason = data.get("reason")
            if isinstance(reason, str) and reason not in (*REASONS, "search"):
                return Interpretation(
                    ignored=[
                        Ignored(
                            f"notification:{reason}"[:100],
                            _IGNORED.get(reason)
                            or f"a '{reason}' notification, which this connector does not know",
                        )
                    ]
                )
            data = {"post": data, "reason": reason if isinstance(reason, str) else ""}
        elif isinstance(data.get("reason"), dict) and isinstance(data.get("post"), dict):
            # A feed item reposted by someone: the post is stored; the repost itself is not a message.
            data = {**data, "reason": str(data["reason"].get("$type") or "")}
        post = data.get("post")
        record = post.get("record") if isinstance(post, dict) else None
        author = post.get("author") if isinstance(post, dict) else None
        if (
            not isinstance(record, dict)
            or not isinstance(author, dict)
            or not str(post.get("uri", "")).startswith("at://")
            or not author.get("did")
        ):
            raise PayloadRejected(
                "a Bluesky payload holds {'post': {uri, cid, author: {did…}, record: {text…}}}"
            )
        if record.get("$type", POST_TYPE) != POST_TYPE:
            kind = str(record.get("$type"))[:100]
            return Interpretation(ignored=[Ignored(kind, f"a {kind} record, not a post")])
        return Interpretation(messages=[self._post(data, post, record, author)])

    def _post(self, data: dict, post: dict, record: dict, author: dict) -> InboundMessage:
        uri = str(post["uri"])
        reply = record.get("reply") if isinstance(record.get("reply"), dict) else {}
        root = (reply.get("root") or {}).get("uri") or uri
        parent = (reply.get("parent") or {}).get("uri") or ""
        handle = clean_text(author.get("handle"), "author.handle", 253)
        profile = data.get("author_profile") if isinstance(data.get("author_profile"), dict) else {}
        followers = profile.get("followersCount", author.get("followersCount"))
        verification = profile.get("verification") or author.get("verification") or {}
        verified = verification.get("verifiedStatus") == "valid" if isinstance(verification, dict) else False
        langs = record.get("langs") if isinstance(record.get("langs"), list) else []
        rkey = uri.rsplit("/", 1)[-1]
        who = handle if handle and handle != "handle.invalid" else author["did"]
        text = clean_text(record.get("text"), "record.text")
        quoted = _quoted(post)
        if quoted:
            text = f"{text}\n\n> {quoted}" if text else f"> {quoted}"
        if not text:
            embed = record.get("embed") if isinstance(record.get("embed"), dict) else {}
            text = f"[{str(embed.get('$type') or 'empty post').rsplit('.', 1)[-1]}]"
        return InboundMessage(
            external_id=uri,
            thread_key=str(root),
            text=text,
            sent_at=parse_time(record.get("createdAt") or post.get("indexedAt"), "record.createdAt"),
            language=clean_text(str(langs[0]) if langs else "", "record.langs", 16),
            in_reply_to=str(parent),
            outbound=author["did"] == data.get("brand_did"),
            author=InboundAuthor(
                external_id=clean_text(author["did"], "author.did", 255),
                handle=f"@{handle}" if handle else "",
                display_name=clean_text(profile.get("displayName") or author.get("displayName"), "name", 255),
                profile_url=f"https://bsky.app/profile/{who}",
                avatar_url=clean_text(profile.get("avatar") or author.get("avatar"), "author.avatar", 500),
                followers=followers if isinstance(followers, int) and followers >= 0 else None,
                verified=True if verified else None,
            ),
            metadata={
                "bluesky": {
                    "uri": uri,
                    "cid": post.get("cid") or "",
                    "url": f"https://bsky.app/profile/{who}/post/{rkey}",
                    "reason": data.get("reason") or "",
                }
            },
        )

    # ---- send --------------------------------------------------------------------------------------------

    def send(self, channel, message, reply_to: str = "") -> str:
        if not reply_to or not str(reply_to).startswith("at://"):
            raise PayloadRejected("there is no Bluesky post in this conversation to reply to")
        text = (message.text or "").strip()
        if not text:
            raise PayloadRejected("a Bluesky reply needs text")
        with public_client(timeout=TIMEOUT) as http:
            xrpc = _Xrpc(channel, http)
            posts = xrpc.call("GET", "app.bsky.feed.getPosts", params=[("uris", reply_to)]).get("posts") or []
            parent = posts[0] if posts and isinstance(posts[0], dict) else None
            if not parent or not parent.get("cid"):
                raise PayloadRejected("the Bluesky post being answered no longer exists")
            parent_ref = {"uri": parent["uri"], "cid": parent["cid"]}
            thread = ((parent.get("record") or {}).get("reply") or {}).get("root") or {}
            root_ref = (
                {"uri": thread["uri"], "cid": thread["cid"]}
                if thread.get("uri") and thread.get("cid")
                else parent_ref
            )
            record = {
                "$type": POST_TYPE,
                "text": text,
                "createdAt": _iso(datetime.now(UTC)),
                "reply": {"root": root_ref, "parent": parent_ref},
            }
            created = xrpc.call(
                "POST",
                "com.atproto.repo.createRecord",
                body={"repo": xrpc.session()["did"], "collection": POST_TYPE, "record": record},
            )
        if not created.get("uri"):
            raise PayloadRejected("Bluesky accepted the reply but returned no uri")
        return str(created["uri"])
