"""A fake Mastodon instance with the REST API methods the Mastodon connector uses, as documented.

    GET  /api/v1/accounts/verify_credentials
    GET  /api/v1/notifications         types[], max_id / since_id / min_id, limit ≤ 80; Link header
    GET  /api/v2/search                q, type=statuses, resolve, min_id / max_id, limit ≤ 40, offset
    GET  /api/v1/statuses/:id, /api/v1/statuses/:id/context
    POST /api/v1/statuses              status, in_reply_to_id, visibility; Idempotency-Key honoured

Every method needs `Authorization: Bearer <token>` (401 {"error": "The access token is invalid"}); answers
carry X-RateLimit-Limit / -Remaining / -Reset (an ISO 8601 time). Ids grow with time, as Mastodon's do.
"""

from __future__ import annotations

import html
import itertools
import re
from datetime import UTC, datetime, timedelta

from tests.fakes.http import FakePlatform, RecordedRequest, Response

HOST = "mastodon.example"


def _plain(content: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", content))


class FakeMastodon(FakePlatform):
    def __init__(self, *, access_token: str = "mastodon-user-token", brand_username: str = "nimbus"):
        super().__init__()
        self.access_token = access_token
        self.accounts: dict[str, dict] = {}
        self.statuses: list[dict] = []  # oldest first
        self.notifications: list[dict] = []  # oldest first
        # A server before Mastodon 3.5, which ignores `types[]` and lists follows, favourites...
        self.ignores_types = False
        self.idempotent: dict[str, dict] = {}
        self.malformed = False
        self._status_ids = itertools.count(113500000000000001)
        self._notification_ids = itertools.count(34975861)
        self._account_ids = itertools.count(971724)
        self._clock = itertools.count(0)
        self.brand = self.add_account(brand_username, display_name="Nimbus Mobile", followers=9000)
        self.server.route("GET", r"/api/v1/accounts/verify_credentials", self._verify)
        self.server.route("GET", r"/api/v1/notifications", self._notifications)
        self.server.route("GET", r"/api/v2/search", self._search)
        self.server.route("GET", r"/api/v1/statuses/(?P<id>\d+)", self._status)
        self.server.route("GET", r"/api/v1/statuses/(?P<id>\d+)/context", self._context)
        self.server.route("POST", r"/api/v1/statuses", self._create)

    # ---- the test's side ----------------------------------------------------------------------------------

    def add_account(
        self, username: str, *, domain: str = "", display_name: str = "", followers: int = 0
    ) -> dict:
        account_id = str(next(self._account_ids))
        acct = f"{username}@{domain}" if domain else username
        home = domain or HOST
        account = {
            "id": account_id,
            "username": username,
            "acct": acct,
            "display_name": display_name or username,
            "locked": False,
            "bot": False,
            "created_at": "2022-11-01T00:00:00.000Z",
            "note": "<p></p>",
            "url": f"https://{home}/@{username}",
            "avatar": f"https://{HOST}/avatars/{account_id}.png",
            "followers_count": followers,
            "following_count": 10,
            "statuses_count": 100,
        }
        self.accounts[account_id] = account
        return account

    def toot(
        self, account: dict, content: str, *, reply_to: dict | None = None, visibility: str = "public"
    ) -> dict:
        """A status; the accounts its text names (`@username`, `@user@domain`) are mentioned and notified."""
        status_id = str(next(self._status_ids))
        when = datetime(2026, 11, 20, 10, 0, tzinfo=UTC) + timedelta(minutes=next(self._clock))
        # Only the accounts the text names are mentioned (and notified), as on Mastodon.
        mentioned = [
            a
            for a in self.accounts.values()
            if re.search(rf"@{re.escape(a['acct'])}(?![\w@])", _plain(content))
        ]
        status = {
            "id": status_id,
            "created_at": when.isoformat().replace("+00:00", ".000Z"),
            "in_reply_to_id": reply_to["id"] if reply_to else None,
            "in_reply_to_account_id": reply_to["account"]["id"] if reply_to else None,
            "sensitive": False,
            "spoiler_text": "",
            "visibility": visibility,
            "language": "en",
            "uri": f"https://{HOST}/users/{account['username']}/statuses/{status_id}",
            "url": f"https://{HOST}/@{account['username']}/{status_id}",
            "replies_count": 0,
            "reblogs_count": 0,
            "favourites_count": 0,
            "content": content,
            "reblog": None,
            "account": account,
            "media_attachments": [],
            "mentions": [
                {"id": a["id"], "username": a["username"], "url": a["url"], "acct": a["acct"]}
                for a in mentioned
                if a["id"] != account["id"]
            ],
            "tags": [],
            "emojis": [],
            "card": None,
            "poll": None,
        }
        self.statuses.append(status)
        if reply_to:
            reply_to["replies_count"] += 1
        for target in status["mentions"]:
            if target["id"] == self.brand["id"]:
                self.notifications.append(
                    {
                        "id": str(next(self._notification_ids)),
                        "type": "mention",
                        "created_at": status["created_at"],
                        "account": account,
                        "status": status,
                    }
                )
        return status

    def favourite(self, account: dict, status: dict) -> None:
        """A notification of another type, which a types[]=mention request must not return."""
        self.notifications.append(
            {
                "id": str(next(self._notification_ids)),
                "type": "favourite",
                "created_at": status["created_at"],
                "account": account,
                "status": status,
            }
        )

    def rate_limit(self, reset_in: int = 120) -> None:
        reset = (datetime.now(UTC) + timedelta(seconds=reset_in)).isoformat().replace("+00:00", "Z")
        self.next_responses.append(
            Response(
                429,
                {"error": "Too many requests"},
                {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset},
            )
        )

    # ---- the platform's side ------------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        reset = (datetime.now(UTC) + timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
        return {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "299", "X-RateLimit-Reset": reset}

    def misbehave(self, on: bool = True) -> None:
        """Answer every method 200 with a JSON document of no shape the API documents (an instance behind a
        broken proxy or mid-upgrade), until told otherwise."""
        self.malformed = on

    def _auth(self, request: RecordedRequest) -> Response | None:
        if self.malformed:
            return Response(200, '"maintenance"', {"Content-Type": "application/json"})
        if self.next_responses:
            return self.next_responses.pop(0)
        if request.headers.get("authorization") != f"Bearer {self.access_token}":
            return Response(401, {"error": "The access token is invalid"})
        return None

    def _verify(self, request: RecordedRequest):
        return self._auth(request) or Response(200, self.brand, self._headers())

    def _window(self, request: RecordedRequest, items: list[dict], maximum: int) -> list[dict]:
        """max_id / since_id / min_id / limit over items sorted oldest first, answered newest first."""
        q = request.query
        limit = min(int((q.get("limit") or [str(maximum // 2)])[0]), maximum)
        key = lambda item: int(item["id"])  # noqa: E731
        for name, keep in (("max_id", lambda i, v: key(i) < v), ("since_id", lambda i, v: key(i) > v)):
            if q.get(name):
                items = [i for i in items if keep(i, int(q[name][0]))]
        if q.get("min_id"):
            items = [i for i in items if key(i) > int(q["min_id"][0])][:limit]  # immediately newer
        else:
            items = items[-limit:] if limit else []
        return sorted(items, key=key, reverse=True)

    def _notifications(self, request: RecordedRequest):
        if (problem := self._auth(request)) is not None:
            return problem
        limit = int((request.query.get("limit") or ["40"])[0])
        if limit > 80:
            return Response(422, {"error": "limit must be at most 80"})
        types = [] if self.ignores_types else request.query.get("types[]") or []
        items = [n for n in self.notifications if not types or n["type"] in types]
        page = self._window(request, items, 80)
        headers = self._headers()
        if page:
            extra = "".join(f"&types[]={t}" for t in types) + f"&limit={limit}"
            base = f"{self.url}/api/v1/notifications"
            older = f'<{base}?max_id={page[-1]["id"]}{extra}>; rel="next"'
            newer = f'<{base}?min_id={page[0]["id"]}{extra}>; rel="prev"'
            headers["Link"] = f"{older}, {newer}"
        return Response(200, page, headers)

    def _search(self, request: RecordedRequest):
        if (problem := self._auth(request)) is not None:
            return problem
        q = request.query
        query = (q.get("q") or [""])[0].lower()
        if not query:
            return Response(400, {"error": "Validation failed: q is missing"})
        if (q.get("type") or [""])[0] != "statuses" or (q.get("resolve") or ["false"])[0] != "false":
            return Response(422, {"error": "expected type=statuses without resolve"})
        if int((q.get("limit") or ["20"])[0]) > 40:
            return Response(422, {"error": "limit must be at most 40"})
        matches = [
            s for s in self.statuses if query in _plain(s["content"]).lower() and s["visibility"] == "public"
        ]
        page = self._window(request, matches, 1000)
        offset, limit = int((q.get("offset") or ["0"])[0]), int((q.get("limit") or ["20"])[0])
        return Response(
            200, {"accounts": [], "statuses": page[offset : offset + limit], "hashtags": []}, self._headers()
        )

    def _find(self, status_id: str) -> dict | None:
        return next((s for s in self.statuses if s["id"] == status_id), None)

    def _status(self, request: RecordedRequest):
        if (problem := self._auth(request)) is not None:
            return problem
        status = self._find(request.match["id"])
        return (
            Response(200, status, self._headers()) if status else Response(404, {"error": "Record not found"})
        )

    def _context(self, request: RecordedRequest):
        if (problem := self._auth(request)) is not None:
            return problem
        status = self._find(request.match["id"])
        if not status:
            return Response(404, {"error": "Record not found"})
        ancestors, parent = [], self._find(status["in_reply_to_id"] or "")
        while parent:
            ancestors.insert(0, parent)
            parent = self._find(parent["in_reply_to_id"] or "")
        descendants = [s for s in self.statuses if s["in_reply_to_id"] == status["id"]]
        return Response(200, {"ancestors": ancestors, "descendants": descendants}, self._headers())

    def _create(self, request: RecordedRequest):
        if (problem := self._auth(request)) is not None:
            return problem
        key = request.headers.get("idempotency-key")
        if key and key in self.idempotent:
            return Response(200, self.idempotent[key], self._headers())
        body = (
            request.json()
            if "json" in request.headers.get("content-type", "")
            else {k: v[0] for k, v in request.form().items()}
        )
        text = body.get("status") or ""
        if not text:
            return Response(422, {"error": "Validation failed: Text can't be blank"})
        if len(text) > 500:
            return Response(422, {"error": "Validation failed: Text character limit of 500 exceeded"})
        if body.get("visibility", "public") not in ("public", "unlisted", "private", "direct"):
            return Response(422, {"error": "Validation failed: Visibility is not included in the list"})
        parent = None
        if body.get("in_reply_to_id"):
            parent = self._find(str(body["in_reply_to_id"]))
            if not parent:
                return Response(404, {"error": "Record not found"})
        status = self.toot(
            self.brand,
            f"<p>{html.escape(text)}</p>",
            reply_to=parent,
            visibility=body.get("visibility", "public"),
        )
        if key:
            self.idempotent[key] = status
        return Response(200, status, self._headers())
