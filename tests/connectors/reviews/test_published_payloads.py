"""The platforms' documented answers (data/, sources in data/SOURCES.md) polled from the fakes through the
real entry point: each review stored with its text, author, time, stars and thread; each brand reply stored
as the brand's, delivered."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from apps.conversations.models import Message
from apps.ingestion.models import RawPayload
from apps.ingestion.polling import channel_poll
from tests.connectors.reviews.conftest import APP_STORE, GOOGLE_BUSINESS, GOOGLE_PLAY

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"


def _load(name: str):
    return json.loads((DATA / name).read_text())


def _serve(platform, fake) -> None:
    if platform is GOOGLE_BUSINESS:
        review = _load("google_business_review.json")
        fake.location = review["name"].split("/reviews/")[0]
        fake.reviews.append(review)
    elif platform is GOOGLE_PLAY:
        fake.reviews += _load("google_play_reviews_list.json")["reviews"]
    elif platform is APP_STORE:
        answer = _load("app_store_customer_reviews.json")
        fake.reviews += answer["data"]
        fake.responses[answer["data"][0]["id"]] = answer["included"][0]
    else:
        fake.reviews.append(_load("trustpilot_private_review.json"))
        fake.business_unit_id = "46d6a890000064000500e0c3"


EXPECTED = {
    "google_business": [
        ("Sara Smith", "Love this place!", 5, datetime(2017, 1, 20, 3, 23, 38, 367000, UTC)),
    ],
    "google_play": [
        ("Jane Bloggs", "This is the best app ever!", 5, datetime(2016, 1, 6, 21, 12, 3, 913000, UTC)),
        ("John Doe", "I love using this app!", 5, datetime(2016, 1, 6, 21, 12, 3, 913000, UTC)),
    ],
    "app_store": [
        (
            "AppFan2019",
            "Since the last update the app crashes every other launch on my iPhone.",
            3,
            datetime(2024, 3, 12, 15, 41, 7, tzinfo=UTC),
        ),
    ],
    "trustpilot": [
        (
            "John Doe",
            "Fast delivery and friendly support. The parcel arrived a day late, hence four stars.",
            4,
            datetime(2013, 9, 7, 13, 37, tzinfo=UTC),
        ),
    ],
}
REPLIES = {
    "google_business": ["Thank you for visiting our business!"],
    "google_play": ["That's great to hear!"],
    "app_store": ["Thanks for the report! Version 4.2.2 fixes the crash."],
    "trustpilot": ["Thank you for your review, John!"],
}


def test_documented_answers_are_stored_with_text_author_time_stars_and_thread(
    platform, fake, channel, process_payloads
):
    _serve(platform, fake)
    channel.settings = {**channel.settings, **platform.connect(fake)["settings"]}
    channel.save()

    assert channel_poll(channel_id=channel.pk) == len(EXPECTED[platform.kind])
    process_payloads(channel)
    assert set(RawPayload.objects.filter(channel=channel).values_list("status", flat=True)) == {
        RawPayload.Status.PROCESSED
    }
    inbound = Message.objects.filter(channel=channel, direction=Message.Direction.INBOUND).order_by("text")
    found = [
        (m.author_identity.display_name, m.text, m.metadata["rating"]["value"], m.sent_at) for m in inbound
    ]
    assert sorted(found, key=lambda f: f[1]) == sorted(EXPECTED[platform.kind], key=lambda f: f[1])
    for message in inbound:
        assert message.conversation.external_thread_id == message.external_id
    outbound = Message.objects.filter(channel=channel, direction=Message.Direction.OUTBOUND)
    assert [m.text for m in outbound] == REPLIES[platform.kind]
    for reply in outbound:
        assert reply.delivery_status == Message.Delivery.DELIVERED
        assert reply.external_id == f"reply:{reply.conversation.external_thread_id}"


@pytest.mark.parametrize("platform", [GOOGLE_PLAY], ids=["google_play"], indirect=True)
def test_play_keeps_the_reviewers_device_and_app_version(platform, fake, channel, process_payloads):
    _serve(platform, fake)
    channel_poll(channel_id=channel.pk)
    process_payloads(channel)
    details = Message.objects.get(channel=channel, external_id="12345678").metadata["review"]
    assert details["device"] == "trltecan" and details["androidOsVersion"] == 21
    assert details["appVersionName"] == "1.2.3" and details["thumbsUpCount"] == 10
    assert details["device_metadata"]["manufacturer"] == "Sony"
    assert Message.objects.get(external_id="12345678").language == "en"
