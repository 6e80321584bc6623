"""bulk_sql.insert: the rows bulk_create would write, with each column bound as one binary array."""

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from apps.conversations.models import Conversation, Message
from apps.core import bulk_sql
from apps.customers.models import Customer, MergeSuggestion
from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def webhook_channel(brand_a):
    return ChannelFactory(brand=brand_a)


def test_insert_writes_every_column_and_sets_the_pks_in_order(webhook_channel):
    customer = Customer(organization=webhook_channel.organization, display_name="Ada")
    bulk_sql.insert([customer])
    conversation = Conversation(
        organization=webhook_channel.organization,
        brand=webhook_channel.brand,
        channel=webhook_channel,
        customer=customer,
        external_thread_id="t",
    )
    bulk_sql.insert([conversation])
    sent_at = dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)
    messages = [
        Message(
            organization=webhook_channel.organization,
            conversation=conversation,
            channel=webhook_channel,
            direction=Message.Direction.INBOUND,
            external_id=f"m-{n}",
            text=f"text {n} ' \" \\ {{}}",
            language="en",
            sent_at=sent_at + dt.timedelta(minutes=n),
            metadata={"n": n, "tags": ["a", "b"]} if n else {},
        )
        for n in range(3)
    ]
    bulk_sql.insert(messages)

    assert all(not m._state.adding for m in [customer, conversation, *messages])
    for message in messages:
        stored = Message.objects.get(pk=message.pk)
        assert (stored.external_id, stored.text, stored.sent_at, stored.metadata) == (
            message.external_id,
            message.text,
            message.sent_at,
            message.metadata,
        )
        # Python-side defaults and auto_now_add are written as bulk_create writes them.
        assert stored.classification == {} and stored.delivery_status == Message.Delivery.RECEIVED
        assert stored.created_at is not None and stored.author_identity_id is None
    assert Conversation.objects.get(pk=conversation.pk).customer == customer
    assert Customer.objects.get(pk=customer.pk).updated_at is not None


def test_insert_of_nothing_does_nothing():
    bulk_sql.insert([])


def test_insert_ignoring_conflicts_skips_the_rows_already_there(org_a):
    ada, bob, cy = (Customer.objects.create(organization=org_a, display_name=name) for name in "ABC")
    MergeSuggestion.objects.create(organization=org_a, customer=ada, candidate=bob, reason="same handle")
    bulk_sql.insert(
        [
            MergeSuggestion(organization=org_a, customer=ada, candidate=bob, reason="same name"),
            MergeSuggestion(organization=org_a, customer=ada, candidate=cy, reason="same name", score=0.3),
        ],
        ignore_conflicts=True,
    )
    assert sorted(
        MergeSuggestion.objects.values_list("candidate__display_name", "reason", "score", "status")
    ) == [
        ("B", "same handle", 0.5, "pending"),
        ("C", "same name", 0.3, "pending"),
    ]


def test_a_unique_violation_is_djangos_integrity_error(org_a):
    # The ingestion batch task relies on it: a race with another worker makes it process payloads one by one.
    ada, bob = (Customer.objects.create(organization=org_a, display_name=name) for name in "AB")
    MergeSuggestion.objects.create(organization=org_a, customer=ada, candidate=bob, reason="same handle")
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk_sql.insert([MergeSuggestion(organization=org_a, customer=ada, candidate=bob, reason="again")])


def test_objects_saved_after_they_were_assigned_give_their_pk_and_stay_cached(webhook_channel):
    organization = webhook_channel.organization
    customer = Customer(organization=organization, display_name="Ada")
    conversation = Conversation(
        organization=organization,
        brand=webhook_channel.brand,
        channel=webhook_channel,
        customer=customer,
        external_thread_id="t",
    )
    message = Message(
        organization=organization,
        conversation=conversation,
        channel=webhook_channel,
        external_id="m",
        text="hi",
        sent_at=dt.datetime(2026, 11, 20, tzinfo=dt.UTC),
    )
    with pytest.raises(ValueError, match="unsaved related object 'customer'"):
        bulk_sql.insert([conversation])
    bulk_sql.insert([customer])
    bulk_sql.insert([conversation])
    bulk_sql.insert([message])

    assert Message.objects.get(pk=message.pk).conversation_id == conversation.pk
    with CaptureQueriesContext(connection) as queries:  # the objects are still the ones assigned
        assert message.conversation is conversation and conversation.customer is customer
    assert not queries.captured_queries
