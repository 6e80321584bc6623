"""Through the real entry points: Twilio's signed POSTs to /hooks/<token>/ on the live web server (uvicorn
with the webhook intake), a real Celery worker storing the SMS and delivering the reply to the fake Twilio,
and Twilio's status callback for that reply coming back the same way."""

import time

import pytest

from apps.accounts.models import Role
from apps.conversations.models import Message
from apps.replies.services import reply_create
from tests.conftest import spawn_web, stop_worker
from tests.fakes.twilio import CUSTOMER_NUMBER, incoming_sms, post_signed
from tests.ingestion.test_faults import _free_port

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(query, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while (found := query()) is None:
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)
    return found


@pytest.fixture
def live_url(twilio_channel):
    port = _free_port()
    web = spawn_web(port)
    url = f"http://127.0.0.1:{port}/hooks/{twilio_channel.webhook_token}/"
    # The URL Twilio posts to (and signs) is this server's, not CXM_BASE_URL.
    twilio_channel.settings = {**twilio_channel.settings, "webhook_url": url}
    twilio_channel.save()
    yield url
    stop_worker(web)


def test_sms_in_reply_out_and_its_delivery_status(
    twilio, twilio_channel, live_url, org_a, make_membership, celery_worker
):
    status, content_type, body = post_signed(live_url, incoming_sms("SMe2e1", "My parcel never came"))
    assert (status, content_type) == (200, "text/xml")
    assert body == b'<?xml version="1.0" encoding="UTF-8"?><Response/>'
    inbound = wait_for(lambda: Message.objects.filter(channel=twilio_channel, external_id="SMe2e1").first())
    assert inbound.conversation.external_thread_id == CUSTOMER_NUMBER

    # A forged request is refused at the door.
    assert post_signed(live_url, incoming_sms("SMe2e2", "forged"), token="guess")[0] == 403

    agent = make_membership(org_a, role=Role.COMMUNITY_MANAGER).user
    reply = reply_create(
        conversation=inbound.conversation, author=agent, text="Sorry! A new one ships today."
    )
    sent = wait_for(
        lambda: Message.objects.filter(pk=reply.pk, delivery_status=Message.Delivery.SENT).first()
    )
    assert twilio.sent[0]["To"] == CUSTOMER_NUMBER and twilio.sent[0]["StatusCallback"] == live_url

    status, content_type, _ = twilio.callback(sent.external_id, "delivered")
    assert (status, content_type) == (200, "text/xml")
    wait_for(lambda: Message.objects.filter(pk=reply.pk, delivery_status=Message.Delivery.DELIVERED).first())
    assert not Message.objects.filter(external_id="SMe2e2").exists()
