"""Through the real entry points: Vonage's signed POST-JSON webhooks to /hooks/<token>/ on the live web
server, a real Celery worker storing the SMS and sending the reply to the fake Vonage, and the reply's
delivery receipt posted to the callback URL it was sent with."""

import pytest

from apps.accounts.models import Role
from apps.conversations.models import Message
from apps.replies.services import reply_create
from tests.conftest import spawn_web, stop_worker
from tests.connectors.twilio.test_end_to_end import wait_for
from tests.fakes.vonage import CUSTOMER_MSISDN, delivery_receipt, inbound_sms, post_json, signed
from tests.ingestion.test_faults import _free_port

pytestmark = pytest.mark.django_db(transaction=True)


def test_sms_in_reply_out_and_its_receipt(vonage, vonage_channel, org_a, make_membership, celery_worker):
    port = _free_port()
    web = spawn_web(port)
    url = f"http://127.0.0.1:{port}/hooks/{vonage_channel.webhook_token}/"
    vonage_channel.settings = {**vonage_channel.settings, "webhook_url": url}
    vonage_channel.save()
    try:
        assert post_json(url, signed(inbound_sms("0C01", "Is the store open today?")))[0] == 200
        inbound = wait_for(lambda: Message.objects.filter(channel=vonage_channel, external_id="0C01").first())
        assert inbound.conversation.external_thread_id == f"+{CUSTOMER_MSISDN}"
        assert post_json(url, signed(inbound_sms("0C02", "forged"), secret="guess"))[0] == 403

        agent = make_membership(org_a, role=Role.COMMUNITY_MANAGER).user
        reply = reply_create(conversation=inbound.conversation, author=agent, text="Yes, until 8 pm.")
        sent = wait_for(
            lambda: Message.objects.filter(pk=reply.pk, delivery_status=Message.Delivery.SENT).first()
        )
        callback = vonage.sent[0]["callback"]
        assert callback == url
        assert post_json(callback, signed(delivery_receipt(sent.external_id, "delivered")))[0] == 200
        wait_for(
            lambda: Message.objects.filter(pk=reply.pk, delivery_status=Message.Delivery.DELIVERED).first()
        )
    finally:
        stop_worker(web)
