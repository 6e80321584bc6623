"""Mastodon through its REST API: mentions of the brand's account, statuses about the brand, replies.

Channel configuration
    credentials  {"access_token": a user token of the brand's account with the read:accounts,
                  read:notifications, read:search, read:statuses and write:statuses scopes}
    settings     {"instance": "https://mastodon.social",
                  "queries": ["Nimbus", …] searched one by one (default: the brand's keywords)}
    cursor       {"account": {"id", "acct"} of the brand's account (and a short hash telling which token),
                  "notifications": {"min_id": …}, "search": {"<query>": {"min_id": …}}}

Mentions come from GET /api/v1/notifications?types[]=mention: with `min_id`, Mastodon answers the page just
above the cursor, and the Link header's rel="prev" gives the `min_id` of the next page up, followed for at
most MAX_PAGES pages; what is left is read by the next poll from where this one stopped, without gaps.
Statuses about the brand come from GET /api/v2/search (type=statuses, resolve=false, authenticated).

Each status becomes one raw payload whose external id is the status id (a mention also found by search is
stored once), holding the status and the root of its thread: replies are looked up with
GET /api/v1/statuses/:id/context (at most MAX_CONTEXT_LOOKUPS a poll), so every reply of a thread lands
in the thread's conversation in whatever order the payloads are processed.

A payload may also be a bare Status, a Notification or a list of statuses (a timeline, as the API answers
for home, public, tag and list timelines): each status is stored; a boost (`reblog`) with the text of the
status it boosts; an `update` notification (an edited status) updates the stored status; notifications
with no status to store (follows, favourites and boosts of the brand's posts, poll ends...) are ignored
with a reason naming their type. Notifications other than mentions met by a poll are kept that way too.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import httpx

from ..base import Ignored, InboundAuthor, InboundMessage, Interpretation, MessageUpdate, PayloadRejected
from ..http import (
    TIMEOUT,
    USER_AGENT,
    delay_seconds,
    error_reason,
    json_object,
    public_client,
    raise_for_status,
    send,
)
from ..kinds import ChannelKind
from ..normalized import clean_text, decode_json, parse_time
from ..setup import LINES, URL, Setting
from ..social import SocialConnector, search_queries

DEFAULT_INSTANCE = "https://mastodon.social"
NOTIFICATIONS_PAGE = 80  # the documented maximum since 4.1
SEARCH_PAGE = 40  # the documented maximum per type
MAX_PAGES = 5
MAX_SEARCH_PAGES = 2
MAX_QUERIES = 5
MAX_CONTEXT_LOOKUPS = 40
_STATUS_ID = re.compile(r"[0-9A-Za-z]{1,40}")


class _Text(HTMLParser):
    """Status HTML (paragraphs, line breaks, links, mentions) → plain text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag == "p":
            self.parts.append("\n\n")

    def handle_data(self, data):
        self.parts.append(data)


def html_to_text(content: str) -> str:
    parser = _Text()
    parser.feed(content or "")
    parser.close()
    return re.sub(r"\n{3,}", "\n\n", "".join(parser.parts)).strip()


def _newest(*ids: str | None) -> str | None:
    """The newest of Mastodon ids (numeric strings that grow with time)."""
    present = [str(i) for i in ids if i]
    return max(present, key=lambda i: (len(i), i)) if present else None


def _retry_after(response: httpx.Response) -> float | None:
    reset = response.headers.get("x-ratelimit-reset")
    if reset:
        try:
            moment = datetime.fromisoformat(reset.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return max(1.0, (moment - datetime.now(UTC)).total_seconds())
        except ValueError:
            pass
    return delay_seconds(response.headers.get("retry-after"))


class _Api:
    def __init__(self, channel, http: httpx.Client):
        token = (channel.credentials or {}).get("access_token")
        if not token:
            raise PayloadRejected("the Mastodon channel has no access_token in its credentials")
        # Tells whose account a cached account id is, without keeping the token itself.
        self.token_hash = hashlib.sha256(token.encode()).hexdigest()[:16]
        self.instance = ((channel.settings or {}).get("instance") or DEFAULT_INSTANCE).rstrip("/")
        self.host = urlsplit(self.instance).hostname or self.instance
        self.http = http
        self.headers = {"Authorization": f"Bearer {token}", "User-Agent": USER_AGENT}

    def call(self, method: str, path: str, *, headers: dict | None = None, **kwargs) -> httpx.Response:
        response = send(
            self.http,
            method,
            f"{self.instance}{path}",
            platform="Mastodon",
            headers={**self.headers, **(headers or {})},
            **kwargs,
        )
        reason = error_reason(response, lambda data: data.get("error")) if response.status_code != 429 else ""
        raise_for_status(
            response, platform="Mastodon", what=path, reason=reason, retry_after=_retry_after(response)
        )
        return response

    def json(self, method: str, path: str, *, expect: type = dict, **kwargs):
        response = self.call(method, path, **kwargs)
        return json_object(response, platform="Mastodon", what=path, expect=expect), response


def _min_id_of(link: dict | None) -> str | None:
    url = (link or {}).get("url") or ""
    return (parse_qs(urlsplit(url).query).get("min_id") or [None])[0]


class MastodonConnector(SocialConnector):
    kind = ChannelKind.MASTODON
    setup_fields = (
        Setting(
            "instance",
            "Instance",
            URL,
            help=f"The server of the brand's account; default {DEFAULT_INSTANCE}.",
        ),
        Setting(
            "access_token",
            "Access token",
            secret=True,
            required=True,
            help="Preferences → Development → New application.",
        ),
        Setting(
            "queries",
            "Searches",
            LINES,
            help=f"One a line, at most {MAX_QUERIES}; empty: the brand's keywords.",
        ),
    )
    # What the reply composer checks (apps/replies/limits.py): 500 characters, the default of Mastodon
    # instances (an instance may allow more); a reply answers a status of its own conversation; text only.
    limits = {"max_length": 500, "length_unit": "characters", "reaches": "conversation"}

    # ---- fetch -------------------------------------------------------------------------------------------

    def poll(self, channel, http: httpx.Client, cursor: dict) -> dict[str, dict]:
        found: dict[str, dict] = {}
        api = _Api(channel, http)
        account = cursor.get("account") or {}
        if not account.get("id") or account.get("token") != api.token_hash:
            me, _ = api.json("GET", "/api/v1/accounts/verify_credentials")
            account = {
                "id": str(me.get("id") or ""),
                "acct": me.get("acct") or "",
                "token": api.token_hash,
            }
        cursor["account"] = account

        others: list[dict] = []  # notifications other than mentions: kept, and ignored with their type
        statuses, cursor["notifications"] = self._read_mentions(
            api, cursor.get("notifications") or {}, others
        )
        for status, notification_id in statuses:
            found.setdefault(status["id"], {"status": status, "source": "mention"})
            found[status["id"]]["notification_id"] = notification_id
        searched = cursor.get("search") or {}
        cursor["search"] = {}
        for query in search_queries(channel, MAX_QUERIES):
            statuses, cursor["search"][query] = self._search(api, query, searched.get(query) or {})
            for status in statuses:
                found.setdefault(status["id"], {"status": status, "source": "search", "query": query})
        roots = self._thread_roots(api, {sid: entry["status"] for sid, entry in found.items()})
        for status_id, entry in found.items():
            entry.update({"thread_root": roots.get(status_id, status_id), "brand_account_id": account["id"]})
        for notification in others:
            found.setdefault(f"notification:{notification['id']}", {"notification": notification})
        return found

    def _read_mentions(self, api: _Api, state: dict, others: list[dict]):
        min_id = state.get("min_id")
        newest = min_id
        pages = MAX_PAGES if min_id else 1  # a new channel starts listening now
        statuses: list[tuple[dict, str]] = []
        for _ in range(pages):
            params = [("types[]", "mention"), ("limit", str(NOTIFICATIONS_PAGE))]
            if min_id:
                params.append(("min_id", min_id))
            notifications, response = api.json("GET", "/api/v1/notifications", expect=list, params=params)
            for notification in notifications:
                if not isinstance(notification, dict):
                    continue
                newest = _newest(newest, notification.get("id"))
                status = notification.get("status")
                if notification.get("type") == "mention" and isinstance(status, dict) and status.get("id"):
                    statuses.append((status, str(notification.get("id"))))
                elif notification.get("id"):
                    others.append(notification)
            # rel="prev" holds the min_id of the page just above this one: newer notifications.
            next_min_id = _min_id_of(response.links.get("prev"))
            if not min_id or not notifications or not next_min_id:
                break
            min_id = next_min_id
        return statuses, ({"min_id": newest} if newest else {})

    def _search(self, api: _Api, query: str, state: dict):
        min_id = state.get("min_id")
        newest = min_id
        statuses: list[dict] = []
        for page in range(MAX_SEARCH_PAGES if min_id else 1):
            params = {"q": query, "type": "statuses", "resolve": "false", "limit": str(SEARCH_PAGE)}
            if min_id:
                params["min_id"] = min_id
            if page:
                params["offset"] = str(page * SEARCH_PAGE)
            data, _ = api.json("GET", "/api/v2/search", params=params)
            found = [s for s in (data.get("statuses") or []) if isinstance(s, dict) and s.get("id")]
            for status in found:
                newest = _newest(newest, status["id"])
            statuses.extend(found)
            if len(found) < SEARCH_PAGE:
                break
        return statuses, ({"min_id": newest} if newest else {})

    def _thread_roots(self, api: _Api, statuses: dict[str, dict]) -> dict[str, str]:
        """The first post of each reply's thread: from the batch itself, else from /statuses/:id/context."""
        roots: dict[str, str] = {}
        lookups = 0

        def root_of(status_id: str, depth: int = 0) -> str:
            nonlocal lookups
            if status_id in roots:
                return roots[status_id]
            status = statuses.get(status_id)
            parent = status.get("in_reply_to_id") if status else None
            if not parent:
                roots[status_id] = status_id
            elif parent in statuses and depth < 100:
                roots[status_id] = root_of(parent, depth + 1)
            elif lookups < MAX_CONTEXT_LOOKUPS:
                lookups += 1
                try:
                    context, _ = api.json("GET", f"/api/v1/statuses/{status_id}/context")
                except PayloadRejected:  # deleted, or not visible to the brand: thread by in_reply_to
                    context = {}
                ancestors = [
                    a for a in (context.get("ancestors") or []) if isinstance(a, dict) and a.get("id")
                ]
                roots[status_id] = str(ancestors[0]["id"]) if ancestors else status_id
                for ancestor in ancestors:
                    roots.setdefault(str(ancestor["id"]), roots[status_id])
            else:
                roots[status_id] = status_id  # the parent, once stored, still threads it (in_reply_to)
            return roots[status_id]

        for status_id in statuses:
            root_of(status_id)
        return roots

    # ---- parse -------------------------------------------------------------------------------------------

    def interpret(self, channel, body: bytes, headers: dict[str, str]) -> Interpretation:
        data = decode_json(body)
        if isinstance(data, list):  # a timeline: statuses, newest first
            result = Interpretation()
            for status in data:
                result.extend(self._status(channel, {"status": status}))
            if not data:
                result.ignored.append(Ignored("timeline", "an empty timeline"))
            return result
        if not isinstance(data, dict):
            raise PayloadRejected("a Mastodon payload is a status, a notification or a list of statuses")
        if "status" not in data and "notification" not in data and "type" in data and "account" in data:
            data = {"notification": data}  # a bare Notification
        elif "status" not in data and "notification" not in data and "content" in data:
            data = {"status": data}  # a bare Status
        notification = data.get("notification")
        if isinstance(notification, dict):
            return self._notification(channel, notification)
        return self._status(channel, data)

    def _notification(self, channel, notification: dict) -> Interpretation:
        kind = str(notification.get("type") or "notification")[:100]
        status = notification.get("status")
        if kind in ("mention", "status") and isinstance(status, dict):
            return self._status(channel, {"status": status, "source": kind})
        if kind == "update" and isinstance(status, dict):
            found = self._status(channel, {"status": status, "source": kind})
            edited = found.messages[0]
            at = parse_time(status.get("edited_at") or status.get("created_at"), "status.edited_at")
            return Interpretation(
                updates=[
                    MessageUpdate(
                        edited.external_id,
                        MessageUpdate.EDIT,
                        at,
                        "update",
                        text=edited.text,
                        fallback=edited,
                    )
                ]
            )
        reasons = {
            "favourite": "someone favourited a post of the brand's account",
            "reblog": "someone boosted a post of the brand's account",
            "follow": "someone followed the brand's account",
            "follow_request": "someone asked to follow the brand's account",
            "poll": "a poll the brand's account voted in or created has ended",
            "admin.sign_up": "someone signed up on the instance (admin notice)",
            "admin.report": "a report was filed on the instance (admin notice)",
            "severed_relationships": "follow relationships were severed by a moderation action",
            "moderation_warning": "a moderation warning for the brand's account",
        }
        return Interpretation(
            ignored=[
                Ignored(
                    kind, reasons.get(kind) or f"a '{kind}' notification, which this connector does not know"
                )
            ]
        )

    def _status(self, channel, data: dict) -> Interpretation:
        status = data.get("status")
        account = status.get("account") if isinstance(status, dict) else None
        if not isinstance(account, dict) or not status.get("id") or not account.get("acct"):
            raise PayloadRejected("a Mastodon payload holds {'status': {id, content, account: {acct…}…}}")
        host = urlsplit((channel.settings or {}).get("instance") or DEFAULT_INSTANCE).hostname or ""
        acct = clean_text(account["acct"], "account.acct", 255)
        if "@" not in acct and host:
            acct = f"{acct}@{host}"  # a local account: qualified with the instance, as seen from elsewhere
        content = clean_text(status.get("content"), "status.content")
        reblog = status.get("reblog") if isinstance(status.get("reblog"), dict) else None
        text = html_to_text(content)
        extra: dict = {}
        if reblog:  # a boost has no content of its own: the boosted status's, with whose it is
            original = (reblog.get("account") or {}).get("acct") or ""
            content = clean_text(reblog.get("content"), "reblog.content")
            text = f"RT @{original}: {html_to_text(content)}" if original else html_to_text(content)
            extra["reblog_of"] = str(reblog.get("id") or "")
        if not text:
            media = [m for m in status.get("media_attachments") or [] if isinstance(m, dict)]
            text = " ".join(f"[{m.get('type') or 'media'}]" for m in media) or "[empty status]"
            extra["media"] = [{"type": m.get("type"), "url": m.get("url")} for m in media]
        followers = account.get("followers_count")
        status_id = str(status["id"])
        own_id = str(data.get("brand_account_id") or "")
        return Interpretation(
            messages=[
                InboundMessage(
                    external_id=status_id,
                    thread_key=str(data.get("thread_root") or status.get("in_reply_to_id") or status_id),
                    text=text,
                    html=content,
                    subject=clean_text(status.get("spoiler_text"), "status.spoiler_text", 500),
                    sent_at=parse_time(status.get("created_at"), "status.created_at"),
                    language=clean_text(status.get("language"), "status.language", 16),
                    in_reply_to=str(status.get("in_reply_to_id") or ""),
                    outbound=bool(own_id) and str(account.get("id")) == own_id,
                    author=InboundAuthor(
                        external_id=acct.lower(),
                        handle=f"@{acct}",
                        display_name=clean_text(
                            account.get("display_name") or account.get("username"), "name", 255
                        ),
                        profile_url=clean_text(account.get("url"), "account.url", 500),
                        avatar_url=clean_text(account.get("avatar"), "account.avatar", 500),
                        followers=followers if isinstance(followers, int) and followers >= 0 else None,
                    ),
                    metadata={
                        "mastodon": {
                            "url": status.get("url") or status.get("uri") or "",
                            "visibility": status.get("visibility") or "",
                            "source": data.get("source") or "",
                            "bot": bool(account.get("bot")),
                            "replies_count": status.get("replies_count"),
                            "favourites_count": status.get("favourites_count"),
                            **extra,
                        }
                    },
                )
            ]
        )

    # ---- send --------------------------------------------------------------------------------------------

    def send(self, channel, message, reply_to: str = "") -> str:
        if not reply_to or not _STATUS_ID.fullmatch(str(reply_to)):
            raise PayloadRejected("there is no Mastodon status in this conversation to reply to")
        text = (message.text or "").strip()
        if not text:
            raise PayloadRejected("a Mastodon reply needs text")
        own_id = str(((channel.cursor or {}).get("account") or {}).get("id") or "")
        with public_client(timeout=TIMEOUT) as http:
            api = _Api(channel, http)
            parent, _ = api.json("GET", f"/api/v1/statuses/{reply_to}")
            visibility = parent.get("visibility") or "public"
            author = parent.get("account") or {}
            accts = [] if str(author.get("id")) == own_id else [author.get("acct")]
            if visibility == "direct":  # everyone in a private conversation stays in it
                accts += [m.get("acct") for m in parent.get("mentions") or [] if str(m.get("id")) != own_id]
            mentions = [
                f"@{a}" for a in dict.fromkeys(a for a in accts if a) if f"@{a}".lower() not in text.lower()
            ]
            status = " ".join([*mentions, text])
            created, _ = api.json(
                "POST",
                "/api/v1/statuses",
                json={"status": status, "in_reply_to_id": str(reply_to), "visibility": visibility},
                # A retried delivery after a lost answer does not post twice.
                headers={"Idempotency-Key": f"cxm-message-{message.pk}"},
            )
        if not isinstance(created, dict) or not created.get("id"):
            raise PayloadRejected("Mastodon accepted the reply but returned no status id")
        return str(created["id"])
