"""Vonage's own published samples through the signed webhook: the examples of the SMS API's OpenAPI
definition (github.com/Nexmo/api-specification, definitions/sms.yml, schemas InboundMessage and
DeliveryReceipt) and a captured inbound delivery
(gist.github.com/leggetter/2ea764759efec4d74f27a9eae5ad9e5e, by a Vonage developer advocate). Vonage sends
them unsigned unless signed webhooks are on: they are signed here with the channel's secret, as Vonage then
does."""

from datetime import UTC, datetime

import pytest

from apps.conversations.models import Message
from apps.ingestion.models import RawPayload
from tests.factories import MessageFactory

pytestmark = pytest.mark.django_db

# definitions/sms.yml, InboundMessage examples (msisdn is the DeliveryReceipt's example number).
OPENAPI_INBOUND = {
    "api-key": "abcd1234",
    "msisdn": "447700900000",
    "to": "447700900001",
    "messageId": "0A0000000123ABCD1",
    "text": "Hello world",
    "type": "text",
    "keyword": "HELLO",
    "message-timestamp": "2020-01-01 12:00:00",
    "concat": "true",
    "concat-ref": "1",
    "concat-total": "3",
    "concat-part": "2",
}
# definitions/sms.yml, DeliveryReceipt examples.
OPENAPI_RECEIPT = {
    "msisdn": "447700900000",
    "to": "AcmeInc",
    "network-code": "12345",
    "messageId": "0A0000001234567B",
    "price": "0.03330000",
    "status": "delivered",
    "scts": "2001011400",
    "err-code": "0",
    "api-key": "abcd1234",
    "message-timestamp": "2020-01-01 12:00:00",
}
# The gist's inbound SMS (msisdn and to were redacted there as FROM_NUMBER / TO_NUMBER).
GIST_INBOUND = {
    "keyword": "HELLO!",
    "message-timestamp": "2016-08-14 10:13:54",
    "messageId": "030000000926C4C2",
    "msisdn": "14155550100",
    "text": "Hello!",
    "to": "12015550123",
    "type": "text",
}


@pytest.fixture
def sample_channel(vonage_channel):
    vonage_channel.credentials = {**vonage_channel.credentials, "api_key": "abcd1234"}
    vonage_channel.save()
    return vonage_channel


def test_openapi_inbound_example(sample_channel, ingest_vonage):
    payload = ingest_vonage(sample_channel, OPENAPI_INBOUND)
    assert payload.status == RawPayload.Status.PROCESSED
    message = Message.objects.get()
    assert message.text == "Hello world" and message.sent_at == datetime(2020, 1, 1, 12, tzinfo=UTC)
    assert message.author_identity.external_id == "+447700900000"
    assert message.conversation.external_thread_id == "+447700900000"
    assert message.metadata["part"] == {"ref": "1", "number": "2", "of": "3"}


def test_openapi_receipt_example_applies_to_the_reply_it_names(sample_channel, ingest_vonage):
    ingest_vonage(sample_channel, {**OPENAPI_INBOUND, "concat": "false"})
    reply = MessageFactory(
        conversation=Message.objects.get().conversation,
        channel=sample_channel,
        direction=Message.Direction.OUTBOUND,
        external_id="0A0000001234567B",
        delivery_status=Message.Delivery.SENT,
    )
    payload = ingest_vonage(sample_channel, OPENAPI_RECEIPT)
    assert payload.status == RawPayload.Status.APPLIED
    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.DELIVERED


def test_gist_inbound_delivery(sample_channel, ingest_vonage):
    ingest_vonage(sample_channel, GIST_INBOUND, as_form=True)
    message = Message.objects.get()
    assert message.text == "Hello!" and message.metadata["keyword"] == "HELLO!"
    assert message.sent_at == datetime(2016, 8, 14, 10, 13, 54, tzinfo=UTC)
