"""Vonage SMS API webhooks: signatures (MD5 hash and HMAC methods), inbound SMS, delivery receipts."""

import time

import pytest

from apps.connectors.kinds import ChannelKind
from apps.connectors.vonage.connector import sign
from apps.conversations.models import Message
from apps.customers.models import Identity
from apps.ingestion.models import RawPayload
from tests.fakes.vonage import CUSTOMER_MSISDN, inbound_sms

pytestmark = pytest.mark.django_db


def test_published_signature_vector():
    """The Vonage Python SDK's test (tests/test_signature.py of github.com/Vonage/vonage-python-sdk 3.x,
    Apache-2.0): a=1, b=2, timestamp=1461605396 with the secret "secret" (MD5 hash) sign as
    6af838ef94998832dbfc29020b564830."""
    params = {"a": "1", "b": "2", "timestamp": "1461605396"}
    assert sign(params, "secret", "md5hash") == "6af838ef94998832dbfc29020b564830"


def test_an_inbound_sms_is_stored_with_the_number_in_e164(vonage_channel, ingest_vonage):
    payload = ingest_vonage(vonage_channel, inbound_sms("030000000926C4C2", "Hello! Is my order late?"))
    assert payload.status == RawPayload.Status.PROCESSED
    message = Message.objects.get()
    assert message.text == "Hello! Is my order late?" and message.external_id == "030000000926C4C2"
    assert message.conversation.external_thread_id == f"+{CUSTOMER_MSISDN}"
    assert message.metadata["keyword"] == "HELLO!"
    identity = Identity.objects.get(kind=ChannelKind.SMS_VONAGE)
    assert identity.phone == f"+{CUSTOMER_MSISDN}" and identity.phone_verified


@pytest.mark.parametrize("method", ["md5", "sha1", "sha256", "sha512"])
def test_hmac_signature_methods(vonage_channel, post_vonage, method):
    vonage_channel.settings = {**vonage_channel.settings, "signature_method": method}
    vonage_channel.save()
    assert post_vonage(vonage_channel, inbound_sms("0A01", "hi"), method=method).status_code == 200
    assert post_vonage(vonage_channel, inbound_sms("0A02", "hi"), method="md5hash").status_code == 403


def test_form_posts_are_read_too(vonage_channel, ingest_vonage):
    ingest_vonage(vonage_channel, inbound_sms("0A03", "a & b = c"), as_form=True)
    assert Message.objects.get().text == "a & b = c"


def test_bad_missing_or_stale_signatures_are_refused(vonage_channel, post_vonage):
    assert post_vonage(vonage_channel, inbound_sms("0A04", "hi"), secret="wrong").status_code == 403
    assert post_vonage(vonage_channel, inbound_sms("0A05", "hi"), raw=True).status_code == 401
    stale = str(int(time.time()) - 3600)
    response = post_vonage(vonage_channel, inbound_sms("0A06", "hi", timestamp=stale))
    assert response.status_code == 403 and b"five minutes" in response.content
    assert post_vonage(vonage_channel, b"{not json", raw=True).status_code == 400
    assert RawPayload.objects.filter(status=RawPayload.Status.REJECTED).count() == 4
    assert not Message.objects.exists()


def test_a_binary_sms_is_ignored_with_a_reason(vonage_channel, ingest_vonage):
    payload = ingest_vonage(
        vonage_channel, inbound_sms("0A07", "", kind="binary", data="0605040B8423F0", udh="050003CC0201")
    )
    assert payload.status == RawPayload.Status.IGNORED and "binary SMS" in payload.ignored_reason


def test_the_parts_of_a_long_sms_are_stored_with_their_place(vonage_channel, ingest_vonage):
    for part, text in ((1, "The first half of a long"), (2, " message.")):
        ingest_vonage(
            vonage_channel,
            inbound_sms(
                f"0A1{part}",
                text,
                concat="true",
                **{"concat-ref": "108", "concat-total": "2", "concat-part": str(part)},
            ),
        )
    parts = [m.metadata["part"] for m in Message.objects.order_by("pk")]
    assert parts == [{"ref": "108", "number": "1", "of": "2"}, {"ref": "108", "number": "2", "of": "2"}]


def test_a_redelivery_is_stored_once(vonage_channel, ingest_vonage):
    ingest_vonage(vonage_channel, inbound_sms("0A20", "once"))
    ingest_vonage(vonage_channel, inbound_sms("0A20", "once"))
    assert Message.objects.count() == 1


def test_deliveries_by_get_are_stored_like_posts(vonage_channel, client):
    """GET is the dashboard's default HTTP method: the query string is the delivery."""
    from apps.ingestion.services import payload_process
    from tests.fakes.vonage import signed

    hook = f"/hooks/{vonage_channel.webhook_token}/"
    response = client.get(hook, signed(inbound_sms("0A30", "sent by GET & signed")))
    assert response.status_code == 200
    payload_process(payload_id=response.json()["received"])
    assert Message.objects.get().text == "sent by GET & signed"
    assert client.get(hook, inbound_sms("0A31", "unsigned")).status_code == 401
    assert client.get(hook).status_code == 404  # no parameters: nothing delivered, no handshake either
