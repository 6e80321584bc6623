"""Google Business Profile reviews through the My Business API v4: the reviews of one location, replies.

Channel configuration
    credentials  {"client_id", "client_secret": of the Google Cloud project's OAuth client,
                  "refresh_token": of a manager of the location (scope business.manage)}
    settings     {"location": "accounts/{accountId}/locations/{locationId}",
                  "api_base": "https://mybusiness.googleapis.com", "token_base": "https://oauth2.googleapis.com"}
    cursor       {"since": the newest updateTime seen}

GET  /v4/{location}/reviews?orderBy=updateTime desc&pageSize=50&pageToken=…
     → {"reviews": [Review], "averageRating", "totalReviewCount", "nextPageToken"}
     Review: {"name": "accounts/…/locations/…/reviews/…", "reviewId", "reviewer": {"displayName",
     "profilePhotoUrl", "isAnonymous"}, "starRating": "ONE".."FIVE", "comment", "createTime", "updateTime",
     "reviewReply": {"comment", "updateTime"}}
PUT  /v4/{review name}/reply  {"comment"} → ReviewReply (creates or replaces the reply; 4096 characters)

The review's resource name is its external id, so a reply needs nothing but the conversation's review.
A Google review has no reviewer id: each review's author is a profile of its own (reviews.stranger).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import quote

from ..base import PayloadRejected
from ..kinds import ChannelKind
from ..normalized import clean_text, parse_time
from ..reviews import (
    GoogleReviewConnector,
    Reply,
    Review,
    ReviewApi,
    stranger,
)
from ..setup import Setting, api_base

STARS = {"ONE": 1, "TWO": 2, "THREE": 3, "FOUR": 4, "FIVE": 5}
_LOCATION = re.compile(r"accounts/[^/\s]+/locations/[^/\s]+")
_REVIEW = re.compile(r"accounts/[^/\s]+/locations/[^/\s]+/reviews/[^/\s]+")
# Google appends its translation to a review's comment: "(Translated by Google) … (Original) …".
_TRANSLATED = re.compile(r"^\(Translated by Google\).*?\(Original\)\s*", re.DOTALL)


class GoogleBusinessConnector(GoogleReviewConnector):
    kind = ChannelKind.GOOGLE_BUSINESS
    platform = "Google Business Profile"
    default_api_base = "https://mybusiness.googleapis.com"
    setup_fields = (
        Setting("client_id", "OAuth client id", credential=True, required=True),
        Setting("client_secret", "OAuth client secret", secret=True, required=True),
        Setting(
            "refresh_token",
            "Refresh token",
            secret=True,
            required=True,
            help="Of a manager of the location, with the business.manage scope.",
        ),
        Setting(
            "location",
            "Location",
            required=True,
            help="accounts/{account id}/locations/{location id}, as the API names it.",
        ),
        api_base("api_base", "https://mybusiness.googleapis.com"),
        api_base("token_base", "https://oauth2.googleapis.com", "OAuth token"),
    )

    def pages(self, api: ReviewApi, channel) -> Iterator[list[dict]]:
        location = str((channel.settings or {}).get("location") or "").strip().strip("/")
        if not _LOCATION.fullmatch(location):
            raise PayloadRejected(
                "the channel's location must read accounts/{account id}/locations/{location id}"
            )
        token = ""
        while True:
            params = {"pageSize": 50, "orderBy": "updateTime desc"}
            if token:
                params["pageToken"] = token
            data = api.request("GET", f"/v4/{location}/reviews", params=params, what="the location's reviews")
            reviews = data.get("reviews") or []
            if not isinstance(reviews, list):
                raise PayloadRejected("Google answered the reviews with 'reviews' that is not a list")
            yield reviews
            token = data.get("nextPageToken")
            if not token or not isinstance(token, str):
                return

    def review_id(self, document: dict) -> str:
        return str(document["name"])

    def sort_time(self, document: dict):
        return parse_time(document.get("updateTime") or document["createTime"], "updateTime")

    def read(self, channel, document: dict) -> Review:
        name = document.get("name")
        if not isinstance(name, str) or not _REVIEW.fullmatch(name):
            raise PayloadRejected("a Google review has a 'name' accounts/…/locations/…/reviews/…")
        if document.get("starRating") not in STARS:
            raise PayloadRejected(
                f"a Google review's starRating is ONE to FIVE, not {document.get('starRating')!r}"
            )
        reviewer = document.get("reviewer") if isinstance(document.get("reviewer"), dict) else {}
        anonymous = bool(reviewer.get("isAnonymous"))
        comment = clean_text(document.get("comment"), "comment")
        original = _TRANSLATED.sub("", comment)
        reply = document.get("reviewReply")
        return Review(
            id=name,
            rating=STARS[document["starRating"]],
            text=original,
            author=stranger(
                name,
                "A Google user" if anonymous else reviewer.get("displayName") or "A Google user",
                avatar_url="" if anonymous else str(reviewer.get("profilePhotoUrl") or ""),
            ),
            created_at=parse_time(document.get("createTime"), "createTime"),
            updated_at=parse_time(document.get("updateTime") or document.get("createTime"), "updateTime"),
            details={
                "review_id": document.get("reviewId") or name.rsplit("/", 1)[-1],
                "location": name.rsplit("/reviews/", 1)[0],
                "translated": original != comment,
            },
            reply=Reply(
                text=clean_text(reply.get("comment"), "reviewReply.comment"),
                at=parse_time(reply.get("updateTime"), "reviewReply.updateTime"),
            )
            if isinstance(reply, dict) and reply.get("comment")
            else None,
        )

    def reply(self, api: ReviewApi, channel, review_id: str, text: str) -> None:
        if not _REVIEW.fullmatch(review_id):
            raise PayloadRejected("this conversation's review is not a Google review")
        api.request("PUT", f"/v4/{quote(review_id)}/reply", json={"comment": text}, what="the reply")
