"""Product events reach the endpoints subscribed to them, from the services where things happen."""

import pytest

from apps.conversations.services import conversation_set_status, note_add
from apps.ingestion import pipeline
from apps.webhooks import events, services
from apps.webhooks.models import WebhookDelivery
from tests.factories import ConversationFactory, MessageFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(brand_a):
    return ConversationFactory(channel__brand=brand_a)


def subscribe(org, admin, receiver, *names):
    return services.endpoint_create(organization=org, url=receiver.hook_url, events=names, actor=admin.user)[
        0
    ]


def test_ingested_messages_are_one_event_per_organisation_and_batch(org_a, org_admin, receiver, conversation):
    subscribe(org_a, org_admin, receiver, "message.created")
    messages = [MessageFactory(conversation=conversation, direction="inbound") for _ in range(3)]
    elsewhere = MessageFactory(conversation__channel__brand__organization=OrganizationFactory())

    pipeline.after_commit([*messages, elsewhere])

    delivery = WebhookDelivery.objects.get()
    assert delivery.event == "message.created"
    assert [item["id"] for item in delivery.payload["messages"]] == [m.pk for m in messages]
    assert delivery.payload["messages"][0]["brand"] == conversation.brand_id


def test_a_batch_costs_one_cache_read_and_no_query_when_nobody_listens(
    conversation, django_assert_num_queries
):
    messages = [MessageFactory(conversation=conversation, direction="inbound") for _ in range(3)]
    services.subscriptions(conversation.organization_id)  # cached

    with django_assert_num_queries(0):
        events.messages_created(messages)


def test_status_changes_and_notes_are_published(org_a, org_admin, receiver, conversation):
    subscribe(org_a, org_admin, receiver, "conversation.status_changed", "note.created")

    conversation_set_status(conversation=conversation, status="closed", actor=org_admin.user)
    note = note_add(conversation=conversation, author=org_admin.user, text="Refund approved")

    by_event = {d.event: d.payload for d in WebhookDelivery.objects.all()}
    assert by_event["conversation.status_changed"]["status"] == "closed"
    assert by_event["conversation.status_changed"]["actor"] == org_admin.user.pk
    assert by_event["note.created"]["id"] == note.pk and by_event["note.created"]["text"] == "Refund approved"


def test_a_sent_reply_is_published(org_a, org_admin, receiver, conversation):
    subscribe(org_a, org_admin, receiver, "reply.sent")
    reply = MessageFactory(conversation=conversation, direction="outbound", delivery_status="sent")

    events.reply_sent(reply)

    assert WebhookDelivery.objects.get().payload["id"] == reply.pk
