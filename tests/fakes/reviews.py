"""Fakes of the four review platforms as the review connectors use them, answering as each documents it.

FakeGoogleBusiness   Google's OAuth token endpoint and the My Business API v4
    POST /token                                   grant_type=refresh_token → {"access_token", "expires_in"};
                                                  a revoked refresh token → 400 {"error": "invalid_grant",
                                                  "error_description": "Token has been expired or revoked."}
    GET  /v4/accounts/{a}/locations/{l}/reviews   orderBy=updateTime desc, pageSize, pageToken
    PUT  /v4/accounts/{a}/locations/{l}/reviews/{r}/reply   {"comment"} → ReviewReply
FakeGooglePlay       the same token endpoint and androidpublisher v3
    GET  /androidpublisher/v3/applications/{package}/reviews      maxResults, token → tokenPagination
    POST /androidpublisher/v3/applications/{package}/reviews/{id}:reply  {"replyText"} → {"result"}
FakeAppStore         App Store Connect: every request's JWT verified (ES256 with the key's public half,
                     kid, iss, aud "appstoreconnect-v1", exp ≤ 20 minutes ahead)
    GET  /v1/apps/{id}/customerReviews            sort=-createdDate, limit, include=response; links.next
    POST /v1/customerReviewResponses              → 201, state PENDING_PUBLISH (`publish()` publishes)
FakeTrustpilot       Trustpilot's Business API
    POST /v1/oauth/oauth-business-users-for-applications/accesstoken   basic auth key:secret, password grant
    GET  /v1/private/business-units/{id}/reviews  page, perPage, orderBy=createdat.desc; links next-page
    POST /v1/private/reviews/{id}/reply           {"authorBusinessUserId", "message"} → 201

Google's errors: {"error": {"code", "message", "status"}}; 401 UNAUTHENTICATED for an expired access
token; 429 RESOURCE_EXHAUSTED. Apple's: {"errors": [{"status", "code", "title", "detail"}]}.
`next_responses` answers the next API request (not the token endpoint) instead: rate limits, outages, a
malformed body.
"""

from __future__ import annotations

import base64
import itertools
import json
import secrets
import time
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import unquote

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from tests.fakes.http import FakePlatform, RecordedRequest, Response

STARS = {1: "ONE", 2: "TWO", 3: "THREE", 4: "FOUR", 5: "FIVE"}
CUPERTINO = timezone(timedelta(hours=-7))  # App Store Connect writes its dates with Cupertino's offset


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


class _ReviewFake(FakePlatform):
    """What the four fakes share: a clock, queued answers, bearer tokens."""

    def __init__(self):
        super().__init__()
        self.tokens: set[str] = set()
        self.token_requests = 0
        self._clock = itertools.count(0)
        self._ids = itertools.count(1)
        self.start = datetime.now(UTC) - timedelta(days=2)

    def now(self) -> datetime:
        return self.start + timedelta(minutes=next(self._clock))

    def api_requests(self, method: str | None = None) -> list[RecordedRequest]:
        return [
            r
            for r in self.requests
            if not r.path.endswith(("/token", "/accesstoken")) and r.method == (method or r.method)
        ]

    def expire_tokens(self) -> None:
        """Every access token issued so far stops working (they expire, or the grant was revoked)."""
        self.tokens.clear()

    def _issue(self) -> str:
        token = f"ya29.{secrets.token_urlsafe(24)}"
        self.tokens.add(token)
        self.token_requests += 1
        return token

    def _queued(self) -> Response | None:
        return self.next_responses.pop(0) if self.next_responses else None

    def _bearer(self, request: RecordedRequest) -> str:
        return request.headers.get("authorization", "").removeprefix("Bearer ")


class _FakeGoogle(_ReviewFake):
    def __init__(self):
        super().__init__()
        self.client_id = "407408718192.apps.googleusercontent.com"
        self.client_secret = "GOCSPX-" + secrets.token_urlsafe(12)
        self.refresh_token = "1//0g" + secrets.token_urlsafe(30)
        self.revoked = False
        self.server.route("POST", r"/token", self._token)

    def _token(self, request: RecordedRequest):
        form = {k: v[0] for k, v in request.form().items()}
        if form.get("grant_type") != "refresh_token" or form.get("client_id") != self.client_id:
            return 401, {"error": "invalid_client", "error_description": "The OAuth client was not found."}
        if self.revoked or form.get("refresh_token") != self.refresh_token:
            return 400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
        return 200, {
            "access_token": self._issue(),
            "expires_in": 3599,
            "scope": "https://www.googleapis.com/auth/business.manage",
            "token_type": "Bearer",
        }

    def _refusal(self, request: RecordedRequest) -> Response | None:
        if self._bearer(request) not in self.tokens:
            return Response(
                401,
                {
                    "error": {
                        "code": 401,
                        "message": "Request had invalid authentication credentials. Expected OAuth 2 access "
                        "token, login cookie or other valid authentication credential.",
                        "status": "UNAUTHENTICATED",
                    }
                },
            )
        return self._queued()

    @staticmethod
    def rate_limited(retry_after: int = 30) -> Response:
        return Response(
            429,
            {
                "error": {
                    "code": 429,
                    "message": "Quota exceeded for quota metric 'Requests'.",
                    "status": "RESOURCE_EXHAUSTED",
                }
            },
            {"Retry-After": str(retry_after)},
        )


class FakeGoogleBusiness(_FakeGoogle):
    def __init__(self, location: str = "accounts/108532476952390543186/locations/4872951230481552174"):
        super().__init__()
        self.location = location
        self.reviews: list[dict] = []
        self.page_size_cap = 50
        self.server.route("GET", r"/v4/(?P<location>accounts/[^/]+/locations/[^/]+)/reviews", self._list)
        self.server.route(
            "PUT", r"/v4/(?P<review>accounts/[^/]+/locations/[^/]+/reviews/[^/]+)/reply", self._reply
        )

    def review(self, name: str, stars: int, comment: str = "", *, anonymous: bool = False) -> dict:
        review_id = f"AIe9_B{secrets.token_urlsafe(20)}"
        at = _iso(self.now())
        review = {
            "name": f"{self.location}/reviews/{review_id}",
            "reviewId": review_id,
            "reviewer": {"displayName": "A Google user", "isAnonymous": True}
            if anonymous
            else {
                "profilePhotoUrl": f"https://lh3.googleusercontent.com/a-/{review_id[:12]}=s120-c-rp-mo-br100",
                "displayName": name,
            },
            "starRating": STARS[stars],
            "createTime": at,
            "updateTime": at,
        }
        if comment:
            review["comment"] = comment
        self.reviews.append(review)
        return review

    def average(self) -> float:
        stars = [n for n, word in STARS.items() for r in self.reviews if r["starRating"] == word]
        return round(sum(stars) / len(stars), 1) if stars else 0

    def edit(self, review: dict, *, stars: int | None = None, comment: str | None = None) -> None:
        if stars is not None:
            review["starRating"] = STARS[stars]
        if comment is not None:
            review["comment"] = comment
        review["updateTime"] = _iso(self.now())

    def _list(self, request: RecordedRequest):
        if refusal := self._refusal(request):
            return refusal
        if request.match["location"] != self.location:
            return 404, {
                "error": {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND"}
            }
        ordered = sorted(self.reviews, key=lambda r: r["updateTime"], reverse=True)
        size = min(int(request.query.get("pageSize", ["50"])[0]), self.page_size_cap)
        start = int(request.query.get("pageToken", ["0"])[0])
        body = {
            "reviews": [json.loads(json.dumps(r)) for r in ordered[start : start + size]],
            "averageRating": self.average(),
            "totalReviewCount": len(ordered),
        }
        if start + size < len(ordered):
            body["nextPageToken"] = str(start + size)
        return 200, body

    def _reply(self, request: RecordedRequest):
        if refusal := self._refusal(request):
            return refusal
        review = next((r for r in self.reviews if r["name"] == request.match["review"]), None)
        if review is None:
            return 404, {
                "error": {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND"}
            }
        comment = (request.json() or {}).get("comment") or ""
        if not comment or len(comment) > 4096:
            return 400, {
                "error": {
                    "code": 400,
                    "message": "Request contains an invalid argument.",
                    "status": "INVALID_ARGUMENT",
                }
            }
        review["reviewReply"] = {"comment": comment, "updateTime": _iso(self.now())}
        return 200, review["reviewReply"]


class FakeGooglePlay(_FakeGoogle):
    def __init__(self, package: str = "com.nimbusmobile.app"):
        super().__init__()
        self.package = package
        self.reviews: list[dict] = []
        self.page_size_cap = 100
        self.server.route("GET", r"/androidpublisher/v3/applications/(?P<package>[^/]+)/reviews", self._list)
        self.server.route(
            "POST",
            r"/androidpublisher/v3/applications/(?P<package>[^/]+)/reviews/(?P<id>[^/]+):reply",
            self._reply,
        )

    @staticmethod
    def _stamp(at: datetime) -> dict:
        return {"seconds": str(int(at.timestamp())), "nanos": at.microsecond * 1000}

    def review(self, author: str, stars: int, text: str, **fields) -> dict:
        review = {
            "reviewId": f"gp:AOqpTO{secrets.token_urlsafe(16)}",
            "authorName": author,
            "comments": [
                {
                    "userComment": {
                        "text": text,
                        "lastModified": self._stamp(self.now()),
                        "starRating": stars,
                        "reviewerLanguage": "en",
                        "device": "a52q",
                        "androidOsVersion": 33,
                        "appVersionCode": 4021,
                        "appVersionName": "4.2.1",
                        "thumbsUpCount": 0,
                        "thumbsDownCount": 0,
                        **fields,
                    }
                }
            ],
        }
        self.reviews.append(review)
        return review

    def _modified(self, review: dict) -> int:
        return max(int(c[next(iter(c))]["lastModified"]["seconds"]) for c in review["comments"])

    def _list(self, request: RecordedRequest):
        if refusal := self._refusal(request):
            return refusal
        if request.match["package"] != self.package:
            return 404, {
                "error": {
                    "code": 404,
                    "message": "Package not found: " + request.match["package"],
                    "status": "NOT_FOUND",
                }
            }
        ordered = sorted(self.reviews, key=self._modified, reverse=True)
        size = min(int(request.query.get("maxResults", ["100"])[0]), self.page_size_cap)
        start = int(request.query.get("token", ["0"])[0])
        body = {
            "reviews": [json.loads(json.dumps(r)) for r in ordered[start : start + size]],
            "pageInfo": {"totalResults": len(ordered), "resultPerPage": size, "startIndex": start},
        }
        if start + size < len(ordered):
            body["tokenPagination"] = {"nextPageToken": str(start + size)}
        return 200, body

    def _reply(self, request: RecordedRequest):
        if refusal := self._refusal(request):
            return refusal
        review_id = unquote(request.match["id"])
        review = next((r for r in self.reviews if r["reviewId"] == review_id), None)
        if review is None:
            return 404, {"error": {"code": 404, "message": "Review not found.", "status": "NOT_FOUND"}}
        text = (request.json() or {}).get("replyText") or ""
        if len(text) > 350:
            return 400, {
                "error": {"code": 400, "message": "Reply text is too long.", "status": "INVALID_ARGUMENT"}
            }
        stamp = self._stamp(self.now())
        review["comments"] = [c for c in review["comments"] if "developerComment" not in c]
        review["comments"].append({"developerComment": {"text": text, "lastModified": stamp}})
        return 200, {"result": {"replyText": text, "lastEdited": stamp}}


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


class FakeAppStore(_ReviewFake):
    def __init__(self, app_id: str = "1459213785"):
        super().__init__()
        self.app_id = app_id
        self.issuer_id = "57246542-96fe-1a63-e053-0824d011072a"
        self.key_id = "2X9R4HXF34"
        key = ec.generate_private_key(ec.SECP256R1())
        self.private_key = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        self.public_key = key.public_key()
        self.reviews: list[dict] = []
        self.responses: dict[str, dict] = {}  # review id → customerReviewResponses resource
        self.page_size_cap = 200
        self.server.route("GET", r"/v1/apps/(?P<app>\d+)/customerReviews", self._list)
        self.server.route("POST", r"/v1/customerReviewResponses", self._respond)

    def review(self, nickname: str, rating: int, title: str, body: str, territory: str = "USA") -> dict:
        review_id = f"00000{next(self._ids):03d}-2b8f-4c1d-9a7e-{secrets.token_hex(6)}"
        review = {
            "type": "customerReviews",
            "id": review_id,
            "attributes": {
                "rating": rating,
                "title": title,
                "body": body,
                "reviewerNickname": nickname,
                "createdDate": self.now().astimezone(CUPERTINO).isoformat(timespec="seconds"),
                "territory": territory,
            },
            "links": {"self": f"{self.url}/v1/customerReviews/{review_id}"},
        }
        self.reviews.append(review)
        return review

    def publish(self, review: dict) -> None:
        self.responses[review["id"]]["attributes"]["state"] = "PUBLISHED"

    def _error(self, status: int, code: str, title: str, detail: str) -> Response:
        return Response(
            status,
            {
                "errors": [
                    {
                        "id": secrets.token_hex(8),
                        "status": str(status),
                        "code": code,
                        "title": title,
                        "detail": detail,
                    }
                ]
            },
        )

    def _refusal(self, request: RecordedRequest) -> Response | None:
        unauthorized = self._error(
            401,
            "NOT_AUTHORIZED",
            "Authentication credentials are missing or invalid.",
            "Provide a properly configured and signed bearer token, and make sure that it has not expired.",
        )
        try:
            head, claims, signature = self._bearer(request).split(".")
            header, payload, raw = json.loads(_unb64(head)), json.loads(_unb64(claims)), _unb64(signature)
            der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
            self.public_key.verify(der, f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
        except (ValueError, InvalidSignature):
            return unauthorized
        now = time.time()
        if (
            header.get("alg") != "ES256"
            or header.get("kid") != self.key_id
            or payload.get("iss") != self.issuer_id
            or payload.get("aud") != "appstoreconnect-v1"
            or not now - 60 <= payload.get("exp", 0) <= now + 20 * 60 + 60
        ):
            return unauthorized
        return self._queued()

    def _list(self, request: RecordedRequest):
        if refusal := self._refusal(request):
            return refusal
        if request.match["app"] != self.app_id:
            return self._error(
                404,
                "NOT_FOUND",
                "The specified resource does not exist",
                f"There is no resource of type 'apps' with id '{request.match['app']}'",
            )
        ordered = sorted(self.reviews, key=lambda r: r["attributes"]["createdDate"], reverse=True)
        size = min(int(request.query.get("limit", ["50"])[0]), self.page_size_cap)
        start = int(request.query.get("cursor", ["0"])[0])
        page = ordered[start : start + size]
        included = "response" in request.query.get("include", [""])[0].split(",")
        data = []
        for review in page:
            item = json.loads(json.dumps(review))
            answer = self.responses.get(review["id"])
            item["relationships"] = {
                "response": {
                    "data": {"type": "customerReviewResponses", "id": answer["id"]} if answer else None
                }
            }
            data.append(item)
        body = {
            "data": data,
            "links": {"self": f"{self.url}{request.path}"},
            "meta": {"paging": {"total": len(ordered), "limit": size}},
        }
        if included:
            body["included"] = [self.responses[r["id"]] for r in page if r["id"] in self.responses]
        if start + size < len(ordered):
            query = f"cursor={start + size}&limit={size}&include=response&sort=-createdDate"
            body["links"]["next"] = f"{self.url}{request.path}?{query}"
        return 200, body

    def _respond(self, request: RecordedRequest):
        if refusal := self._refusal(request):
            return refusal
        data = (request.json() or {}).get("data") or {}
        review_id = (((data.get("relationships") or {}).get("review") or {}).get("data") or {}).get("id")
        if data.get("type") != "customerReviewResponses" or not (data.get("attributes") or {}).get(
            "responseBody"
        ):
            return self._error(
                422,
                "ENTITY_ERROR.ATTRIBUTE.REQUIRED",
                "The provided entity is missing a required attribute",
                "You must provide a value for the attribute 'responseBody' with this request",
            )
        if review_id not in {r["id"] for r in self.reviews}:
            return self._error(
                404,
                "NOT_FOUND",
                "The specified resource does not exist",
                f"There is no resource of type 'customerReviews' with id '{review_id}'",
            )
        resource = {
            "type": "customerReviewResponses",
            "id": secrets.token_hex(8),
            "attributes": {
                "responseBody": data["attributes"]["responseBody"],
                "lastModifiedDate": self.now().astimezone(CUPERTINO).isoformat(timespec="seconds"),
                "state": "PENDING_PUBLISH",
            },
        }
        self.responses[review_id] = resource
        return 201, {
            "data": resource,
            "links": {"self": f"{self.url}/v1/customerReviewResponses/{resource['id']}"},
        }


class FakeTrustpilot(_ReviewFake):
    def __init__(self, business_unit_id: str = "46d6a890000064000500e0c3"):
        super().__init__()
        self.business_unit_id = business_unit_id
        self.api_key, self.api_secret = secrets.token_hex(16), secrets.token_hex(16)
        self.username, self.password = "care@nimbus.example", "correct horse"
        self.business_user_id = "507f191e810c19729de860ea"
        self.reviews: list[dict] = []
        self.per_page_cap = 100
        self.server.route("POST", r"/v1/oauth/oauth-business-users-for-applications/accesstoken", self._token)
        self.server.route("GET", r"/v1/private/business-units/(?P<unit>\w+)/reviews", self._list)
        self.server.route("POST", r"/v1/private/reviews/(?P<id>\w+)/reply", self._reply)

    def review(
        self, consumer: str, stars: int, title: str, text: str, *, consumer_id: str | None = None
    ) -> dict:
        at = _iso(self.now())
        review = {
            "id": secrets.token_hex(12),
            "consumer": {"id": consumer_id or secrets.token_hex(12), "displayName": consumer},
            "businessUnit": {
                "id": self.business_unit_id,
                "identifyingName": "nimbus.example",
                "displayName": "Nimbus Mobile",
            },
            "stars": stars,
            "title": title,
            "text": text,
            "language": "en",
            "createdAt": at,
            "updatedAt": None,
            "status": "active",
            "isVerified": True,
            "referenceId": None,
            "source": "Organic",
            "companyReply": None,
        }
        self.reviews.append(review)
        return review

    def _token(self, request: RecordedRequest):
        expected = base64.b64encode(f"{self.api_key}:{self.api_secret}".encode()).decode()
        form = {k: v[0] for k, v in request.form().items()}
        if request.headers.get("authorization") != f"Basic {expected}":
            return 401, {
                "fault": {"faultstring": "Invalid ApiKey", "detail": {"errorcode": "oauth.v2.InvalidApiKey"}}
            }
        if form.get("grant_type") != "password" or (form.get("username"), form.get("password")) != (
            self.username,
            self.password,
        ):
            return 400, {"ErrorCode": "invalid_grant", "Error": "Invalid username or password"}
        return 200, {
            "access_token": self._issue(),
            "refresh_token": secrets.token_hex(16),
            "expires_in": "359999",
            "token_type": "BearerToken",
        }

    def _refusal(self, request: RecordedRequest) -> Response | None:
        if self._bearer(request) not in self.tokens:
            return Response(401, {"message": "Unauthorized", "details": "Invalid access token"})
        return self._queued()

    def _list(self, request: RecordedRequest):
        if refusal := self._refusal(request):
            return refusal
        if request.match["unit"] != self.business_unit_id:
            return 404, {"message": "Business unit not found"}
        ordered = sorted(self.reviews, key=lambda r: r["createdAt"], reverse=True)
        per_page = min(int(request.query.get("perPage", ["20"])[0]), self.per_page_cap)
        page = int(request.query.get("page", ["1"])[0])
        chunk = ordered[(page - 1) * per_page : page * per_page]
        base = f"{self.url}{request.path}"
        links = [{"href": f"{base}?page={page}&perPage={per_page}", "method": "GET", "rel": "self"}]
        if page * per_page < len(ordered):
            links.append(
                {"href": f"{base}?page={page + 1}&perPage={per_page}", "method": "GET", "rel": "next-page"}
            )
        return 200, {"reviews": [json.loads(json.dumps(r)) for r in chunk], "links": links}

    def _reply(self, request: RecordedRequest):
        if refusal := self._refusal(request):
            return refusal
        review = next((r for r in self.reviews if r["id"] == request.match["id"]), None)
        body = request.json() or {}
        if review is None:
            return 404, {"message": "Review not found"}
        if body.get("authorBusinessUserId") != self.business_user_id or not body.get("message"):
            return 400, {"message": "authorBusinessUserId and message are required"}
        at = _iso(self.now())
        review["companyReply"] = {
            "text": body["message"],
            "authorBusinessUserId": self.business_user_id,
            "createdAt": at,
            "updatedAt": None,
        }
        return 201, b""
