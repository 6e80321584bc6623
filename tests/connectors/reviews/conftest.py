"""The four review platforms side by side: `platform` is one of them (a test parametrised over
`PLATFORMS` runs on each), `fake` its fake started for the test, `channel` a channel of the brand pointed
at the fake. `Platform` knows how to make a review on its fake, edit it, and read its reply."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from apps.connectors import reviews
from apps.connectors.kinds import ChannelKind
from tests.factories import BrandFactory, ChannelFactory
from tests.fakes.reviews import FakeAppStore, FakeGoogleBusiness, FakeGooglePlay, FakeTrustpilot


@dataclass
class Platform:
    kind: ChannelKind
    fake_class: type
    connect: Callable  # fake → ChannelFactory fields
    add: Callable  # (fake, author, stars, text) → the platform's review object
    review_id: Callable  # review object → the external id of its message
    edit: Callable | None  # (fake, review, stars, text) → None; None where the platform has no edits
    reply_text: Callable  # (fake, review) → the reply the platform shows, or None


def _google(fake, extra):
    return {
        "credentials": {
            "client_id": fake.client_id,
            "client_secret": fake.client_secret,
            "refresh_token": fake.refresh_token,
        },
        "settings": {"api_base": fake.url, "token_base": fake.url, **extra},
    }


def _play_edit(fake, review, stars, text):
    comment = review["comments"][0]["userComment"]
    comment.update(starRating=stars, text=text, lastModified=fake._stamp(fake.now()))


def _play_reply(fake, review):
    return next((c["developerComment"]["text"] for c in review["comments"] if "developerComment" in c), None)


def _trustpilot_edit(fake, review, stars, text):
    review.update(stars=stars, text=text, updatedAt=fake.now().isoformat().replace("+00:00", "Z"))


GOOGLE_BUSINESS = Platform(
    ChannelKind.GOOGLE_BUSINESS,
    FakeGoogleBusiness,
    lambda fake: _google(fake, {"location": fake.location}),
    lambda fake, author, stars, text: fake.review(author, stars, text),
    lambda review: review["name"],
    lambda fake, review, stars, text: fake.edit(review, stars=stars, comment=text),
    lambda fake, review: (review.get("reviewReply") or {}).get("comment"),
)
GOOGLE_PLAY = Platform(
    ChannelKind.GOOGLE_PLAY,
    FakeGooglePlay,
    lambda fake: _google(fake, {"package_name": fake.package}),
    lambda fake, author, stars, text: fake.review(author, stars, text),
    lambda review: review["reviewId"],
    _play_edit,
    _play_reply,
)
APP_STORE = Platform(
    ChannelKind.APP_STORE,
    FakeAppStore,
    lambda fake: {
        "credentials": {"issuer_id": fake.issuer_id, "key_id": fake.key_id, "private_key": fake.private_key},
        "settings": {"api_base": fake.url, "app_id": fake.app_id},
    },
    lambda fake, author, stars, text: fake.review(author, stars, "About the app", text),
    lambda review: review["id"],
    lambda fake, review, stars, text: review["attributes"].update(rating=stars, body=text),
    lambda fake, review: (fake.responses.get(review["id"]) or {}).get("attributes", {}).get("responseBody"),
)
TRUSTPILOT = Platform(
    ChannelKind.TRUSTPILOT,
    FakeTrustpilot,
    lambda fake: {
        "credentials": {
            "api_key": fake.api_key,
            "api_secret": fake.api_secret,
            "username": fake.username,
            "password": fake.password,
        },
        "settings": {
            "api_base": fake.url,
            "business_unit_id": fake.business_unit_id,
            "business_user_id": fake.business_user_id,
        },
    },
    lambda fake, author, stars, text: fake.review(author, stars, "My experience", text),
    lambda review: review["id"],
    _trustpilot_edit,
    lambda fake, review: (review.get("companyReply") or {}).get("text"),
)
PLATFORMS = [GOOGLE_BUSINESS, GOOGLE_PLAY, APP_STORE, TRUSTPILOT]


@pytest.fixture(params=PLATFORMS, ids=[p.kind.value for p in PLATFORMS])
def platform(request) -> Platform:
    return request.param


@pytest.fixture
def nimbus(org_a):
    return BrandFactory(organization=org_a, name="Nimbus Mobile", keywords=["Nimbus"])


@pytest.fixture
def fake(platform):
    reviews._tokens.clear()  # what one fake issued means nothing to the next
    with platform.fake_class() as started:
        yield started
    reviews._tokens.clear()


@pytest.fixture
def channel(platform, fake, nimbus):
    return ChannelFactory(
        brand=nimbus, kind=platform.kind, name=f"Nimbus on {platform.kind.label}", **platform.connect(fake)
    )
