"""Trustpilot service reviews through its Business API (private endpoints, OAuth): reviews, replies.

Channel configuration
    credentials  {"api_key", "api_secret": of the Trustpilot application,
                  "username", "password": of a business user of the business unit}
    settings     {"business_unit_id", "business_user_id": the reply's author (authorBusinessUserId),
                  "api_base": "https://api.trustpilot.com"}
    cursor       {"since": the newest createdAt seen}

POST /v1/oauth/oauth-business-users-for-applications/accesstoken  (HTTP basic auth api_key:api_secret;
     form grant_type=password, username, password) → {"access_token", "refresh_token", "expires_in"}
GET  /v1/private/business-units/{id}/reviews?perPage=100&page=N&orderBy=createdat.desc
     → {"reviews": [{"id", "stars", "title", "text", "language", "createdAt", "updatedAt",
       "consumer": {"id", "displayName"}, "companyReply": {"text", "createdAt", "updatedAt"}, …}],
       "links": [{"rel": "next-page", …}]}
POST /v1/private/reviews/{reviewId}/reply {"authorBusinessUserId", "message"} → 201 (replaces a reply)

Trustpilot names each consumer by a stable id: one profile per consumer across reviews.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..base import InboundAuthor, PayloadRejected
from ..http import delay_seconds, json_object, raise_for_status, send
from ..kinds import ChannelKind
from ..normalized import clean_text, parse_time
from ..reviews import Reply, Review, ReviewApi, ReviewConnector, cached_token, secret_digest
from ..setup import Setting, api_base

DEFAULT_API_BASE = "https://api.trustpilot.com"
_ID = re.compile(r"[A-Za-z0-9]{1,64}")
PER_PAGE = 100


class TrustpilotConnector(ReviewConnector):
    kind = ChannelKind.TRUSTPILOT
    platform = "Trustpilot"
    default_api_base = DEFAULT_API_BASE
    setup_fields = (
        Setting("api_key", "API key", credential=True, required=True),
        Setting("api_secret", "API secret", secret=True, required=True),
        Setting("username", "Business user e-mail", credential=True, required=True),
        Setting("password", "Business user password", secret=True, required=True),
        Setting("business_unit_id", "Business unit id", required=True),
        Setting(
            "business_user_id",
            "Business user id",
            help="Who signs the replies (authorBusinessUserId); without it the channel only reads reviews.",
        ),
        api_base("api_base", DEFAULT_API_BASE),
    )

    def auth_headers(self, channel, http, renew: bool) -> dict[str, str]:
        credentials = channel.credentials or {}
        missing = [k for k in ("api_key", "api_secret", "username", "password") if not credentials.get(k)]
        if missing:
            raise PayloadRejected(f"the Trustpilot channel's credentials lack {', '.join(missing)}")
        base = self.api_base(channel)

        def obtain() -> tuple[str, float]:
            response = send(
                http,
                "POST",
                f"{base}/v1/oauth/oauth-business-users-for-applications/accesstoken",
                platform="Trustpilot",
                auth=(credentials["api_key"], credentials["api_secret"]),
                data={
                    "grant_type": "password",
                    "username": credentials["username"],
                    "password": credentials["password"],
                },
            )
            if response.status_code in (400, 401, 403):
                raise PayloadRejected(
                    "Trustpilot refused the channel's API key or business user "
                    f"(HTTP {response.status_code}): update them in the channel's settings"
                )
            raise_for_status(
                response,
                platform="Trustpilot",
                what="an access token request",
                retry_after=delay_seconds(response.headers.get("retry-after")),
            )
            data = json_object(response, platform="Trustpilot", what="an access token request")
            if not data.get("access_token"):
                raise PayloadRejected("Trustpilot gave no access token")
            # Trustpilot writes expires_in as a string of seconds.
            return str(data["access_token"]), float(delay_seconds(data.get("expires_in")) or 3600)

        key = (
            "trustpilot",
            base,
            credentials["api_key"],
            credentials["username"],
            secret_digest(credentials["api_secret"], credentials["password"]),
        )
        return {"Authorization": f"Bearer {cached_token(key, obtain, renew=renew)}"}

    def error_message(self, data: dict) -> object:
        return data.get("message") or data.get("errorMessage") or data.get("error")

    def pages(self, api: ReviewApi, channel) -> Iterator[list[dict]]:
        unit = str((channel.settings or {}).get("business_unit_id") or "").strip()
        if not _ID.fullmatch(unit):
            raise PayloadRejected(f"{unit!r} is not a Trustpilot business unit id")
        page = 1
        while True:
            data = api.request(
                "GET",
                f"/v1/private/business-units/{unit}/reviews",
                params={"perPage": PER_PAGE, "page": page, "orderBy": "createdat.desc"},
                what="the business unit's reviews",
            )
            reviews = data.get("reviews")
            if not isinstance(reviews, list):
                raise PayloadRejected("Trustpilot answered the reviews without a 'reviews' list")
            yield reviews
            links = data.get("links") if isinstance(data.get("links"), list) else []
            if not reviews or not any(
                isinstance(link, dict) and link.get("rel") == "next-page" for link in links
            ):
                return
            page += 1

    def review_id(self, document: dict) -> str:
        return str(document["id"])

    def sort_time(self, document: dict):
        return parse_time(document["createdAt"], "createdAt")

    def read(self, channel, document: dict) -> Review:
        review_id = document.get("id")
        if not isinstance(review_id, str) or not _ID.fullmatch(review_id):
            raise PayloadRejected("a Trustpilot review has an 'id'")
        stars = document.get("stars")
        if not isinstance(stars, int) or not 1 <= stars <= 5:
            raise PayloadRejected(f"a Trustpilot review's stars are 1 to 5, not {stars!r}")
        consumer = document.get("consumer") if isinstance(document.get("consumer"), dict) else {}
        consumer_id = str(consumer.get("id") or "")
        reply = document.get("companyReply")
        return Review(
            id=review_id,
            rating=stars,
            title=clean_text(document.get("title"), "title", 500),
            text=clean_text(document.get("text"), "text"),
            language=str(document.get("language") or "")[:16],
            author=InboundAuthor(
                external_id=consumer_id or f"review:{review_id}",
                display_name=clean_text(consumer.get("displayName"), "consumer.displayName", 255),
                profile_url=f"https://www.trustpilot.com/users/{consumer_id}"
                if _ID.fullmatch(consumer_id)
                else "",
            ),
            created_at=parse_time(document.get("createdAt"), "createdAt"),
            updated_at=parse_time(document["updatedAt"], "updatedAt") if document.get("updatedAt") else None,
            details={
                key: document[key]
                for key in ("status", "isVerified", "referenceId", "source")
                if document.get(key) not in (None, "")
            },
            reply=Reply(
                text=clean_text(reply.get("text"), "companyReply.text"),
                at=parse_time(reply.get("updatedAt") or reply.get("createdAt"), "companyReply.createdAt"),
            )
            if isinstance(reply, dict) and reply.get("text")
            else None,
        )

    def reply(self, api: ReviewApi, channel, review_id: str, text: str) -> None:
        author = str((channel.settings or {}).get("business_user_id") or "").strip()
        if not author:
            raise PayloadRejected("set the channel's business user id: Trustpilot signs each reply with one")
        if not _ID.fullmatch(review_id):
            raise PayloadRejected("this conversation's review is not a Trustpilot review")
        api.request(
            "POST",
            f"/v1/private/reviews/{review_id}/reply",
            json={"authorBusinessUserId": author, "message": text},
            what="the reply",
        )
