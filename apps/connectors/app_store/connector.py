"""App Store reviews through the App Store Connect API: the customer reviews of one app, responses.

Channel configuration
    credentials  {"issuer_id", "key_id": of an App Store Connect API key (role Customer Support or more),
                  "private_key": its .p8 file (PEM, EC P-256)}
    settings     {"app_id": "1234567890" (Apple ID of the app), "api_base": "https://api.appstoreconnect.apple.com"}
    cursor       {"since": the newest createdDate seen}

Every request carries a JSON Web Token signed here with the key (ES256; header {alg, kid, typ}, claims
{iss, iat, exp ≤ 20 minutes, aud "appstoreconnect-v1"}), remade before it expires.

GET  /v1/apps/{id}/customerReviews?sort=-createdDate&limit=200&include=response
     → {"data": [{"type": "customerReviews", "id", "attributes": {"rating", "title", "body",
       "reviewerNickname", "createdDate", "territory"}, "relationships": {"response": {"data":
       {"type": "customerReviewResponses", "id"}}}}], "included": [{"type": "customerReviewResponses", "id",
       "attributes": {"responseBody", "lastModifiedDate", "state": "PUBLISHED" | "PENDING_PUBLISH"}}],
       "links": {"self", "next"}}
POST /v1/customerReviewResponses {"data": {"type": "customerReviewResponses", "attributes":
     {"responseBody"}, "relationships": {"review": {"data": {"type": "customerReviews", "id"}}}}}
     → 201 {"data": {… "attributes": {"state": "PENDING_PUBLISH"}}}: the reply is sent; it is delivered
     when a later poll reads it PUBLISHED.
Errors: {"errors": [{"status", "code", "title", "detail"}]}; 429 when the hourly request budget is spent
(header X-Rate-Limit: user-hour-lim:3600;user-hour-rem:0;).
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Iterator

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from ..base import PayloadRejected
from ..kinds import ChannelKind
from ..normalized import clean_text, parse_time
from ..reviews import Reply, Review, ReviewApi, ReviewConnector, cached_token, secret_digest, stranger
from ..setup import LONG_TEXT, Setting, api_base

TOKEN_SECONDS = 20 * 60  # Apple refuses tokens that live longer
_APP_ID = re.compile(r"\d{1,20}")
_REVIEW_ID = re.compile(r"[A-Za-z0-9\-]{1,100}")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def app_store_token(issuer_id: str, key_id: str, private_key: str, now: float | None = None) -> str:
    """A JWT for the App Store Connect API, signed ES256 with the API key (raw r‖s, as JWS wants it)."""
    try:
        key = serialization.load_pem_private_key(private_key.encode(), password=None)
    except (ValueError, TypeError):
        raise PayloadRejected(
            "the App Store private key is not a PEM key (paste the whole .p8 file)"
        ) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise PayloadRejected(
            "the App Store private key must be the EC P-256 key of an App Store Connect API key"
        )
    now = int(now if now is not None else time.time())
    header = {"alg": "ES256", "kid": key_id, "typ": "JWT"}
    claims = {"iss": issuer_id, "iat": now, "exp": now + TOKEN_SECONDS, "aud": "appstoreconnect-v1"}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    return f"{signing_input}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


class AppStoreConnector(ReviewConnector):
    kind = ChannelKind.APP_STORE
    platform = "App Store Connect"
    default_api_base = "https://api.appstoreconnect.apple.com"
    limits = {"max_length": 5970, "length_unit": "characters", "reaches": "conversation"}
    setup_fields = (
        Setting(
            "issuer_id", "Issuer id", credential=True, required=True, help="Users and Access → Integrations."
        ),
        Setting("key_id", "Key id", credential=True, required=True),
        Setting("private_key", "Private key (.p8)", LONG_TEXT, secret=True, required=True),
        Setting("app_id", "App's Apple ID", required=True, help="The number in the app's App Store address."),
        api_base("api_base", "https://api.appstoreconnect.apple.com"),
    )

    def auth_headers(self, channel, http, renew: bool) -> dict[str, str]:
        credentials = channel.credentials or {}
        missing = [k for k in ("issuer_id", "key_id", "private_key") if not credentials.get(k)]
        if missing:
            raise PayloadRejected(f"the App Store channel's credentials lack {', '.join(missing)}")
        issuer, key_id, private_key = (
            credentials["issuer_id"],
            credentials["key_id"],
            credentials["private_key"],
        )
        token = cached_token(
            ("app_store", issuer, key_id, secret_digest(private_key)),
            lambda: (app_store_token(issuer, key_id, private_key), TOKEN_SECONDS),
            renew=renew,
        )
        return {"Authorization": f"Bearer {token}"}

    def error_message(self, data: dict) -> object:
        errors = data.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return errors[0].get("detail") or errors[0].get("title") or errors[0].get("code")
        return None

    def retry_after(self, response) -> float | None:
        told = super().retry_after(response)
        if told:
            return told
        # Apple gives no Retry-After: its budget is per rolling hour ("user-hour-rem:0").
        return 600.0 if "user-hour-rem:0;" in (response.headers.get("x-rate-limit") or "") else None

    def pages(self, api: ReviewApi, channel) -> Iterator[list[dict]]:
        app_id = str((channel.settings or {}).get("app_id") or "").strip()
        if not _APP_ID.fullmatch(app_id):
            raise PayloadRejected(f"{app_id!r} is not an app's Apple ID (a number)")
        url = f"/v1/apps/{app_id}/customerReviews"
        params: dict | None = {"sort": "-createdDate", "limit": 200, "include": "response"}
        while url:
            data = api.request("GET", url, params=params, what="the app's customer reviews")
            reviews = data.get("data")
            if not isinstance(reviews, list):
                raise PayloadRejected("App Store Connect answered the reviews without a 'data' list")
            responses = {
                item.get("id"): item
                for item in data.get("included") or []
                if isinstance(item, dict) and item.get("type") == "customerReviewResponses"
            }
            page = []
            for review in reviews:
                linked = (
                    ((review.get("relationships") or {}).get("response") or {}).get("data")
                    if isinstance(review, dict)
                    else None
                )
                response = responses.get(linked.get("id")) if isinstance(linked, dict) else None
                page.append({"review": review, "response": response})
            yield page
            following = (data.get("links") or {}).get("next")
            # links.next is a whole URL: followed only on the channel's own API host.
            url = following if isinstance(following, str) and following.startswith(api.base + "/") else ""
            params = None

    def review_id(self, document: dict) -> str:
        return str(document["review"]["id"])

    def sort_time(self, document: dict):
        return parse_time(document["review"]["attributes"]["createdDate"], "createdDate")

    def read(self, channel, document: dict) -> Review:
        review = document.get("review")
        if not isinstance(review, dict) or review.get("type") != "customerReviews":
            raise PayloadRejected("an App Store payload holds {'review': a customerReviews resource}")
        review_id, attributes = review.get("id"), review.get("attributes")
        if (
            not isinstance(review_id, str)
            or not _REVIEW_ID.fullmatch(review_id)
            or not isinstance(attributes, dict)
        ):
            raise PayloadRejected("an App Store review has an 'id' and 'attributes'")
        rating = attributes.get("rating")
        if not isinstance(rating, int) or not 1 <= rating <= 5:
            raise PayloadRejected(f"an App Store review's rating is 1 to 5, not {rating!r}")
        response = document.get("response")
        reply = None
        if isinstance(response, dict) and isinstance(response.get("attributes"), dict):
            answer = response["attributes"]
            state = str(answer.get("state") or "")
            if answer.get("responseBody"):
                reply = Reply(
                    text=clean_text(answer["responseBody"], "responseBody"),
                    at=parse_time(answer.get("lastModifiedDate"), "lastModifiedDate"),
                    delivery="delivered" if state == "PUBLISHED" else "sent",
                    platform_status=state or "unknown",
                )
        created = parse_time(attributes.get("createdDate"), "createdDate")
        return Review(
            id=review_id,
            rating=rating,
            title=clean_text(attributes.get("title"), "title", 500),
            text=clean_text(attributes.get("body"), "body"),
            author=stranger(review_id, attributes.get("reviewerNickname") or "An App Store user"),
            created_at=created,
            details={"territory": str(attributes.get("territory") or "")},
            reply=reply,
        )

    def reply(self, api: ReviewApi, channel, review_id: str, text: str) -> None:
        if not _REVIEW_ID.fullmatch(review_id):
            raise PayloadRejected("this conversation's review is not an App Store review")
        data = api.request(
            "POST",
            "/v1/customerReviewResponses",
            json={
                "data": {
                    "type": "customerReviewResponses",
                    "attributes": {"responseBody": text},
                    "relationships": {"review": {"data": {"type": "customerReviews", "id": review_id}}},
                }
            },
            what="the response",
        )
        if not isinstance(data.get("data"), dict):
            raise PayloadRejected("App Store Connect accepted the response but returned no resource")
