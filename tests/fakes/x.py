"""A fake of the X API v2 endpoints the X connector uses, answering as X documents them.

    GET  /2/users/:id/mentions      app-only Bearer token; since_id, max_results (5–100), pagination_token
    GET  /2/tweets/search/recent    app-only Bearer token; query (≤ 512 chars), since_id, max_results
                                    (10–100), next_token
    POST /2/tweets                  user-context Bearer token; {"text", "reply": {"in_reply_to_tweet_id"}}

Posts are kept newest first by id (X ids are snowflakes: a larger id is a newer post). A post is a mention
when it names the brand's @username or replies to the brand; it matches a search when its text contains
one of the query's quoted terms or @handles. Requests that break the documented contract get X's error
answers (400 with `errors`, 401), so a connector that sends the wrong thing fails its test.
"""

from __future__ import annotations

import itertools
import re
import time

from tests.fakes.http import FakePlatform, RecordedRequest, Response

TWEET_FIELDS_REQUIRED = {
    "created_at",
    "conversation_id",
    "author_id",
    "lang",
    "public_metrics",
    "in_reply_to_user_id",
    "referenced_tweets",
}
USER_FIELDS_REQUIRED = {"username", "name", "verified", "public_metrics", "profile_image_url"}


def user(user_id: str, username: str, name: str = "", followers: int = 0, verified: bool = False) -> dict:
    """A user object as `includes.users` carries it with the connector's user.fields."""
    return {
        "id": user_id,
        "username": username,
        "name": name or username,
        "verified": verified,
        "profile_image_url": f"https://pbs.twimg.com/profile_images/{user_id}/photo_normal.jpg",
        "public_metrics": {
            "followers_count": followers,
            "following_count": 10,
            "tweet_count": 100,
            "listed_count": 1,
        },
    }


class FakeX(FakePlatform):
    def __init__(
        self,
        *,
        bearer_token: str = "app-bearer-token",
        user_access_token: str = "user-context-token",
        brand_user_id: str = "2244994945",
        brand_username: str = "nimbusmobile",
    ):
        super().__init__()
        self.bearer_token = bearer_token
        self.data_as_object = False
        self.user_access_token = user_access_token
        self.brand_user_id = brand_user_id
        self.brand_username = brand_username
        self.tweets: list[dict] = []
        self.users: dict[str, dict] = {
            brand_user_id: user(brand_user_id, brand_username, "Nimbus Mobile", 5000)
        }
        self.posted: list[dict] = []
        self.oldest_since_id: int | None = None  # since_id below this → 400, like a since_id past 7 days
        self._ids = itertools.count(1860000000000000001)
        self._tokens: dict[str, int] = {}
        self.server.route("GET", r"/2/users/(?P<id>\d+)/mentions", self._mentions)
        self.server.route("GET", r"/2/tweets/search/recent", self._search)
        self.server.route("POST", r"/2/tweets", self._create)

    # ---- the test's side ----------------------------------------------------------------------------------

    def add_user(self, user_id: str, username: str, **kwargs) -> dict:
        self.users[user_id] = user(user_id, username, **kwargs)
        return self.users[user_id]

    def post(
        self, author_id: str, text: str, *, reply_to: str | None = None, lang: str = "en", created_at=None
    ) -> dict:
        """A post as X stores it; a reply joins the conversation of the post it answers."""
        tweet_id = str(next(self._ids))
        parent = next((t for t in self.tweets if t["id"] == reply_to), None) if reply_to else None
        tweet = {
            "id": tweet_id,
            "text": text,
            "edit_history_tweet_ids": [tweet_id],
            "author_id": author_id,
            "conversation_id": parent["conversation_id"] if parent else tweet_id,
            "created_at": created_at or f"2026-11-20T10:{len(self.tweets) % 60:02d}:00.000Z",
            "lang": lang,
            "public_metrics": {
                "retweet_count": 0,
                "reply_count": 0,
                "like_count": 3,
                "quote_count": 0,
                "bookmark_count": 0,
                "impression_count": 120,
            },
        }
        if parent:
            tweet["in_reply_to_user_id"] = parent["author_id"]
            tweet["referenced_tweets"] = [{"type": "replied_to", "id": parent["id"]}]
        self.tweets.insert(0, tweet)
        return tweet

    def rate_limit(self, reset_in: int = 60) -> None:
        self.next_responses.append(
            Response(
                429,
                {
                    "title": "Too Many Requests",
                    "detail": "Too Many Requests",
                    "type": "about:blank",
                    "status": 429,
                },
                {
                    "x-rate-limit-limit": "450",
                    "x-rate-limit-remaining": "0",
                    "x-rate-limit-reset": str(int(time.time()) + reset_in),
                },
            )
        )

    # ---- the platform's side ------------------------------------------------------------------------------

    def _unauthorized(self) -> Response:
        return Response(
            401, {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}
        )

    def _invalid(self, parameter: str, message: str) -> Response:
        return Response(
            400,
            {
                "errors": [{"parameters": {parameter: []}, "message": message}],
                "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
                "type": "https://api.twitter.com/2/problems/invalid-request",
            },
        )

    def _check_read(self, request: RecordedRequest, low: int) -> Response | None:
        if self.next_responses:
            return self.next_responses.pop(0)
        if request.headers.get("authorization") != f"Bearer {self.bearer_token}":
            return self._unauthorized()
        q = request.query
        fields = set((q.get("tweet.fields") or [""])[0].split(","))
        if not fields >= TWEET_FIELDS_REQUIRED:
            return self._invalid("tweet.fields", f"missing {sorted(TWEET_FIELDS_REQUIRED - fields)}")
        if "author_id" not in (q.get("expansions") or [""])[0].split(","):
            return self._invalid("expansions", "expansions must include author_id")
        user_fields = set((q.get("user.fields") or [""])[0].split(","))
        if not user_fields >= USER_FIELDS_REQUIRED:
            return self._invalid("user.fields", f"missing {sorted(USER_FIELDS_REQUIRED - user_fields)}")
        max_results = int((q.get("max_results") or ["10"])[0])
        if not low <= max_results <= 100:
            return self._invalid(
                "max_results",
                f"The `max_results` query parameter value [{max_results}] is not between {low} and 100",
            )
        since_id = (q.get("since_id") or [None])[0]
        if since_id and self.oldest_since_id and int(since_id) < self.oldest_since_id:
            return self._invalid("since_id", "Please use a 'since_id' that is larger than the oldest allowed")
        return None

    def _page(self, request: RecordedRequest, tweets: list[dict], token_param: str) -> Response:
        q = request.query
        since_id = (q.get("since_id") or [None])[0]
        if since_id:
            tweets = [t for t in tweets if int(t["id"]) > int(since_id)]
        offset = 0
        token = (q.get(token_param) or [None])[0]
        if token:
            if token not in self._tokens:
                return self._invalid(token_param, "The pagination token is invalid")
            offset = self._tokens[token]
        size = int((q.get("max_results") or ["10"])[0])
        page = tweets[offset : offset + size]
        meta: dict = {"result_count": len(page)}
        if page:
            meta["newest_id"], meta["oldest_id"] = page[0]["id"], page[-1]["id"]
        if offset + size < len(tweets):
            next_token = f"tok{len(self._tokens) + 1:04d}"
            self._tokens[next_token] = offset + size
            meta["next_token"] = next_token
        body: dict = {"meta": meta}
        if page:
            # Some answers (a lookup of one post, proxies in front of the API) carry one post as an object.
            body["data"] = page[0] if self.data_as_object and len(page) == 1 else page
            # Posts that the page's retweets and quotes reference, as `includes.tweets` when the
            # referenced_tweets.id expansion is asked for (with their authors among the users).
            expansions = (q.get("expansions") or [""])[0].split(",")
            by_id = {t["id"]: t for t in self.tweets}
            referenced = []
            if "referenced_tweets.id" in expansions:
                wanted = {
                    ref["id"]
                    for t in page
                    for ref in t.get("referenced_tweets") or []
                    if ref["type"] in ("retweeted", "quoted")
                }
                referenced = [by_id[i] for i in sorted(wanted) if i in by_id]
            # Tweets recorded without the fields asked for (tweepy's cassettes) have no author_id.
            authors = {t["author_id"] for t in page + referenced if "author_id" in t}
            body["includes"] = {"users": [self.users[a] for a in sorted(authors) if a in self.users]}
            if referenced:
                body["includes"]["tweets"] = referenced
        return Response(200, body, {"x-rate-limit-remaining": "449"})

    def _mentions(self, request: RecordedRequest):
        if (problem := self._check_read(request, 5)) is not None:
            return problem
        if request.match["id"] != self.brand_user_id:
            return Response(
                200,
                {
                    "errors": [
                        {
                            "title": "Not Found Error",
                            "detail": f"Could not find user with id: [{request.match['id']}].",
                        }
                    ]
                },
            )
        mentions = [
            t
            for t in self.tweets
            if f"@{self.brand_username}".lower() in t["text"].lower()
            or t.get("in_reply_to_user_id") == self.brand_user_id
        ]
        mentions = [t for t in mentions if t["author_id"] != self.brand_user_id]
        return self._page(request, mentions, "pagination_token")

    def _search(self, request: RecordedRequest):
        if (problem := self._check_read(request, 10)) is not None:
            return problem
        query = (request.query.get("query") or [""])[0]
        if not query or len(query) > 512:
            return self._invalid("query", "query must be 1 to 512 characters")
        terms = [t.lower() for t in re.findall(r'"([^"]+)"', query) + re.findall(r"(?<![\w:])@\w+", query)]
        no_retweets = "-is:retweet" in query
        matches = [
            t
            for t in self.tweets
            if any(term in t["text"].lower() for term in terms)
            and not (no_retweets and t["text"].startswith("RT @"))
        ]
        return self._page(request, matches, "next_token")

    def _create(self, request: RecordedRequest):
        if self.next_responses:
            return self.next_responses.pop(0)
        if request.headers.get("authorization") != f"Bearer {self.user_access_token}":
            return self._unauthorized()
        body = request.json()
        if not isinstance(body, dict) or not body.get("text"):
            return self._invalid("text", "text is required")
        reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        if reply_to and not any(t["id"] == reply_to for t in self.tweets):
            return Response(
                403,
                {
                    "detail": "You attempted to reply to a Tweet that is deleted or not visible to you.",
                    "status": 403,
                    "title": "Forbidden",
                    "type": "about:blank",
                },
            )
        tweet = self.post(self.brand_user_id, body["text"], reply_to=reply_to)
        self.posted.append(body)
        return Response(
            201, {"data": {"id": tweet["id"], "text": tweet["text"], "edit_history_tweet_ids": [tweet["id"]]}}
        )
