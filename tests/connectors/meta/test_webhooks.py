"""What the three Meta channels share: the subscription handshake, X-Hub-Signature-256, the envelope."""

import pytest

from apps.conversations.models import Message
from apps.ingestion.models import RawPayload
from apps.ingestion.services import payload_process
from tests.fakes.meta import VERIFY_TOKEN, instagram_webhook, messenger_text_event, page_entry, page_webhook

pytestmark = pytest.mark.django_db

KINDS = ["messenger_channel", "instagram_channel", "whatsapp_channel"]


@pytest.mark.parametrize("channel_fixture", KINDS)
def test_subscription_handshake_answers_the_challenge_only_for_our_verify_token(
    channel_fixture, request, client
):
    channel = request.getfixturevalue(channel_fixture)
    url = f"/hooks/{channel.webhook_token}/"
    ok = client.get(
        url, {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
    )
    assert ok.status_code == 200 and ok.content == b"1158201444"
    wrong_token = client.get(
        url, {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"}
    )
    wrong_mode = client.get(
        url, {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"}
    )
    assert wrong_token.status_code == wrong_mode.status_code == 404
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("channel_fixture", KINDS)
def test_signed_delivery_is_accepted(channel_fixture, request, post_webhook):
    channel = request.getfixturevalue(channel_fixture)
    response = post_webhook(channel, {"object": "whatever", "entry": []})
    assert response.status_code == 200
    assert "x-hub-signature-256" in RawPayload.objects.get().headers


@pytest.mark.parametrize(
    "kwargs, status, reason",
    [
        ({"unsigned": True}, 401, "missing X-Hub-Signature-256"),
        ({"app_secret": "another app's secret"}, 403, "does not match"),
        ({"signature": "sha256=" + "0" * 64}, 403, "does not match"),
        ({"signature": "sha1=5d4ca1ce3ea9d17f8e5a27c3e7dfd3a4a8e49b47"}, 403, "does not match"),
    ],
)
def test_unsigned_or_forged_deliveries_are_refused_and_kept(
    messenger_channel, post_webhook, kwargs, status, reason
):
    payload = page_webhook(page_entry(messaging=[messenger_text_event("m_1", "hi")]))
    response = post_webhook(messenger_channel, payload, **kwargs)
    assert response.status_code == status and reason in response.json()["error"]
    kept = RawPayload.objects.get()
    assert kept.status == RawPayload.Status.REJECTED and reason in kept.rejection_reason
    assert not Message.objects.exists()


def test_a_body_changed_after_signing_is_refused(messenger_channel, post_webhook):
    from apps.connectors.meta.webhooks import sign
    from tests.fakes.meta import APP_SECRET

    signature = sign(APP_SECRET, b'{"object": "page", "entry": []}')
    response = post_webhook(messenger_channel, b'{"object": "page", "entry": [{}]}', signature=signature)
    assert response.status_code == 403


def test_channel_without_an_app_secret_refuses_every_delivery(messenger_channel, post_webhook):
    messenger_channel.credentials = {"access_token": "x"}
    messenger_channel.save()
    assert post_webhook(messenger_channel, page_webhook()).status_code == 503


def test_a_webhook_for_another_object_is_rejected_with_the_reason(messenger_channel, post_webhook):
    response = post_webhook(
        messenger_channel, instagram_webhook(messaging=[messenger_text_event("m_1", "hi")])
    )
    payload = payload_process(payload_id=response.json()["received"])
    assert payload.status == RawPayload.Status.REJECTED
    assert "receives 'page' webhooks, not 'instagram'" in payload.rejection_reason
