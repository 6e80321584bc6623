"""LINE webhooks through /hooks/<token>/: X-Line-Signature, every event type of LINE's own SDK sample
stored, applied or ignored with its reason, profiles and content read from the (fake) Messaging API."""

import json
from pathlib import Path

import pytest

from apps.conversations.models import Conversation, Message
from apps.customers.models import Identity
from apps.ingestion.models import RawPayload
from tests.fakes.line import PNG, USER_ID, event, sign, text_event, webhook

pytestmark = pytest.mark.django_db

# LINE's official Python SDK test suite's webhook body (data/SOURCES.md).
SDK_SAMPLE = json.loads((Path(__file__).parent / "data" / "line-bot-sdk-python-webhook.json").read_text())


def test_a_signed_text_message_is_stored_with_the_senders_profile(line_channel, line, ingest_line):
    payload = ingest_line(line_channel, webhook(text_event("468789577898262530", "Hello, my order is late")))

    assert payload.status == RawPayload.Status.PROCESSED
    message = Message.objects.get()
    assert (message.external_id, message.text) == ("468789577898262530", "Hello, my order is late")
    assert message.conversation.external_thread_id == USER_ID
    assert message.metadata["reply_token"] == "reply-468789577898262530"
    identity = Identity.objects.get()
    assert (identity.kind, identity.external_id, identity.display_name) == ("line", USER_ID, "Ana Lima")
    assert identity.avatar_url == "https://profile.line-scdn.net/ch/v2/p/ana"
    (profile_call,) = [r for r in line.requests if r.path.startswith("/v2/bot/profile/")]
    assert profile_call.headers["authorization"] == "Bearer line-channel-access-token-0123456789"


@pytest.mark.parametrize(
    "how, status, reason",
    [
        ({"unsigned": True}, 401, "missing X-Line-Signature"),
        ({"secret": "another-channel-secret"}, 403, "does not match"),
        ({"signature": "bm90IGEgc2lnbmF0dXJl"}, 403, "does not match"),
    ],
)
def test_a_request_without_the_right_signature_is_refused_and_kept(
    line_channel, post_line, how, status, reason
):
    response = post_line(line_channel, webhook(text_event("1", "hi")), **how)
    assert response.status_code == status and reason in response.json()["error"]
    kept = RawPayload.objects.get()
    assert kept.status == RawPayload.Status.REJECTED and reason in kept.rejection_reason
    assert not Message.objects.exists()


def test_the_signature_covers_the_exact_bytes(line_channel, post_line):
    body = json.dumps(webhook(text_event("1", "hi"))).encode()
    signature = sign(body)
    reordered = json.dumps(json.loads(body), indent=2).encode()  # same JSON, other bytes
    assert post_line(line_channel, reordered, signature=signature).status_code == 403
    assert post_line(line_channel, body, signature=signature).status_code == 200


def test_a_redelivery_is_stored_once(line_channel, post_line):
    body = webhook(text_event("1", "hi"))
    first, again = post_line(line_channel, body), post_line(line_channel, body)
    assert again.json() == {"received": first.json()["received"], "duplicate": True}


def test_the_consoles_verify_request_is_ignored_with_a_reason(line_channel, ingest_line):
    payload = ingest_line(line_channel, {"destination": "Ub9952f8e5b1d6c9b3e2b1a8e2e9b1a8e", "events": []})
    assert payload.status == RawPayload.Status.IGNORED and "Verify" in payload.ignored_reason


def test_every_event_of_the_sdk_sample_is_stored_applied_or_explained(line_channel, line, ingest_line):
    line.contents["354718705033693861"] = (200, PNG, "image/png")
    payload = ingest_line(line_channel, SDK_SAMPLE)

    assert payload.status == RawPayload.Status.PROCESSED
    ignored = {i["event"]: i["reason"] for i in payload.outcome["ignored"]}
    assert set(ignored) >= {
        "follow",
        "unfollow",
        "join",
        "leave",
        "beacon",
        "accountLink",
        "memberJoined",
        "memberLeft",
        "videoPlayComplete",
        "undefined",
    }
    assert "does not know" in ignored["undefined"] and "blocked" in ignored["unfollow"]
    texts = set(Message.objects.values_list("text", flat=True))
    # The sample reuses the message id 325708: the first event with it is stored, the others are its
    # redeliveries on this channel. The other ids are each a message.
    assert "Hello, world" in texts
    assert "[postback: action=buyItem&itemId=123123&color=red]" in texts
    image = Message.objects.get(external_id="354718705033693861")
    (media,) = image.metadata["media"]
    assert media["type"] == "image" and media["content_type"] == "image/png" and media["size"] == len(PNG)
    assert media["data_url"].startswith("data:image/png;base64,")
    content_calls = [r.path for r in line.requests if r.path.endswith("/content")]
    # The image LINE hosts, and the file (always hosted by LINE; gone from the fake: recorded as such).
    assert content_calls == ["/v2/bot/message/325708/content", "/v2/bot/message/354718705033693861/content"]
    # The sample's unsend names 325708: applied to the message stored from the same delivery.
    assert payload.outcome["applied"] == 1 and Message.objects.get(external_id="325708").deleted_at


@pytest.mark.parametrize(
    "message, text, key",
    [
        (
            {
                "type": "sticker",
                "packageId": "446",
                "stickerId": "1988",
                "stickerResourceType": "STATIC",
                "keywords": ["happy", "smile"],
            },
            "[sticker: happy, smile]",
            "sticker",
        ),
        (
            {"type": "location", "title": "Shop", "address": "Tokyo", "latitude": 35.6, "longitude": 139.7},
            "[location: Shop (35.6, 139.7)]",
            "location",
        ),
        ({"type": "file", "fileName": "invoice.pdf", "fileSize": 2138}, "[file: invoice.pdf]", "media"),
        ({"type": "video", "duration": 60000, "contentProvider": {"type": "line"}}, "[video]", "media"),
    ],
)
def test_message_types_get_a_readable_text_and_their_details(
    line_channel, line, ingest_line, message, text, key
):
    ingest_line(line_channel, webhook(event("message", message={"id": "9001", **message}, reply_token="r")))
    stored = Message.objects.get()
    assert stored.text == text and key in stored.metadata


def test_content_that_cannot_be_fetched_is_recorded_with_the_reason(line_channel, line, ingest_line):
    line.contents["9002"] = (202, b"", "")  # LINE still preparing a video
    image = {"id": "9003", "type": "image", "contentProvider": {"type": "line"}}
    video = {"id": "9002", "type": "video", "contentProvider": {"type": "line"}}
    ingest_line(line_channel, webhook(event("message", message=image), event("message", message=video)))
    errors = {m.external_id: m.metadata["media"][0]["content_error"] for m in Message.objects.all()}
    assert "Not found" in errors["9003"] and "preparing" in errors["9002"]
    assert Message.objects.count() == 2


def test_an_unsend_marks_the_message_deleted_and_keeps_it(line_channel, line, ingest_line):
    ingest_line(line_channel, webhook(text_event("7001", "my card number is 1234")))
    payload = ingest_line(line_channel, webhook(event("unsend", unsend={"messageId": "7001"})))

    assert payload.status == RawPayload.Status.APPLIED and payload.outcome["applied"] == 1
    message = Message.objects.get()
    assert message.deleted_at is not None and message.text


def test_group_messages_thread_by_group_and_profiles_come_from_the_group(line_channel, line, ingest_line):
    group = {"type": "group", "groupId": "Ca56f94637cc4347f90a25382909b24b9", "userId": USER_ID}
    ingest_line(line_channel, webhook(text_event("8001", "hello all", source=group)))
    conversation = Conversation.objects.get()
    assert conversation.external_thread_id == "Ca56f94637cc4347f90a25382909b24b9"
    assert any(r.path == f"/v2/bot/group/{group['groupId']}/member/{USER_ID}" for r in line.requests)
    assert Identity.objects.get().display_name == "Ana Lima"


def test_a_profile_line_refuses_leaves_the_author_nameless_but_stores_the_message(
    line_channel, line, ingest_line
):
    line.profiles.clear()
    payload = ingest_line(line_channel, webhook(text_event("8101", "hi")))
    assert payload.status == RawPayload.Status.PROCESSED
    assert Identity.objects.get().display_name == ""


def test_malformed_bodies_are_rejected_with_a_reason(line_channel, ingest_line):
    assert "malformed JSON" in ingest_line(line_channel, b'{"events": [').rejection_reason
    assert "'events' list" in ingest_line(line_channel, {"destination": "U1"}).rejection_reason
    no_id = webhook(event("message", message={"type": "text", "text": "x"}))
    assert "message.id" in ingest_line(line_channel, no_id).rejection_reason


def test_line_messages_are_to_the_brand_for_listening(line_channel, line, ingest_line, brand_a):
    from apps.listening.models import Mention

    ingest_line(line_channel, webhook(text_event("8201", "where is my order?")))
    (mention,) = Mention.objects.filter(brand=brand_a)
    assert mention.level == "to_brand"  # a private chat with the brand
