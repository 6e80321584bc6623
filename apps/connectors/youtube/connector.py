"""The YouTube connector (Data API v3): comments polled, replies posted as comments.

What a poll reads, each within the channel's daily quota (api.py):
- `commentThreads.list?allThreadsRelatedToChannelId=<the brand's channel>` (the comments on all its videos)
  and `commentThreads.list?videoId=<id>` for each video listed in the settings, newest first
  (`order=time`), page by page (`pageToken`) until the comments already seen; a poll that stops after
  MAX_PAGES keeps the page token and goes on from it next time.
- Optionally (`search_mentions`), the videos that mention the brand: `search.list?q=<keyword>&type=video
  &publishedAfter=<last search>`, at most every `search_interval_minutes`, and only while the day's quota
  leaves room: each search costs 100 units.

One raw payload per comment (its id and update time as the external id): a top-level comment starts a
conversation (its thread), the replies a thread carries join it; a comment edited since (`updatedAt` after
`publishedAt`) is applied as an edit of the stored one. A video found by search is stored as a mention.
The brand's own comments come back as outbound messages.

Replies: `comments.insert` with `snippet.parentId` the thread's top-level comment (OAuth access token).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from ..base import (
    Connector,
    FetchedItem,
    FetchResult,
    InboundAuthor,
    InboundMessage,
    Interpretation,
    MessageUpdate,
    PayloadRejected,
)
from ..kinds import ChannelKind
from ..normalized import clean_text, decode_json, parse_time
from ..setup import FLAG, LINES, NUMBER, TEXT, Setting, api_base
from ..social import search_queries
from .api import (
    COSTS,
    DEFAULT_API_BASE,
    DEFAULT_DAILY_QUOTA,
    DEFAULT_TOKEN_URL,
    Quota,
    QuotaSpent,
    SourceRefused,
    YouTubeApi,
    client,
    daily_quota,
    pacific_day,
    seconds_to_next_pacific_day,
)

MAX_PAGES = 5  # per source and poll: 100 threads a page
MAX_SEARCH_QUERIES = 3
MAX_COMMENT_CHARS = 10_000
DEFAULT_SEARCH_MINUTES = 60


def _dump(entry: dict) -> bytes:
    return json.dumps(entry, sort_keys=True, ensure_ascii=False).encode()


def _comment_items(thread: dict, source: str) -> list[FetchedItem]:
    snippet = thread.get("snippet") if isinstance(thread.get("snippet"), dict) else {}
    top = snippet.get("topLevelComment") if isinstance(snippet.get("topLevelComment"), dict) else None
    replies = (
        (thread.get("replies") or {}).get("comments") if isinstance(thread.get("replies"), dict) else None
    )
    comments = [c for c in [top, *(replies or [])] if isinstance(c, dict)]
    context = {"source": source, "thread_id": thread.get("id"), "video_id": snippet.get("videoId")}
    items = []
    for comment in comments:
        detail = comment.get("snippet") if isinstance(comment.get("snippet"), dict) else {}
        version = detail.get("updatedAt") or detail.get("publishedAt") or ""
        items.append(
            FetchedItem(
                external_id=f"comment:{comment.get('id')}:{version}" if comment.get("id") else None,
                body=_dump({"kind": "cxm#youtubeComment", "comment": comment, **context}),
            )
        )
    return items


def _thread_time(thread: dict) -> str:
    """The latest time in a thread (its top-level comment or a reply, published or edited), ISO 8601."""
    snippet = thread.get("snippet") or {}
    comments = [snippet.get("topLevelComment") or {}, *((thread.get("replies") or {}).get("comments") or [])]
    times = [
        str(c.get("snippet", {}).get(key) or "")
        for c in comments
        if isinstance(c, dict)
        for key in ("publishedAt", "updatedAt")
    ]
    return max(times, default="")


class YouTubeConnector(Connector):
    kind = ChannelKind.YOUTUBE
    polls = True
    poll_interval_seconds = 300
    # A reply is a comment under the thread's top-level comment: 10,000 characters.
    limits = {"max_length": MAX_COMMENT_CHARS, "length_unit": "characters", "reaches": "conversation"}
    setup_fields = (
        Setting(
            "channel_id",
            "YouTube channel id",
            TEXT,
            help="The brand's channel (UC…): comments on all its videos are read.",
        ),
        Setting(
            "video_ids", "Other videos", LINES, help="Video ids (one a line) whose comments are read too."
        ),
        Setting(
            "api_key", "API key", secret=True, help="Google Cloud API key with the YouTube Data API v3 on."
        ),
        Setting(
            "access_token", "OAuth access token", secret=True, help="Needed to reply (youtube.force-ssl)."
        ),
        Setting(
            "refresh_token",
            "OAuth refresh token",
            secret=True,
            help="Renews the access token when it expires.",
        ),
        Setting("client_id", "OAuth client id", credential=True),
        Setting("client_secret", "OAuth client secret", secret=True),
        Setting(
            "daily_quota",
            "Daily quota (units)",
            NUMBER,
            default=DEFAULT_DAILY_QUOTA,
            min_value=1,
            help="Units this channel may spend a day (YouTube gives a project 10,000 by default).",
        ),
        Setting(
            "search_mentions",
            "Find videos that mention the brand",
            FLAG,
            default=False,
            help="search.list with the brand's keywords: 100 units a search.",
        ),
        Setting(
            "search_interval_minutes",
            "Search every (minutes)",
            NUMBER,
            default=DEFAULT_SEARCH_MINUTES,
            min_value=15,
        ),
        Setting("queries", "Search terms", LINES, help="Leave empty for the brand's keywords."),
        api_base("api_base", DEFAULT_API_BASE, "YouTube Data API"),
        api_base("token_url", DEFAULT_TOKEN_URL, "OAuth token endpoint"),
    )

    # ---- set-up -----------------------------------------------------------------------------------------

    def check(self, channel) -> str:
        channel_id = str(channel.settings.get("channel_id") or "")
        videos = [v for v in channel.settings.get("video_ids") or [] if v]
        if not channel_id and not videos:
            raise PayloadRejected("give the brand's YouTube channel id, or videos to read")
        with client() as http:
            api = YouTubeApi(channel, http, None)
            if not channel_id:
                return f"ready to read the comments of {len(videos)} video(s)"
            found = api.call("channels.list", "GET", "/channels", {"part": "snippet", "id": channel_id})
        items = found.get("items") or []
        if not items:
            raise PayloadRejected(f"YouTube knows no channel {channel_id}")
        title = (items[0].get("snippet") or {}).get("title") or channel_id
        return f"connected: reading comments on {title}'s videos (1 quota unit used)"

    def health_details(self, channel) -> list[str]:
        quota = (channel.cursor or {}).get("quota") or {}
        details = []
        if quota.get("day") == pacific_day():
            details.append(
                f"YouTube quota today: {quota.get('used', 0)} of {daily_quota(channel)} units used"
            )
        for source, reason in ((channel.cursor or {}).get("refused") or {}).items():
            details.append(f"{source}: {reason}")
        return details

    # ---- fetch ------------------------------------------------------------------------------------------

    def fetch(self, channel) -> FetchResult:
        cursor = json.loads(json.dumps(channel.cursor or {}))
        quota = Quota(channel, cursor)
        items: list[FetchedItem] = []
        paused = ""
        with client() as http:
            api = YouTubeApi(channel, http, quota)
            try:
                sources = []
                if channel.settings.get("channel_id"):
                    sources.append(
                        ("channel", {"allThreadsRelatedToChannelId": channel.settings["channel_id"]})
                    )
                for video in channel.settings.get("video_ids") or []:
                    if isinstance(video, str) and video.strip():
                        sources.append((f"video:{video.strip()}", {"videoId": video.strip()}))
                for name, params in sources:
                    self._poll_threads(api, cursor, name, params, items)
                if channel.settings.get("search_mentions"):
                    items += self._search(channel, api, cursor)
            except QuotaSpent as spent:
                paused = spent.reason
        return FetchResult(
            items=items,
            cursor=cursor,
            paused=paused,
            resume_after=seconds_to_next_pacific_day() if paused else None,
        )

    def _poll_threads(
        self, api: YouTubeApi, cursor: dict, name: str, params: dict, items: list[FetchedItem]
    ) -> None:
        """Read one source's threads, newest first, into `items` until those seen before; its state in the
        cursor says where the next poll goes on (a page token when this one stopped half-way)."""
        states = cursor.setdefault("threads", {})
        state = dict(states.get(name) or {})
        since = state.get("since") or ""
        newest = state.get("newest") or since
        token = state.get("page_token")
        refused = cursor.setdefault("refused", {})
        try:
            for _ in range(MAX_PAGES):
                query = {
                    "part": "snippet,replies",
                    "maxResults": 100,
                    "order": "time",
                    "textFormat": "plainText",
                    **params,
                }
                if token:
                    query["pageToken"] = token
                try:
                    page = api.call("commentThreads.list", "GET", "/commentThreads", query)
                except SourceRefused as error:
                    refused[name] = error.reason
                    return
                refused.pop(name, None)
                threads = page.get("items")
                if not isinstance(threads, list):
                    raise PayloadRejected("commentThreads.list answered without an 'items' list")
                seen = False
                for thread in threads:
                    if not isinstance(thread, dict):
                        continue
                    latest = _thread_time(thread)
                    if since and latest and latest <= since:
                        seen = True  # newest first: what follows was read by an earlier poll
                        break
                    items += _comment_items(thread, name)
                    self._more_replies(api, thread, name, since, items)
                    newest = max(newest, latest)
                token = page.get("nextPageToken")
                if seen or not token:
                    token = None
                    break
        finally:
            # Also when the quota stops it half-way: the pages read are kept, the next poll goes on.
            states[name] = (
                {"since": since, "newest": newest, "page_token": token} if token else {"since": newest}
            )

    def _more_replies(self, api: YouTubeApi, thread: dict, name: str, since: str, items: list) -> None:
        """A thread carries a few of its replies only (up to five): the others come from
        comments.list?parentId (1 unit a page); those an earlier poll read (not updated since) are left."""
        snippet = thread.get("snippet") or {}
        carried = (thread.get("replies") or {}).get("comments") or []
        if not isinstance(snippet.get("totalReplyCount"), int) or snippet["totalReplyCount"] <= len(carried):
            return
        known = {c.get("id") for c in carried if isinstance(c, dict)}
        token = None
        for _ in range(MAX_PAGES):
            query = {
                "part": "snippet",
                "parentId": thread.get("id"),
                "maxResults": 100,
                "textFormat": "plainText",
            }
            if token:
                query["pageToken"] = token
            page = api.call("comments.list", "GET", "/comments", query)
            replies = [c for c in page.get("items") or [] if isinstance(c, dict) and c.get("id") not in known]
            fresh = [
                c
                for c in replies
                if not since or str((c.get("snippet") or {}).get("updatedAt") or "") > since
            ]
            if fresh:
                items += _comment_items(
                    {
                        **thread,
                        "replies": {"comments": fresh},
                        "snippet": {**snippet, "topLevelComment": None},
                    },
                    name,
                )
            token = page.get("nextPageToken")
            if not token:
                return

    def _search(self, channel, api: YouTubeApi, cursor: dict) -> list[FetchedItem]:
        state = cursor.setdefault("search", {})
        minutes = int(channel.settings.get("search_interval_minutes") or DEFAULT_SEARCH_MINUTES)
        now = datetime.now(UTC)
        last = state.get("last_run")
        if last and parse_time(last) > now - timedelta(minutes=minutes):
            return []
        since = state.get("since") or (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        items = []
        for query in search_queries(channel, MAX_SEARCH_QUERIES):
            if api.quota.left < COSTS["search.list"]:
                state["skipped"] = f"the search for {query!r} waits: less than 100 quota units left today"
                break
            found = api.call(
                "search.list",
                "GET",
                "/search",
                {
                    "part": "snippet",
                    "q": query,
                    "type": "video",
                    "order": "date",
                    "maxResults": 50,
                    "publishedAfter": since,
                },
            )
            for result in found.get("items") or []:
                video = (result.get("id") or {}).get("videoId") if isinstance(result, dict) else None
                if video:
                    items.append(
                        FetchedItem(
                            external_id=f"video:{video}",
                            body=_dump({"kind": "cxm#youtubeMention", "query": query, "result": result}),
                        )
                    )
        else:
            state.pop("skipped", None)
            state["since"] = now.strftime("%Y-%m-%dT%H:%M:%SZ")
            state["last_run"] = now.isoformat()
        return items

    # ---- parse ------------------------------------------------------------------------------------------

    def interpret(self, channel, body: bytes, headers: dict[str, str]) -> Interpretation:
        data = decode_json(body)
        kind = data.get("kind") if isinstance(data, dict) else None
        if kind == "cxm#youtubeComment":
            return self._comment(channel, data)
        if kind == "cxm#youtubeMention":
            return Interpretation(messages=[self._mention(data)])
        raise PayloadRejected("not a YouTube comment or search result polled by CXM")

    def _comment(self, channel, data: dict) -> Interpretation:
        comment = data.get("comment") if isinstance(data.get("comment"), dict) else {}
        snippet = comment.get("snippet") if isinstance(comment.get("snippet"), dict) else {}
        if not comment.get("id") or not snippet:
            raise PayloadRejected("a YouTube comment needs 'id' and 'snippet'")
        author_channel = (
            (snippet.get("authorChannelId") or {}).get("value")
            if isinstance(snippet.get("authorChannelId"), dict)
            else None
        )
        name = clean_text(snippet.get("authorDisplayName"), "authorDisplayName", 255)
        author = InboundAuthor(
            external_id=str(author_channel or name or "unknown"),
            handle=name if name.startswith("@") else "",
            display_name=name,
            profile_url=str(snippet.get("authorChannelUrl") or ""),
            avatar_url=str(snippet.get("authorProfileImageUrl") or ""),
        )
        text = clean_text(snippet.get("textDisplay") or snippet.get("textOriginal"), "textDisplay")
        thread_id = str(data.get("thread_id") or snippet.get("parentId") or comment["id"])
        parent = str(snippet.get("parentId") or "")
        video = str(snippet.get("videoId") or data.get("video_id") or "")
        metadata = {
            "video_id": video,
            "source": data.get("source") or "",
            "like_count": snippet.get("likeCount"),
            "url": f"https://www.youtube.com/watch?v={video}&lc={comment['id']}" if video else "",
        }
        if parent:
            metadata["parent_id"] = parent
        message = InboundMessage(
            external_id=str(comment["id"]),
            thread_key=thread_id,
            text=text or "[comment without text]",
            sent_at=parse_time(snippet.get("publishedAt"), "publishedAt"),
            author=author,
            in_reply_to=parent,
            outbound=bool(author_channel) and author_channel == channel.settings.get("channel_id"),
            metadata=metadata,
        )
        updated = snippet.get("updatedAt")
        if updated and snippet.get("publishedAt") and updated != snippet["publishedAt"]:
            message.metadata["edited"] = True
            return Interpretation(
                updates=[
                    MessageUpdate(
                        target=message.external_id,
                        action=MessageUpdate.EDIT,
                        at=parse_time(updated, "updatedAt"),
                        event_type="comment edited",
                        text=message.text,
                        actor=author.external_id,
                        fallback=message,
                    )
                ]
            )
        return Interpretation(messages=[message])

    def _mention(self, data: dict) -> InboundMessage:
        result = data.get("result") if isinstance(data.get("result"), dict) else {}
        snippet = result.get("snippet") if isinstance(result.get("snippet"), dict) else {}
        video = (result.get("id") or {}).get("videoId") if isinstance(result.get("id"), dict) else None
        if not video or not snippet:
            raise PayloadRejected("a YouTube search result needs 'id.videoId' and 'snippet'")
        title = clean_text(snippet.get("title"), "title", 500)
        description = clean_text(snippet.get("description"), "description")
        return InboundMessage(
            external_id=f"video:{video}",
            thread_key=f"video:{video}",
            text="\n\n".join(part for part in (title, description) if part) or "[video]",
            subject=title,
            sent_at=parse_time(snippet.get("publishedAt"), "publishedAt"),
            author=InboundAuthor(
                external_id=str(snippet.get("channelId") or "unknown"),
                display_name=clean_text(snippet.get("channelTitle"), "channelTitle", 255),
                profile_url=f"https://www.youtube.com/channel/{snippet['channelId']}"
                if snippet.get("channelId")
                else "",
            ),
            metadata={
                "video_id": video,
                "mention": True,
                "query": data.get("query") or "",
                "url": f"https://www.youtube.com/watch?v={video}",
            },
        )

    # ---- send -------------------------------------------------------------------------------------------

    def send(self, channel, message, reply_to: str = "") -> str:
        text = (message.text or "").strip()
        if not text:
            raise PayloadRejected("an empty comment cannot be posted on YouTube")
        if len(text) > MAX_COMMENT_CHARS:
            raise PayloadRejected(f"YouTube comments are limited to {MAX_COMMENT_CHARS} characters")
        conversation = message.conversation
        thread = conversation.external_thread_id if conversation.channel_id == channel.pk else ""
        if not thread:
            raise PayloadRejected("there is no YouTube comment in this conversation to reply to")
        if thread.startswith("video:"):
            raise PayloadRejected(
                "a video found by search is a mention: answer it on YouTube, under the video"
            )
        with client() as http:
            created = YouTubeApi(channel, http, None).call(
                "comments.insert",
                "POST",
                "/comments",
                {"part": "snippet"},
                json={"snippet": {"parentId": thread, "textOriginal": text}},
            )
        if not created.get("id"):
            raise PayloadRejected("YouTube accepted the reply but returned no comment id")
        return str(created["id"])
