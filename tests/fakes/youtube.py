"""A fake YouTube Data API v3 (https://developers.google.com/youtube/v3/docs) and Google's OAuth token
endpoint, answering the documented resources and errors.

    with FakeYouTube() as youtube:
        channel.settings = {"api_base": youtube.api_url, "token_url": youtube.token_url, ...}
        thread = youtube.comment(VIDEO, "Ana", "Great phone")
        youtube.comment(VIDEO, "Bo", "Agreed", thread=thread)

Resources are shaped as YouTube returns them (commentThread with `snippet.topLevelComment` and `replies`,
comment with `snippet.authorChannelId.value`...). `project_quota` makes the fake answer `403 quotaExceeded`
once the units it counted pass it; `next_responses` queues other answers (429, a body that is not JSON...).
Errors follow Google's shape: `{"error": {"code", "message", "errors": [{"domain", "reason", "message"}]}}`.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from tests.fakes.http import FakePlatform, RecordedRequest, Response

API_KEY = "AIzaSyFAKE-key-0123456789"
ACCESS_TOKEN = "ya29.fake-access-token"
REFRESH_TOKEN = "1//fake-refresh-token"
CLIENT_ID = "1234567890-abc.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-fake-secret"
BRAND_CHANNEL = "UCN1hnUccO4FD5WfM7ithXaw"
VIDEO = "7ghhRHRP6t4"
START = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
COSTS = {"commentThreads": 1, "comments": 1, "channels": 1, "search": 100, "comments.insert": 50}


def google_error(code: int, reason: str, message: str, domain: str = "youtube.quota") -> dict:
    return {
        "error": {
            "code": code,
            "message": message,
            "errors": [{"message": message, "domain": domain, "reason": reason}],
        }
    }


QUOTA_EXCEEDED = google_error(
    403,
    "quotaExceeded",
    "The request cannot be completed because you have exceeded your "
    '<a href="/youtube/v3/getting-started#quota">quota</a>.',
)
INVALID_CREDENTIALS = {
    "error": {
        "code": 401,
        "message": "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
        "cookie or other valid authentication credential.",
        "errors": [
            {
                "message": "Invalid Credentials",
                "domain": "global",
                "reason": "authError",
                "location": "Authorization",
                "locationType": "header",
            }
        ],
        "status": "UNAUTHENTICATED",
    }
}


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeYouTube(FakePlatform):
    def __init__(self):
        super().__init__()
        self.access_token = ACCESS_TOKEN
        self.refresh_token = REFRESH_TOKEN
        self.threads: list[dict] = []  # newest activity first, as order=time answers
        self.videos: dict[str, str] = {VIDEO: BRAND_CHANNEL}  # video id → its channel
        self.disabled: set[str] = set()  # videos whose comments are off
        self.search_results: list[dict] = []
        self.inserted: list[dict] = []
        self.page_size: int | None = None
        self.project_quota: int | None = None
        self.units = 0
        self.refreshes = 0
        self._ids = itertools.count(1)
        self._clock = itertools.count(1)
        route = self.server.route
        route("GET", r"/youtube/v3/commentThreads", self._threads)
        route("GET", r"/youtube/v3/comments", self._replies)
        route("GET", r"/youtube/v3/channels", self._channels)
        route("GET", r"/youtube/v3/search", self._search)
        route("POST", r"/youtube/v3/comments", self._insert)
        route("POST", r"/token", self._token)

    @property
    def api_url(self) -> str:
        return f"{self.url}/youtube/v3"

    @property
    def token_url(self) -> str:
        return f"{self.url}/token"

    # ---- data ----

    def _comment(self, video: str, author: str, text: str, at: datetime, parent: str = "") -> dict:
        number = next(self._ids)
        snippet = {
            "channelId": self.videos.get(video, BRAND_CHANNEL),
            "videoId": video,
            "textDisplay": text,
            "textOriginal": text,
            "authorDisplayName": f"@{author.lower()}",
            "authorProfileImageUrl": f"https://yt3.ggpht.com/ytc/{author.lower()}=s48-c-k-c0x00ffffff-no-rj",
            "authorChannelUrl": f"http://www.youtube.com/@{author.lower()}",
            "authorChannelId": {
                "value": BRAND_CHANNEL if author == "Brand" else f"UC{author.upper():0>22}"[:24]
            },
            "canRate": True,
            "viewerRating": "none",
            "likeCount": 0,
            "publishedAt": _iso(at),
            "updatedAt": _iso(at),
        }
        if parent:
            snippet["parentId"] = parent
        prefix = "Ugz" if not parent else "Ugz"
        cid = f"{prefix}{number:0>20}AaABAg" if not parent else f"{parent}.9{number:0>10}"
        return {"kind": "youtube#comment", "etag": f"etag{number}", "id": cid, "snippet": snippet}

    def comment(
        self, video: str, author: str, text: str, *, thread: dict | None = None, at: datetime | None = None
    ):
        at = at or START + timedelta(minutes=next(self._clock))
        if thread is None:
            top = self._comment(video, author, text, at)
            thread = {
                "kind": "youtube#commentThread",
                "etag": "t" + top["etag"],
                "id": top["id"],
                "snippet": {
                    "channelId": self.videos.get(video, BRAND_CHANNEL),
                    "videoId": video,
                    "topLevelComment": top,
                    "canReply": True,
                    "totalReplyCount": 0,
                    "isPublic": True,
                },
            }
            self.threads.insert(0, thread)
            return thread
        reply = self._comment(video, author, text, at, parent=thread["id"])
        thread.setdefault("replies", {"comments": []})["comments"].insert(0, reply)
        thread["snippet"]["totalReplyCount"] += 1
        self.threads.remove(thread)
        self.threads.insert(0, thread)  # order=time: the thread with the newest activity first
        return reply

    def edit(self, comment: dict, text: str) -> None:
        comment["snippet"]["textDisplay"] = comment["snippet"]["textOriginal"] = text
        comment["snippet"]["updatedAt"] = _iso(START + timedelta(days=1, minutes=next(self._clock)))

    # ---- API ----

    def _auth(self, request: RecordedRequest, cost: int, *, write: bool = False) -> Response | None:
        key = (request.query.get("key") or [None])[0]
        bearer = request.headers.get("authorization", "")
        if write or not key:
            if bearer != f"Bearer {self.access_token}":
                return Response(401, INVALID_CREDENTIALS)
        elif key != API_KEY:
            return Response(
                400,
                google_error(
                    400, "keyInvalid", "API key not valid. Please pass a valid API key.", "usageLimits"
                ),
            )
        if self.next_responses:
            return self.next_responses.pop(0)
        if self.project_quota is not None and self.units + cost > self.project_quota:
            return Response(403, QUOTA_EXCEEDED)
        self.units += cost
        return None

    def _threads(self, request: RecordedRequest):
        if refused := self._auth(request, COSTS["commentThreads"]):
            return refused
        q = {k: v[0] for k, v in request.query.items()}
        if "videoId" in q:
            if q["videoId"] in self.disabled:
                return 403, google_error(
                    403,
                    "commentsDisabled",
                    "The video identified by the <code>videoId</code> parameter has disabled comments.",
                    "youtube.commentThread",
                )
            if q["videoId"] not in self.videos:
                return 404, google_error(
                    404, "videoNotFound", "The video could not be found.", "youtube.commentThread"
                )
            found = [t for t in self.threads if t["snippet"]["videoId"] == q["videoId"]]
        else:
            channel = q.get("allThreadsRelatedToChannelId")
            found = [t for t in self.threads if t["snippet"]["channelId"] == channel]
        size = self.page_size or int(q.get("maxResults", 20))
        start = int(q.get("pageToken", "0") or 0)
        # A thread carries five of its replies at most; comments.list?parentId gives them all.
        page = [
            {**t, "replies": {"comments": t["replies"]["comments"][:5]}} if "replies" in t else t
            for t in found[start : start + size]
        ]
        body = {
            "kind": "youtube#commentThreadListResponse",
            "pageInfo": {"totalResults": len(page), "resultsPerPage": size},
            "items": page,
        }
        if start + size < len(found):
            body["nextPageToken"] = str(start + size)
        return 200, body

    def _replies(self, request: RecordedRequest):
        if refused := self._auth(request, COSTS["comments"]):
            return refused
        parent = (request.query.get("parentId") or [""])[0]
        thread = next((t for t in self.threads if t["id"] == parent), None)
        if thread is None:
            return 404, google_error(
                404, "commentNotFound", "The comment could not be found.", "youtube.comment"
            )
        replies = (thread.get("replies") or {}).get("comments") or []
        size = self.page_size or int((request.query.get("maxResults") or ["20"])[0])
        start = int((request.query.get("pageToken") or ["0"])[0] or 0)
        body = {"kind": "youtube#commentListResponse", "items": replies[start : start + size]}
        if start + size < len(replies):
            body["nextPageToken"] = str(start + size)
        return 200, body

    def _channels(self, request: RecordedRequest):
        if refused := self._auth(request, COSTS["channels"]):
            return refused
        wanted = (request.query.get("id") or [""])[0]
        items = (
            [{"kind": "youtube#channel", "id": BRAND_CHANNEL, "snippet": {"title": "Nimbus"}}]
            if wanted == BRAND_CHANNEL
            else []
        )
        return 200, {
            "kind": "youtube#channelListResponse",
            "pageInfo": {"totalResults": len(items)},
            "items": items,
        }

    def _search(self, request: RecordedRequest):
        if refused := self._auth(request, COSTS["search"]):
            return refused
        return 200, {"kind": "youtube#searchListResponse", "regionCode": "US", "items": self.search_results}

    def _insert(self, request: RecordedRequest):
        if refused := self._auth(request, COSTS["comments.insert"], write=True):
            return refused
        body = request.json()
        parent = body["snippet"]["parentId"]
        thread = next((t for t in self.threads if t["id"] == parent), None)
        if thread is None:
            return 404, google_error(
                404,
                "parentCommentNotFound",
                "The specified parent comment could not be found.",
                "youtube.comment",
            )
        self.inserted.append(body)
        return 200, self.comment(
            thread["snippet"]["videoId"], "Brand", body["snippet"]["textOriginal"], thread=thread
        )

    def _token(self, request: RecordedRequest):
        form = {k: v[0] for k, v in request.form().items()}
        if form.get("grant_type") != "refresh_token" or form.get("refresh_token") != self.refresh_token:
            return 400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
        if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
            return 401, {"error": "invalid_client", "error_description": "Unauthorized"}
        self.refreshes += 1
        self.access_token = f"ya29.refreshed-{self.refreshes}"
        return 200, {
            "access_token": self.access_token,
            "expires_in": 3599,
            "scope": "https://www.googleapis.com/auth/youtube.force-ssl",
            "token_type": "Bearer",
        }


def search_result(
    video: str, title: str, description: str = "", channel: str = "UCmentioner0000000000000"
) -> dict:
    """A search.list item as documented (youtube#searchResult)."""
    return {
        "kind": "youtube#searchResult",
        "etag": f"e{video}",
        "id": {"kind": "youtube#video", "videoId": video},
        "snippet": {
            "publishedAt": "2026-12-01T10:00:00Z",
            "channelId": channel,
            "title": title,
            "description": description,
            "thumbnails": {
                "default": {"url": f"https://i.ytimg.com/vi/{video}/default.jpg", "width": 120, "height": 90}
            },
            "channelTitle": "Gadget Reviews",
            "liveBroadcastContent": "none",
            "publishTime": "2026-12-01T10:00:00Z",
        },
    }
