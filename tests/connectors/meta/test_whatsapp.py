"""WhatsApp Cloud API: notifications in (one verified customer per wa_id), text replies out."""

import json

import pytest

from apps.accounts.models import Role
from apps.connectors.base import PayloadRejected, RateLimited
from apps.connectors.kinds import ChannelKind
from apps.connectors.registry import connector_for
from apps.conversations.models import Conversation, Message
from apps.customers.models import Customer, Identity
from apps.ingestion.models import RawPayload
from apps.replies.delivery import message_deliver
from apps.replies.services import reply_create
from tests.factories import IdentityFactory
from tests.fakes.meta import (
    DISPLAY_PHONE,
    PHONE_NUMBER_ID,
    TIME_S,
    WA_ID,
    WABA_ID,
    whatsapp_status,
    whatsapp_text,
    whatsapp_value,
    whatsapp_webhook,
)

pytestmark = pytest.mark.django_db
LATE_DETAILS = (
    "Message failed to send because more than 24 hours have passed since the customer last replied "
    "to this number."
)


@pytest.fixture
def agent(org_a, make_membership):
    return make_membership(org_a, role=Role.COMMUNITY_MANAGER).user


def reply(conversation, agent, text, capture) -> Message:
    with capture(execute=False):
        return reply_create(conversation=conversation, author=agent, text=text)


def parse(channel, payload):
    return connector_for("whatsapp").parse(channel, json.dumps(payload).encode(), {})


def test_messages_from_one_number_are_one_verified_customer_and_one_conversation(whatsapp_channel, ingest):
    ingest(
        whatsapp_channel,
        whatsapp_webhook(
            whatsapp_value(messages=[whatsapp_text("wamid.A1", "Does it come in another color?")])
        ),
    )
    ingest(
        whatsapp_channel,
        whatsapp_webhook(
            whatsapp_value(messages=[whatsapp_text("wamid.A2", "Blue maybe?", timestamp=TIME_S + 60)])
        ),
    )

    conversation = Conversation.objects.get()
    assert conversation.external_thread_id == WA_ID and conversation.message_count == 2
    assert list(conversation.messages.values_list("external_id", flat=True)) == ["wamid.A1", "wamid.A2"]
    identity = Identity.objects.get()
    assert (identity.kind, identity.external_id, identity.display_name) == (
        "whatsapp",
        WA_ID,
        "Sheena Nelson",
    )
    assert identity.phone == f"+{WA_ID}" and identity.phone_verified is True
    assert Customer.objects.count() == 1 and conversation.customer == identity.customer


def test_a_batch_with_two_numbers_makes_two_customers(whatsapp_channel, ingest):
    value = whatsapp_value(
        messages=[
            whatsapp_text("wamid.B1", "hi", wa_id="447700900123"),
            whatsapp_text("wamid.B2", "olá", wa_id="5511988887777"),
        ],
        contacts=[
            {"profile": {"name": "Tom"}, "wa_id": "447700900123"},
            {"profile": {"name": "Bia"}, "wa_id": "5511988887777"},
        ],
    )
    ingest(
        whatsapp_channel,
        whatsapp_webhook(
            value,
            whatsapp_value(
                messages=[whatsapp_text("wamid.B3", "again", wa_id="447700900123")],
                contacts=[{"profile": {"name": "Tom"}, "wa_id": "447700900123"}],
            ),
        ),
    )
    assert Customer.objects.count() == 2 and Conversation.objects.count() == 2
    tom = Identity.objects.get(external_id="447700900123")
    assert tom.display_name == "Tom" and tom.customer.conversations.get().message_count == 2


def test_the_verified_number_joins_the_profile_that_already_has_it(whatsapp_channel, ingest, org_a):
    known = IdentityFactory(
        customer__organization=org_a, kind=ChannelKind.TELEGRAM, phone=f"+{WA_ID}", phone_verified=True
    )
    ingest(whatsapp_channel, whatsapp_webhook(whatsapp_value(messages=[whatsapp_text("wamid.C1", "hi")])))
    assert Identity.objects.get(kind="whatsapp").customer == known.customer
    assert Conversation.objects.get().customer == known.customer


@pytest.mark.parametrize(
    "message, text, extra",
    [
        (
            {
                "type": "image",
                "image": {
                    "caption": "Cracked screen",
                    "mime_type": "image/jpeg",
                    "sha256": "abc",
                    "id": "1479537139650973",
                },
            },
            "Cracked screen",
            {
                "media": [
                    {"type": "image", "id": "1479537139650973", "mime_type": "image/jpeg", "sha256": "abc"}
                ]
            },
        ),
        (
            {
                "type": "document",
                "document": {
                    "filename": "invoice.pdf",
                    "mime_type": "application/pdf",
                    "sha256": "d",
                    "id": "2",
                },
            },
            "[document: invoice.pdf]",
            {},
        ),
        (
            {
                "type": "location",
                "location": {
                    "latitude": 38.72,
                    "longitude": -9.14,
                    "name": "Nimbus Store",
                    "address": "Rua Augusta 1",
                },
            },
            "[location: Nimbus Store, Rua Augusta 1 (38.72, -9.14)]",
            {},
        ),
        (
            {
                "type": "interactive",
                "interactive": {
                    "type": "button_reply",
                    "button_reply": {"id": "yes-1", "title": "Yes, please"},
                },
            },
            "Yes, please",
            {"interactive": {"type": "button_reply", "id": "yes-1"}},
        ),
        (
            {"type": "button", "button": {"payload": "STOP", "text": "Stop promotions"}},
            "Stop promotions",
            {"button_payload": "STOP"},
        ),
    ],
)
def test_documented_message_types(whatsapp_channel, message, text, extra):
    item = {"from": WA_ID, "id": "wamid.T1", "timestamp": str(TIME_S), **message}
    (inbound,) = parse(whatsapp_channel, whatsapp_webhook(whatsapp_value(messages=[item])))
    assert inbound.text == text
    for key, value in extra.items():
        assert inbound.metadata[key] == value


def test_replies_point_at_their_context_and_reactions_are_not_messages(whatsapp_channel):
    quoted = whatsapp_text("wamid.R2", "This one", context={"from": WA_ID, "id": "wamid.R1"})
    reaction = {
        "from": WA_ID,
        "id": "wamid.R3",
        "timestamp": str(TIME_S),
        "type": "reaction",
        "reaction": {"message_id": "wamid.R1", "emoji": "👍"},
    }
    (inbound,) = parse(whatsapp_channel, whatsapp_webhook(whatsapp_value(messages=[quoted, reaction])))
    assert inbound.in_reply_to == "wamid.R1"


def test_statuses_are_not_messages_but_map_to_delivery_updates(whatsapp_channel, ingest):
    failed = whatsapp_status(
        "wamid.SENT1",
        "failed",
        errors=[
            {
                "code": 131047,
                "title": "Re-engagement message",
                "error_data": {"details": LATE_DETAILS},
            }
        ],
    )
    payload = whatsapp_webhook(
        whatsapp_value(
            statuses=[
                whatsapp_status("wamid.SENT1", "delivered"),
                whatsapp_status("wamid.SENT1", "read"),
                failed,
            ]
        )
    )
    stored = ingest(whatsapp_channel, payload)
    # No message of the channel has that id: each receipt is explained, none applied.
    assert stored.status == RawPayload.Status.IGNORED and not Message.objects.exists()
    assert stored.event_type == "status:delivered" and "no message sent from CXM" in stored.ignored_reason

    updates = connector_for("whatsapp").delivery_updates(whatsapp_channel, json.dumps(payload).encode())
    assert [(u.external_id, u.status, u.platform_status) for u in updates] == [
        ("wamid.SENT1", "delivered", "delivered"),
        ("wamid.SENT1", "delivered", "read"),
        ("wamid.SENT1", "failed", "failed"),
    ]
    assert updates[2].error.startswith("Re-engagement message [code 131047] — Message failed to send")
    assert updates[0].recipient == WA_ID and updates[0].at.timestamp() == TIME_S + 5


def test_notifications_for_another_business_number_are_skipped(whatsapp_channel):
    other = whatsapp_value(messages=[whatsapp_text("wamid.X", "hi")], phone_number_id="999999999")
    assert parse(whatsapp_channel, whatsapp_webhook(other)) == []


def test_a_message_without_an_id_is_rejected(whatsapp_channel):
    with pytest.raises(PayloadRejected, match="'from' and 'id'"):
        parse(
            whatsapp_channel,
            whatsapp_webhook(
                whatsapp_value(messages=[{"from": WA_ID, "type": "text", "text": {"body": "x"}}])
            ),
        )


def test_reply_quotes_the_customers_latest_message(
    whatsapp_channel, ingest, graph, agent, django_capture_on_commit_callbacks
):
    graph.serve(whatsapp_channel)
    ingest(whatsapp_channel, whatsapp_webhook(whatsapp_value(messages=[whatsapp_text("wamid.A1", "Hello")])))
    message = reply(Conversation.objects.get(), agent, "Hi Sheena!", django_capture_on_commit_callbacks)
    message_deliver(message_id=message.pk)

    request = graph.requests[-1]
    assert request.path == f"/v21.0/{PHONE_NUMBER_ID}/messages"
    assert request.json() == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": WA_ID,
        "type": "text",
        "text": {"body": "Hi Sheena!", "preview_url": False},
        "context": {"message_id": "wamid.A1"},
    }
    message.refresh_from_db()
    assert message.delivery_status == Message.Delivery.SENT and message.external_id == "wamid.SENT1"


def test_reengagement_error_fails_the_message_with_the_window_reason(
    whatsapp_channel, ingest, graph, agent, django_capture_on_commit_callbacks
):
    graph.serve(whatsapp_channel)
    ingest(whatsapp_channel, whatsapp_webhook(whatsapp_value(messages=[whatsapp_text("wamid.A1", "Hello")])))
    message = reply(Conversation.objects.get(), agent, "Two days later", django_capture_on_commit_callbacks)
    graph.fail_next(
        400,
        131047,
        "(#131047) Re-engagement message",
        error_data={
            "messaging_product": "whatsapp",
            "details": LATE_DETAILS,
        },
    )
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.delivery_status == Message.Delivery.FAILED
    assert "outside the allowed messaging window" in message.delivery_error
    assert "more than 24 hours have passed" in message.delivery_error


def test_throughput_limit_is_rate_limited(
    whatsapp_channel, ingest, graph, agent, django_capture_on_commit_callbacks
):
    graph.serve(whatsapp_channel)
    ingest(whatsapp_channel, whatsapp_webhook(whatsapp_value(messages=[whatsapp_text("wamid.A1", "Hello")])))
    message = reply(Conversation.objects.get(), agent, "Hi", django_capture_on_commit_callbacks)
    graph.fail_next(400, 130429, "(#130429) Rate limit hit", headers={"Retry-After": "12"})
    with pytest.raises(RateLimited) as raised:
        message_deliver(message_id=message.pk)
    assert raised.value.retry_after == 12


def test_token_error_fails_the_message(
    whatsapp_channel, ingest, graph, agent, django_capture_on_commit_callbacks
):
    graph.serve(whatsapp_channel)
    ingest(whatsapp_channel, whatsapp_webhook(whatsapp_value(messages=[whatsapp_text("wamid.A1", "Hello")])))
    message = reply(Conversation.objects.get(), agent, "Hi", django_capture_on_commit_callbacks)
    graph.fail_next(401, 190, "Error validating access token: The session has been invalidated", subcode=460)
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.delivery_status == Message.Delivery.FAILED
    assert message.delivery_error.startswith("access token expired or invalid")


def _echoes(*items) -> dict:
    """An smb_message_echoes notification (coexistence) as Meta's webhook reference documents it."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": DISPLAY_PHONE, "phone_number_id": PHONE_NUMBER_ID},
        "message_echoes": list(items),
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA_ID, "changes": [{"value": value, "field": "smb_message_echoes"}]}],
    }


def test_what_the_business_sends_from_the_whatsapp_business_app_is_stored_outbound_in_its_conversation(
    whatsapp_channel, ingest
):
    ingest(
        whatsapp_channel,
        whatsapp_webhook(whatsapp_value(messages=[whatsapp_text("wamid.Q1", "Is it in stock?")])),
    )
    echo = {"from": DISPLAY_PHONE, "to": WA_ID, "timestamp": str(TIME_S + 60), "type": "text"}

    payload = ingest(whatsapp_channel, _echoes({**echo, "id": "wamid.E1", "text": {"body": "Yes, two left"}}))
    ingest(
        whatsapp_channel,
        _echoes(
            {
                **echo,
                "id": "wamid.E1e",
                "type": "edit",
                "edit": {
                    "original_message_id": "wamid.E1",
                    "message": {"type": "text", "text": {"body": "Yes, one left"}},
                },
            }
        ),
    )

    assert payload.status == RawPayload.Status.PROCESSED
    conversation = Conversation.objects.get()
    answer = conversation.messages.get(external_id="wamid.E1")
    assert answer.direction == Message.Direction.OUTBOUND and answer.author_identity is None
    assert answer.text == "Yes, one left" and [e["text"] for e in answer.metadata["edits"]] == [
        "Yes, two left"
    ]
    assert conversation.message_count == 2 and Customer.objects.count() == 1
