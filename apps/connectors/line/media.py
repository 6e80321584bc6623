"""What the connector asks LINE about a message it parses: the sender's profile and the content they sent.

Both are read while the payload is parsed, because LINE keeps neither in the webhook: a profile is
`GET /v2/bot/profile/{userId}` (or the group or room member's), the content of an image, video, audio
message or file LINE hosts is `GET https://api-data.line.me/v2/bot/message/{messageId}/content` and is kept
by LINE for a limited time only. Neither may fail the payload: a profile LINE refuses (a user who has not
added the account as a friend: 404) leaves the author nameless, content that cannot be fetched is recorded
with the reason on the media entry; the message is stored all the same.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time

import httpx

from ..base import InboundMessage, PayloadRejected, TransientError
from .api import line_json, line_request

PROFILE_TTL_SECONDS = 3600
# Parsing holds the payload's row: a slow LINE must not hold it long.
FETCH_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
MAX_CONTENT_BYTES = 20 * 1024 * 1024
# Small images are kept with the message (a data: URL the thread shows); larger content keeps its size
# and digest only.
MAX_KEPT_IMAGE_BYTES = 256 * 1024

_profiles: dict[tuple, tuple[float, dict]] = {}
_lock = threading.Lock()


def _profile_path(source_type: str, chat: str, user: str) -> str:
    if source_type == "group":
        return f"/v2/bot/group/{chat}/member/{user}"
    if source_type == "room":
        return f"/v2/bot/room/{chat}/member/{user}"
    return f"/v2/bot/profile/{user}"


def profile(channel, source_type: str, chat: str, user: str) -> dict:
    """The user's profile (displayName, pictureUrl…), cached an hour per process; {} when LINE refuses."""
    path = _profile_path(source_type, chat, user)
    key = (channel.pk, path)
    with _lock:
        cached = _profiles.get(key)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    try:
        found = line_json(channel, "GET", path, timeout=FETCH_TIMEOUT)
    except (PayloadRejected, TransientError):
        found = {}
    with _lock:
        _profiles[key] = (time.monotonic() + PROFILE_TTL_SECONDS, found)
    return found


def forget_profiles() -> None:
    with _lock:
        _profiles.clear()


def with_profile(channel, message: InboundMessage) -> None:
    author = message.author
    if author.display_name == "LINE group member" or not author.external_id.startswith("U"):
        return
    found = profile(
        channel, message.metadata.get("source_type", "user"), message.thread_key, author.external_id
    )
    author.display_name = str(found.get("displayName") or "")[:255]
    if found.get("pictureUrl"):
        author.avatar_url = str(found["pictureUrl"])
        author.__post_init__()  # the avatar goes through the same URL check as every author's
    if found.get("language"):
        message.metadata["language"] = str(found["language"])[:16]


def fetch_content(channel, entry: dict) -> None:
    """Fetch LINE-hosted content into the media entry (content type, size, SHA-256; small images kept as a
    data: URL), or record why it was not."""
    if entry.get("provider") != "line":
        return
    try:
        response = line_request(
            channel,
            "GET",
            f"/v2/bot/message/{entry['message_id']}/content",
            data_api=True,
            timeout=FETCH_TIMEOUT,
        )
    except (PayloadRejected, TransientError) as error:
        entry["content_error"] = error.reason[:300]
        return
    if response.status_code == 202:
        # A video or audio message LINE is still preparing; its content is not fetched again.
        entry["content_error"] = "LINE was still preparing the content (HTTP 202)"
        return
    data = response.content
    if len(data) > MAX_CONTENT_BYTES:
        entry["content_error"] = f"the content is larger than {MAX_CONTENT_BYTES // (1024 * 1024)} MiB"
        return
    content_type = response.headers.get("content-type", "application/octet-stream").split(";")[0].strip()
    entry.update(content_type=content_type, size=len(data), sha256=hashlib.sha256(data).hexdigest())
    if (
        entry.get("type") == "image"
        and content_type.startswith("image/")
        and len(data) <= MAX_KEPT_IMAGE_BYTES
    ):
        entry["data_url"] = f"data:{content_type};base64,{base64.b64encode(data).decode()}"
