"""Twilio's incoming SMS / MMS webhooks: X-Twilio-Signature checked as Twilio documents it, messages stored
with the sender's number in E.164, media kept, and Twilio answered with empty TwiML."""

import pytest

from apps.connectors.kinds import ChannelKind
from apps.connectors.twilio.connector import signature
from apps.conversations.models import Conversation, Message
from apps.customers.models import Identity
from apps.ingestion.models import RawPayload
from tests.factories import IdentityFactory
from tests.fakes.twilio import CUSTOMER_NUMBER, incoming_sms

pytestmark = pytest.mark.django_db


def test_published_signature_vector():
    """twilio-python's own test (tests/unit/test_request_validator.py, github.com/twilio/twilio-python,
    MIT): token "12345", this URL and these parameters sign as RSOYDt4T1cUTdK1PDd93/VVr8B8=."""
    params = [
        ("CallSid", "CA1234567890ABCDE"),
        ("Digits", "1234"),
        ("From", "+14158675309"),
        ("To", "+18005551212"),
        ("Caller", "+14158675309"),
    ]
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert signature("12345", url, params) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    # ... and with the scheme's default port written out, as its validator also accepts.
    assert signature("12345", url.replace(".com", ".com:443"), params) == "kvajT1Ptam85bY51eRf/AJRuM3w="


def test_an_incoming_sms_is_stored_and_twilio_gets_empty_twiml(twilio_channel, post_twilio):
    response = post_twilio(twilio_channel, incoming_sms("SM1a2b3c", "Where is my order?"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml"
    assert response.content == b'<?xml version="1.0" encoding="UTF-8"?><Response/>'

    from apps.ingestion.services import payload_process

    payload_process(payload_id=RawPayload.objects.get(channel=twilio_channel).pk)
    message = Message.objects.get(channel=twilio_channel)
    assert message.text == "Where is my order?" and message.external_id == "SM1a2b3c"
    assert message.conversation.external_thread_id == CUSTOMER_NUMBER
    identity = Identity.objects.get(kind=ChannelKind.SMS_TWILIO)
    assert identity.external_id == CUSTOMER_NUMBER and identity.phone == CUSTOMER_NUMBER
    assert identity.phone_verified


def test_an_mms_keeps_its_media(twilio_channel, ingest_twilio):
    media = [
        ("https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM1/Media/ME1", "image/jpeg"),
        ("https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM1/Media/ME2", "video/mp4"),
    ]
    ingest_twilio(twilio_channel, incoming_sms("MM1", "", media=media))
    ingest_twilio(twilio_channel, incoming_sms("MM2", "The box was broken", media=media[:1]))
    first, second = Message.objects.order_by("pk")
    assert first.text == "[image] [video]"
    assert [item["content_type"] for item in first.metadata["media"]] == ["image/jpeg", "video/mp4"]
    assert first.metadata["media"][0]["url"].endswith("/Media/ME1")
    assert second.text == "The box was broken" and len(second.metadata["media"]) == 1
    assert Conversation.objects.count() == 1


def test_signatures_wrong_or_missing_are_refused_and_kept(twilio_channel, post_twilio):
    params = incoming_sms("SM9", "hello")
    assert post_twilio(twilio_channel, params, token="not-the-token").status_code == 403
    assert post_twilio(twilio_channel, params, unsigned=True).status_code == 401
    # Signed for another URL (a request replayed to another channel).
    assert (
        post_twilio(twilio_channel, params, signature=signature("f0e1", "https://x/", [])).status_code == 403
    )
    refused = RawPayload.objects.filter(channel=twilio_channel, status=RawPayload.Status.REJECTED)
    assert refused.count() == 3 and "X-Twilio-Signature" in refused.first().rejection_reason
    assert not Message.objects.exists()


def test_the_signature_covers_the_configured_public_url(twilio_channel, post_twilio):
    """Behind a proxy, the admin gives the URL as entered in Twilio: that is the one Twilio signs."""
    twilio_channel.settings = {**twilio_channel.settings, "webhook_url": "https://sms.example.com/twilio/in"}
    twilio_channel.save()
    params = incoming_sms("SM10", "hi")
    assert post_twilio(twilio_channel, params).status_code == 403  # signed for CXM_BASE_URL
    good = signature(
        "f0e1d2c3b4a5968778695a4b3c2d1e0f", "https://sms.example.com:443/twilio/in", sorted(params.items())
    )
    assert post_twilio(twilio_channel, params, signature=good).status_code == 200


def test_a_redelivery_is_stored_once(twilio_channel, ingest_twilio):
    ingest_twilio(twilio_channel, incoming_sms("SM11", "hello"))
    ingest_twilio(twilio_channel, incoming_sms("SM11", "hello"))
    assert Message.objects.count() == 1


def test_whatsapp_through_twilio_is_ignored_with_a_reason(twilio_channel, ingest_twilio):
    payload = ingest_twilio(twilio_channel, incoming_sms("SM12", "hola", sender="whatsapp:+14155552671"))
    assert payload.status == RawPayload.Status.IGNORED
    assert "SMS and MMS only" in payload.ignored_reason
    assert not Message.objects.exists()


def test_a_status_of_a_message_cxm_never_sent_is_explained(twilio_channel, ingest_twilio):
    from tests.fakes.twilio import status_callback

    payload = ingest_twilio(twilio_channel, status_callback("SMunknown", "delivered"))
    assert payload.status == RawPayload.Status.IGNORED and payload.ignored_reason


def test_a_payload_from_another_account_is_rejected_with_the_reason(twilio_channel, ingest_twilio):
    params = {**incoming_sms("SM13", "hi"), "AccountSid": "AC" + "f" * 32}
    payload = ingest_twilio(twilio_channel, params)
    assert (
        payload.status == RawPayload.Status.REJECTED and "another Twilio account" in payload.rejection_reason
    )


def test_the_sms_profile_joins_the_same_number_on_whatsapp(twilio_channel, brand_a, ingest_twilio):
    whatsapp = IdentityFactory(
        customer__organization=brand_a.organization,
        kind=ChannelKind.WHATSAPP,
        external_id=CUSTOMER_NUMBER.removeprefix("+"),
        phone=CUSTOMER_NUMBER,
        phone_verified=True,
    )
    ingest_twilio(twilio_channel, incoming_sms("SM14", "Same person, by SMS"))
    sms = Identity.objects.get(kind=ChannelKind.SMS_TWILIO)
    assert sms.customer_id == whatsapp.customer_id
