"""A fake Bluesky PDS (with the AppView methods it proxies) answering the XRPC methods the connector uses.

    POST com.atproto.server.createSession     {identifier, password} → accessJwt, refreshJwt, did, handle
    POST com.atproto.server.refreshSession    Bearer <refreshJwt> → a new pair
    GET  app.bsky.notification.listNotifications   reasons[], limit ≤ 100, cursor
    GET  app.bsky.feed.searchPosts            q, sort, since, limit ≤ 100, cursor
    GET  app.bsky.actor.getProfiles           actors (≤ 25) → profiles with followersCount
    GET  app.bsky.feed.getPosts               uris → posts
    POST com.atproto.repo.createRecord        {repo, collection, record} → {uri, cid}

Every other method needs `Authorization: Bearer <accessJwt>`: an expired access token is answered
400 {"error": "ExpiredToken"}, an unknown one 401 {"error": "InvalidToken"}, as the PDS does. Access
tokens are JWTs whose `exp` claim is real, so a client may refresh before they run out.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import secrets
import time
from datetime import UTC, datetime, timedelta

from tests.fakes.http import FakePlatform, RecordedRequest, Response

POST = "app.bsky.feed.post"


def _jwt(claims: dict) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'typ': 'at+jwt', 'alg': 'HS256'})}.{part(claims)}.{secrets.token_urlsafe(16)}"


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class FakeBluesky(FakePlatform):
    def __init__(self, *, handle: str = "nimbus.bsky.social", app_password: str = "abcd-efgh-ijkl-mnop"):
        super().__init__()
        self.handle, self.app_password = handle, app_password
        self.actors: dict[str, dict] = {}  # did → profile (detailed)
        self.posts: list[dict] = []  # post views, oldest first
        self.notifications: list[dict] = []  # oldest first
        # A server that lists every notification whatever `reasons` asks for (likes, follows...), as
        # the connector must expect.
        self.ignores_reasons = False
        self.access: dict[str, str] = {}  # accessJwt → did
        self.expired: set[str] = set()
        self.refresh: dict[str, str] = {}  # refreshJwt → did
        self.sessions_created = 0
        self._clock = itertools.count(0)
        self._rkeys = itertools.count(1)
        self.brand = self.add_actor(handle, display_name="Nimbus Mobile", followers=12000)
        for method, nsid, handler in [
            ("POST", "com.atproto.server.createSession", self._create_session),
            ("POST", "com.atproto.server.refreshSession", self._refresh_session),
            ("GET", "app.bsky.notification.listNotifications", self._list_notifications),
            ("GET", "app.bsky.feed.searchPosts", self._search_posts),
            ("GET", "app.bsky.actor.getProfiles", self._get_profiles),
            ("GET", "app.bsky.feed.getPosts", self._get_posts),
            ("POST", "com.atproto.repo.createRecord", self._create_record),
        ]:
            self.server.route(method, "/xrpc/" + re.escape(nsid), handler)

    # ---- the test's side ----------------------------------------------------------------------------------

    def calls(self, nsid: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == f"/xrpc/{nsid}"]

    def add_actor(self, handle: str, *, display_name: str = "", followers: int = 0) -> dict:
        did = f"did:plc:{secrets.token_hex(12)}"
        self.actors[did] = {
            "did": did,
            "handle": handle,
            "displayName": display_name or handle.split(".")[0],
            "avatar": f"https://cdn.bsky.app/img/avatar/plain/{did}/bafkrei{secrets.token_hex(8)}@jpeg",
            "followersCount": followers,
            "followsCount": 80,
            "postsCount": 400,
            "indexedAt": "2024-05-01T00:00:00.000Z",
            "createdAt": "2023-05-01T00:00:00.000Z",
            "labels": [],
        }
        return self.actors[did]

    def _basic(self, actor: dict) -> dict:
        """The ProfileViewBasic that posts and notifications carry: no follower count."""
        return {k: actor[k] for k in ("did", "handle", "displayName", "avatar")} | {
            "labels": [],
            "viewer": {},
        }

    def post(self, actor: dict, text: str, *, reply_to: dict | None = None, lang: str = "en") -> dict:
        """A post; a reply references its parent and its thread's root by uri and cid."""
        now = datetime(2026, 11, 20, 10, 0, tzinfo=UTC) + timedelta(minutes=next(self._clock))
        rkey = f"3lb{next(self._rkeys):010d}"
        record: dict = {"$type": POST, "text": text, "createdAt": _iso(now), "langs": [lang]}
        if reply_to:
            root = reply_to["record"].get("reply", {}).get("root") or {
                "uri": reply_to["uri"],
                "cid": reply_to["cid"],
            }
            record["reply"] = {"root": root, "parent": {"uri": reply_to["uri"], "cid": reply_to["cid"]}}
        return self._store(actor, record, rkey, now)

    def _store(self, actor: dict, record: dict, rkey: str, now: datetime) -> dict:
        view = {
            "uri": f"at://{actor['did']}/{POST}/{rkey}",
            "cid": f"bafyrei{secrets.token_hex(20)}",
            "author": self._basic(actor),
            "record": record,
            "replyCount": 0,
            "repostCount": 0,
            "likeCount": 0,
            "quoteCount": 0,
            "indexedAt": _iso(now + timedelta(milliseconds=250)),
            "labels": [],
        }
        self.posts.append(view)
        parent_uri = record.get("reply", {}).get("parent", {}).get("uri")
        parent = self._find(parent_uri) if parent_uri else None
        if parent:
            parent["replyCount"] += 1
        if actor["did"] != self.brand["did"]:
            reason = None
            if parent and parent["author"]["did"] == self.brand["did"]:
                reason = "reply"
            elif f"@{self.handle}" in record["text"]:
                reason = "mention"
            if reason:
                self.notify(actor, view, reason, reason_subject=parent_uri if reason == "reply" else None)
        return view

    def notify(self, actor: dict, view: dict, reason: str, reason_subject: str | None = None) -> None:
        notification = {
            "uri": view["uri"],
            "cid": view["cid"],
            "author": self._basic(actor),
            "reason": reason,
            "record": view["record"],
            "isRead": False,
            "indexedAt": view["indexedAt"],
            "labels": [],
        }
        if reason_subject:
            notification["reasonSubject"] = reason_subject
        self.notifications.append(notification)

    def expire_access_tokens(self) -> None:
        self.expired |= set(self.access)

    def rate_limit(self, reset_in: int = 60) -> None:
        self.next_responses.append(
            Response(
                429,
                {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                {
                    "ratelimit-limit": "3000",
                    "ratelimit-remaining": "0",
                    "ratelimit-reset": str(int(time.time()) + reset_in),
                    "ratelimit-policy": "3000;w=300",
                },
            )
        )

    # ---- the platform's side ------------------------------------------------------------------------------

    def _find(self, uri: str | None) -> dict | None:
        return next((p for p in self.posts if p["uri"] == uri), None)

    def _tokens(self, did: str) -> dict:
        access = _jwt({"scope": "com.atproto.appPass", "sub": did, "exp": int(time.time()) + 7200})
        refresh = _jwt({"scope": "com.atproto.refresh", "sub": did, "exp": int(time.time()) + 86400 * 60})
        self.access[access] = did
        self.refresh[refresh] = did
        return {"accessJwt": access, "refreshJwt": refresh, "handle": self.handle, "did": did, "active": True}

    def _create_session(self, request: RecordedRequest):
        if self.next_responses:
            return self.next_responses.pop(0)
        body = request.json() or {}
        if (
            body.get("identifier") not in (self.handle, self.brand["did"])
            or body.get("password") != self.app_password
        ):
            return Response(
                401, {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}
            )
        self.sessions_created += 1
        return Response(200, self._tokens(self.brand["did"]))

    def _refresh_session(self, request: RecordedRequest):
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        did = self.refresh.pop(token, None)
        if did is None:
            return Response(400, {"error": "ExpiredToken", "message": "Token has expired"})
        return Response(200, self._tokens(did))

    def _auth(self, request: RecordedRequest) -> Response | None:
        if self.next_responses:
            return self.next_responses.pop(0)
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token in self.expired:
            return Response(400, {"error": "ExpiredToken", "message": "Token has expired"})
        if token not in self.access:
            return Response(401, {"error": "InvalidToken", "message": "Bad token scope"})
        limit = int((request.query.get("limit") or ["50"])[0])
        if not 1 <= limit <= 100:
            return Response(400, {"error": "InvalidRequest", "message": "limit must be between 1 and 100"})
        return None

    def _page(self, request: RecordedRequest, items: list[dict], key: str) -> Response:
        limit = int((request.query.get("limit") or ["50"])[0])
        offset = int((request.query.get("cursor") or ["0"])[0])
        page = items[offset : offset + limit]
        body: dict = {key: page}
        if offset + limit < len(items):
            body["cursor"] = str(offset + limit)
        headers = {"ratelimit-limit": "3000", "ratelimit-remaining": "2999", "ratelimit-policy": "3000;w=300"}
        return Response(200, body, headers)

    def _list_notifications(self, request: RecordedRequest):
        if (problem := self._auth(request)) is not None:
            return problem
        reasons = request.query.get("reasons") or []
        everything = self.ignores_reasons or not reasons
        items = [n for n in reversed(self.notifications) if everything or n["reason"] in reasons]
        return self._page(request, items, "notifications")

    def _search_posts(self, request: RecordedRequest):
        if (problem := self._auth(request)) is not None:
            return problem
        q = request.query
        query = (q.get("q") or [""])[0].lower()
        if not query:
            return Response(
                400, {"error": "InvalidRequest", "message": 'Error: Params must have the property "q"'}
            )
        since = (q.get("since") or [None])[0]
        items = [p for p in reversed(self.posts) if query in p["record"]["text"].lower()]
        if since:
            items = [p for p in items if p["record"]["createdAt"] >= since]
        return self._page(request, items, "posts")

    def _get_profiles(self, request: RecordedRequest):
        if (problem := self._auth(request)) is not None:
            return problem
        actors = request.query.get("actors") or []
        if not 1 <= len(actors) <= 25:
            return Response(400, {"error": "InvalidRequest", "message": "actors must hold 1 to 25 items"})
        return Response(200, {"profiles": [self.actors[a] for a in actors if a in self.actors]})

    def _get_posts(self, request: RecordedRequest):
        if (problem := self._auth(request)) is not None:
            return problem
        uris = request.query.get("uris") or []
        return Response(200, {"posts": [p for p in (self._find(u) for u in uris) if p]})

    def _create_record(self, request: RecordedRequest):
        if (problem := self._auth(request)) is not None:
            return problem
        did = self.access[request.headers["authorization"].removeprefix("Bearer ")]
        body = request.json() or {}
        record = body.get("record") or {}
        if body.get("repo") not in (did, self.handle) or body.get("collection") != POST:
            return Response(400, {"error": "InvalidRequest", "message": "Invalid repo or collection"})
        problems = []
        if record.get("$type") != POST:
            problems.append("Record/$type must be app.bsky.feed.post")
        if not isinstance(record.get("text"), str) or len(record["text"]) > 300:
            problems.append("Record/text must not be longer than 300 graphemes")
        if not isinstance(record.get("createdAt"), str):
            problems.append('Record must have the property "createdAt"')
        for part in ("root", "parent"):
            ref = (record.get("reply") or {}).get(part) if "reply" in record else None
            if "reply" in record and (
                not ref or (self._find(ref.get("uri")) or {}).get("cid") != ref.get("cid")
            ):
                problems.append(f"Record/reply/{part} must be a strong ref to an existing post")
        if problems:
            return Response(
                400,
                {"error": "InvalidRequest", "message": f"Invalid app.bsky.feed.post record: {problems[0]}"},
            )
        now = datetime(2026, 11, 20, 10, 0, tzinfo=UTC) + timedelta(minutes=next(self._clock))
        view = self._store(self.actors[did], record, f"3lb{next(self._rkeys):010d}", now)
        return Response(200, {"uri": view["uri"], "cid": view["cid"], "validationStatus": "valid"})
