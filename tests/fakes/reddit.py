"""A fake of Reddit's OAuth2 API as the Reddit connector uses it, answering as Reddit documents it.

    POST www.reddit.com/api/v1/access_token   HTTP basic auth client_id:client_secret; form
                                              grant_type=password, username, password → {"access_token",
                                              "token_type": "bearer", "expires_in", "scope"};
                                              a wrong password → 200 {"error": "invalid_grant"}
    GET  oauth.reddit.com/search              q, sort=new, limit ≤ 100, after → Listing of t3
    GET  /r/<sub>/new, /r/<sub>/comments       Listings of t3 / t1
    GET  /message/inbox                       Listing of t1 (replies, username mentions) and t4
    POST /api/comment                         form api_type=json, thing_id, text → json.data.things

Every API request must carry `Authorization: bearer <token>` and a descriptive User-Agent (Reddit blocks
generic ones); every answer carries X-Ratelimit-Used / -Remaining / -Reset.
"""

from __future__ import annotations

import base64
import itertools
import re
import secrets

from tests.fakes.http import FakePlatform, RecordedRequest, Response

BASE_TIME = 1763600000


class FakeReddit(FakePlatform):
    def __init__(
        self,
        *,
        client_id: str = "p-jcoLKBynTLew",
        client_secret: str = "gko_LXELoV07ZBNUXrvWZfzE3aI",
        username: str = "NimbusMobileCare",
        password: str = "correct horse",
    ):
        super().__init__()
        self.client_id, self.client_secret = client_id, client_secret
        self.username, self.password = username, password
        self.things: list[dict] = []  # {"kind", "data"}, oldest first
        self.tokens: set[str] = set()
        self.token_requests = 0
        self.budget = 600.0
        self.reset_seconds = 420
        self.comment_errors: list[list] = []  # json.errors answered by the next POST /api/comment
        self._ids = itertools.count(1)
        self._clock = itertools.count(BASE_TIME, 60)
        self.server.route("POST", r"/api/v1/access_token", self._access_token)
        self.server.route("GET", r"/search", self._search)
        self.server.route("GET", r"/r/(?P<sub>\w+)/new", self._subreddit_new)
        self.server.route("GET", r"/r/(?P<sub>\w+)/comments", self._subreddit_comments)
        self.server.route("GET", r"/message/inbox", self._inbox)
        self.server.route("POST", r"/api/comment", self._comment)

    # ---- the test's side ----------------------------------------------------------------------------------

    def api_requests(self, path: str | None = None) -> list[RecordedRequest]:
        return [
            r for r in self.requests if r.path != "/api/v1/access_token" and (path is None or r.path == path)
        ]

    def _base36(self) -> str:
        number, digits = next(self._ids) + 1_000_000, "0123456789abcdefghijklmnopqrstuvwxyz"
        out = ""
        while number:
            number, rest = divmod(number, 36)
            out = digits[rest] + out
        return out

    def find(self, fullname: str) -> dict | None:
        return next((t for t in self.things if t["data"]["name"] == fullname), None)

    def submit(self, subreddit: str, author: str, title: str, selftext: str = "") -> dict:
        """A self post (t3) as listings show it."""
        post_id = self._base36()
        slug = re.sub(r"\W+", "_", title.lower())[:40]
        data = {
            "id": post_id,
            "name": f"t3_{post_id}",
            "title": title,
            "selftext": selftext,
            "selftext_html": f'<div class="md"><p>{selftext}</p></div>' if selftext else None,
            "author": author,
            "author_fullname": f"t2_{author.lower()[:8]}",
            "subreddit": subreddit,
            "subreddit_name_prefixed": f"r/{subreddit}",
            "created_utc": float(next(self._clock)),
            "permalink": f"/r/{subreddit}/comments/{post_id}/{slug}/",
            "url": f"https://www.reddit.com/r/{subreddit}/comments/{post_id}/",
            "is_self": True,
            "score": 12,
            "num_comments": 0,
            "over_18": False,
        }
        thing = {"kind": "t3", "data": data}
        self.things.append(thing)
        return thing

    def comment(self, parent: str, author: str, body: str) -> dict:
        """A comment (t1) on a post or under another comment."""
        parent_thing = self.find(parent)
        assert parent_thing, f"no thing {parent}"
        link = (
            parent_thing["data"]["name"] if parent_thing["kind"] == "t3" else parent_thing["data"]["link_id"]
        )
        post = self.find(link)["data"]
        comment_id = self._base36()
        data = {
            "id": comment_id,
            "name": f"t1_{comment_id}",
            "body": body,
            "body_html": f'<div class="md"><p>{body}</p></div>',
            "author": author,
            "author_fullname": f"t2_{author.lower()[:8]}",
            "link_id": link,
            "parent_id": parent,
            "link_title": post["title"],
            "link_permalink": f"https://www.reddit.com{post['permalink']}",
            "subreddit": post["subreddit"],
            "created_utc": float(next(self._clock)),
            "permalink": f"{post['permalink']}{comment_id}/",
            "score": 1,
        }
        post["num_comments"] += 1
        thing = {"kind": "t1", "data": data}
        self.things.append(thing)
        return thing

    def rate_limit(self, reset_in: int = 300) -> None:
        self.next_responses.append(
            Response(
                429,
                {"message": "Too Many Requests", "error": 429},
                {
                    "x-ratelimit-used": "600",
                    "x-ratelimit-remaining": "0.0",
                    "x-ratelimit-reset": str(reset_in),
                },
            )
        )

    # ---- the platform's side ------------------------------------------------------------------------------

    def _blocked_user_agent(self, request: RecordedRequest) -> Response | None:
        agent = request.headers.get("user-agent", "")
        if not agent or agent.startswith(("python-httpx", "python-requests")) or "(by /u/" not in agent:
            return Response(403, "<html><body>Blocked: please use a descriptive User-Agent</body></html>")
        return None

    def _access_token(self, request: RecordedRequest):
        if (blocked := self._blocked_user_agent(request)) is not None:
            return blocked
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return Response(401, {"message": "Unauthorized", "error": 401})
        form = {key: values[0] for key, values in request.form().items()}
        if form.get("grant_type") != "password":
            return Response(400, {"error": "unsupported_grant_type"})
        if form.get("username") != self.username or form.get("password") != self.password:
            return Response(200, {"error": "invalid_grant"})
        self.token_requests += 1
        token = secrets.token_hex(12)
        self.tokens.add(token)
        return Response(
            200, {"access_token": token, "token_type": "bearer", "expires_in": 86400, "scope": "*"}
        )

    def _authorize(self, request: RecordedRequest) -> Response | None:
        if self.next_responses:
            return self.next_responses.pop(0)
        if (blocked := self._blocked_user_agent(request)) is not None:
            return blocked
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or token not in self.tokens:
            return Response(
                401, {"message": "Unauthorized", "error": 401}, {"www-authenticate": 'Bearer realm="reddit"'}
            )
        if self.budget < 1:
            return Response(429, {"message": "Too Many Requests", "error": 429}, self._budget_headers())
        self.budget -= 1
        return None

    def _budget_headers(self) -> dict[str, str]:
        return {
            "x-ratelimit-used": str(int(600 - self.budget)),
            "x-ratelimit-remaining": f"{self.budget:.1f}",
            "x-ratelimit-reset": str(self.reset_seconds),
        }

    def _listing(self, request: RecordedRequest, things: list[dict]) -> Response:
        q = request.query
        limit = int((q.get("limit") or ["25"])[0])
        if not 1 <= limit <= 100:
            return Response(400, {"message": "Bad Request", "error": 400})
        things = sorted(things, key=lambda t: t["data"]["created_utc"], reverse=True)
        start = 0
        after = (q.get("after") or [None])[0]
        if after:
            names = [t["data"]["name"] for t in things]
            start = names.index(after) + 1 if after in names else len(names)
        page = things[start : start + limit]
        more = start + limit < len(things)
        body = {
            "kind": "Listing",
            "data": {
                "after": page[-1]["data"]["name"] if page and more else None,
                "dist": len(page),
                "modhash": "",
                "geo_filter": "",
                "children": page,
                "before": None,
            },
        }
        return Response(200, body, self._budget_headers())

    def _search(self, request: RecordedRequest):
        if (problem := self._authorize(request)) is not None:
            return problem
        q = request.query
        query = (q.get("q") or [""])[0]
        if not query or (q.get("sort") or [""])[0] != "new":
            return Response(400, {"message": "Bad Request", "error": 400})
        terms = [t.lower() for t in re.findall(r'"([^"]+)"', query)] or [query.lower()]
        posts = [
            t
            for t in self.things
            if t["kind"] == "t3"
            and any(term in (t["data"]["title"] + " " + t["data"]["selftext"]).lower() for term in terms)
        ]
        return self._listing(request, posts)

    def _subreddit_new(self, request: RecordedRequest):
        if (problem := self._authorize(request)) is not None:
            return problem
        sub = request.match["sub"].lower()
        here = [t for t in self.things if t["data"].get("subreddit", "").lower() == sub]
        posts = [t for t in here if t["kind"] == "t3"]
        if not here:  # a subreddit nobody posted or commented in: taken as one that does not exist
            return Response(302, b"", {"location": f"https://www.reddit.com/subreddits/search.json?q={sub}"})
        return self._listing(request, posts)

    def _subreddit_comments(self, request: RecordedRequest):
        if (problem := self._authorize(request)) is not None:
            return problem
        sub = request.match["sub"].lower()
        comments = [t for t in self.things if t["kind"] == "t1" and t["data"]["subreddit"].lower() == sub]
        return self._listing(request, comments)

    def _inbox(self, request: RecordedRequest):
        if (problem := self._authorize(request)) is not None:
            return problem
        me = self.username.lower()
        entries = []
        for thing in self.things:
            data = thing["data"]
            if thing["kind"] == "t4":  # private messages (and modmail) are listed as they were received
                entries.append(thing)
                continue
            if thing["kind"] != "t1" or data["author"].lower() == me:
                continue
            parent = self.find(data["parent_id"])
            to_me = parent and parent["data"]["author"].lower() == me
            mention = f"u/{me}" in data["body"].lower()
            if not (to_me or mention):
                continue
            # Inbox entries of comments have no link_id; the post is in `context`.
            entry = {k: v for k, v in data.items() if k not in ("link_id", "link_permalink", "permalink")}
            entry.update(
                {
                    "was_comment": True,
                    "type": "username_mention"
                    if not to_me
                    else ("post_reply" if data["parent_id"].startswith("t3_") else "comment_reply"),
                    "context": f"{data['permalink']}?context=3",
                    "subject": "comment reply" if to_me else "username mention",
                    "first_message_name": None,
                    "new": True,
                    "dest": self.username,
                }
            )
            entries.append({"kind": "t1", "data": entry})
        return self._listing(request, entries)

    def _comment(self, request: RecordedRequest):
        if (problem := self._authorize(request)) is not None:
            return problem
        form = {key: values[0] for key, values in request.form().items()}
        if form.get("api_type") != "json":
            return Response(200, {"jquery": [[0, 1, "call", ["body"]]], "success": False})
        if self.comment_errors:
            return Response(200, {"json": {"errors": [self.comment_errors.pop(0)]}}, self._budget_headers())
        if not self.find(form.get("thing_id", "")):
            return Response(
                200, {"json": {"errors": [["NO_THING_ID", "couldn't find that thing", "parent"]]}}
            )
        if not form.get("text"):
            return Response(200, {"json": {"errors": [["NO_TEXT", "we need something here", "text"]]}})
        thing = self.comment(form["thing_id"], self.username, form["text"])
        return Response(200, {"json": {"errors": [], "data": {"things": [thing]}}}, self._budget_headers())
