"""Google Play reviews through the Google Play Developer API (androidpublisher v3): reviews of one app,
replies.

Channel configuration
    credentials  {"client_id", "client_secret", "refresh_token": OAuth of an account with the app's
                  "Reply to reviews" permission (scope androidpublisher)}
    settings     {"package_name": "com.example.app",
                  "api_base": "https://androidpublisher.googleapis.com", "token_base": …}
    cursor       {"since": the newest lastModified seen}

GET  /androidpublisher/v3/applications/{package}/reviews?maxResults=100&token=…
     → {"reviews": [{"reviewId", "authorName", "comments": [{"userComment": {"text", "lastModified":
       {"seconds", "nanos"}, "starRating", "reviewerLanguage", "device", "androidOsVersion",
       "appVersionCode", "appVersionName", "thumbsUpCount", "thumbsDownCount", "deviceMetadata": {…}}},
       {"developerComment": {"text", "lastModified"}}]}], "tokenPagination": {"nextPageToken"}}
POST /androidpublisher/v3/applications/{package}/reviews/{reviewId}:reply  {"replyText"}
     → {"result": {"replyText", "lastEdited"}} (replaces an earlier reply; about 350 characters at most)

The API lists only the reviews of the last week that have a text, newest changed first; Play gives no
reviewer id, so each review's author is a profile of its own (reviews.stranger).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import quote

from ..base import PayloadRejected
from ..kinds import ChannelKind
from ..normalized import clean_text
from ..reviews import (
    GoogleReviewConnector,
    Reply,
    Review,
    ReviewApi,
    stranger,
)
from ..setup import Setting, api_base

_PACKAGE = re.compile(r"[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)+")
_REVIEW_ID = re.compile(r"[A-Za-z0-9_:.\-]{1,200}")
_DEVICE_FIELDS = ("device", "androidOsVersion", "appVersionCode", "appVersionName", "thumbsUpCount")


def play_time(value, field: str) -> datetime:
    """A protobuf Timestamp as JSON: {"seconds": "1453978803", "nanos": 796000000}."""
    if not isinstance(value, dict):
        raise PayloadRejected(f"'{field}' is a Timestamp object {{seconds, nanos}}")
    try:
        seconds = int(value.get("seconds")) + int(value.get("nanos") or 0) / 1e9
        return datetime.fromtimestamp(seconds, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise PayloadRejected(f"'{field}' is not a valid Timestamp: {value!r}"[:200]) from None


def _comments(document: dict) -> tuple[dict, dict | None]:
    user, developer = None, None
    for comment in document.get("comments") or []:
        if isinstance(comment, dict):
            user = user or comment.get("userComment")
            developer = developer or comment.get("developerComment")
    if not isinstance(user, dict):
        raise PayloadRejected("a Google Play review holds comments[].userComment")
    return user, developer if isinstance(developer, dict) else None


class GooglePlayConnector(GoogleReviewConnector):
    kind = ChannelKind.GOOGLE_PLAY
    platform = "Google Play"
    default_api_base = "https://androidpublisher.googleapis.com"
    sweeps = False  # Play lists the last week's reviews only: one missing was not deleted
    limits = {"max_length": 350, "length_unit": "characters", "reaches": "conversation"}
    setup_fields = (
        Setting("client_id", "OAuth client id", credential=True, required=True),
        Setting("client_secret", "OAuth client secret", secret=True, required=True),
        Setting(
            "refresh_token",
            "Refresh token",
            secret=True,
            required=True,
            help="Of an account allowed to reply to the app's reviews (androidpublisher scope).",
        ),
        Setting("package_name", "Package name", required=True, help="The app's id, e.g. com.example.app."),
        api_base("api_base", "https://androidpublisher.googleapis.com"),
        api_base("token_base", "https://oauth2.googleapis.com", "OAuth token"),
    )

    def _package(self, channel) -> str:
        package = str((channel.settings or {}).get("package_name") or "").strip()
        if not _PACKAGE.fullmatch(package):
            raise PayloadRejected(f"{package!r} is not an Android package name (com.example.app)")
        return package

    def pages(self, api: ReviewApi, channel) -> Iterator[list[dict]]:
        package = self._package(channel)
        token = ""
        while True:
            params = {"maxResults": 100}
            if token:
                params["token"] = token
            data = api.request(
                "GET",
                f"/androidpublisher/v3/applications/{package}/reviews",
                params=params,
                what="the reviews",
            )
            reviews = data.get("reviews") or []
            if not isinstance(reviews, list):
                raise PayloadRejected("Google Play answered the reviews with 'reviews' that is not a list")
            yield [
                {**review, "packageName": package} if isinstance(review, dict) else review
                for review in reviews
            ]
            token = (data.get("tokenPagination") or {}).get("nextPageToken")
            if not token or not isinstance(token, str):
                return

    def review_id(self, document: dict) -> str:
        return str(document["reviewId"])

    def sort_time(self, document: dict):
        user, developer = _comments(document)
        times = [play_time(user.get("lastModified"), "userComment.lastModified")]
        if developer and developer.get("lastModified"):
            times.append(play_time(developer["lastModified"], "developerComment.lastModified"))
        return max(times)

    def read(self, channel, document: dict) -> Review:
        review_id = document.get("reviewId")
        if not isinstance(review_id, str) or not _REVIEW_ID.fullmatch(review_id):
            raise PayloadRejected("a Google Play review has a 'reviewId'")
        user, developer = _comments(document)
        stars = user.get("starRating")
        if not isinstance(stars, int) or not 1 <= stars <= 5:
            raise PayloadRejected(f"a Google Play review's starRating is 1 to 5, not {stars!r}")
        modified = play_time(user.get("lastModified"), "userComment.lastModified")
        text = clean_text(user.get("text"), "userComment.text").strip()
        details = {key: user[key] for key in _DEVICE_FIELDS if user.get(key) not in (None, "")}
        if isinstance(user.get("deviceMetadata"), dict):
            details["device_metadata"] = user["deviceMetadata"]
        details["package_name"] = document.get("packageName") or ""
        return Review(
            id=review_id,
            rating=stars,
            # Play gives the review's last change only: it stands for when it was written too.
            created_at=modified,
            updated_at=modified,
            text=text,
            language=str(user.get("reviewerLanguage") or "")[:16],
            author=stranger(review_id, document.get("authorName") or "A Google Play user"),
            details=details,
            reply=Reply(
                text=clean_text(developer.get("text"), "developerComment.text"),
                at=play_time(developer.get("lastModified"), "developerComment.lastModified"),
            )
            if developer and developer.get("text")
            else None,
        )

    def reply(self, api: ReviewApi, channel, review_id: str, text: str) -> None:
        if not _REVIEW_ID.fullmatch(review_id):
            raise PayloadRejected("this conversation's review is not a Google Play review")
        data = api.request(
            "POST",
            # Play's review ids hold a colon ("gp:AOqp…"): escaped, as Google's clients expand the path.
            f"/androidpublisher/v3/applications/{self._package(channel)}/reviews/{quote(review_id, safe='')}"
            ":reply",
            json={"replyText": text},
            what="the reply",
        )
        if not isinstance(data.get("result"), dict):
            raise PayloadRejected("Google Play accepted the reply but returned no result")
