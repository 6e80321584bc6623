"""bulk_sql.insert: the rows bulk_create would write, with each column bound as one binary array."""

import datetime as dt

import pytest
from django.db import DataError, IntegrityError, connection, transaction
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


def _messages(channel, conversation, count: int, **extra) -> list[Message]:
    sent_at = dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)
    return [
        Message(
            organization=channel.organization,
            conversation=conversation,
            channel=channel,
            direction=Message.Direction.INBOUND,
            external_id=f"m-{n}",
            text=f"text {n} ' \" \\ \t tab {{}} \n line",
            language="en",
            sent_at=sent_at + dt.timedelta(minutes=n),
            metadata={"n": n, "quote": "'\"\\"} if n % 2 else {},
            **extra,
        )
        for n in range(count)
    ]


def _conversation(channel) -> Conversation:
    customer = Customer.objects.create(organization=channel.organization, display_name="Ada")
    return Conversation.objects.create(
        organization=channel.organization,
        brand=channel.brand,
        channel=channel,
        customer=customer,
        external_thread_id="t",
    )


def test_many_rows_are_copied_with_ids_drawn_first_and_written_as_an_insert_writes_them(webhook_channel):
    conversation = _conversation(webhook_channel)
    copied = _messages(webhook_channel, conversation, bulk_sql.COPY_FROM_ROWS + 6)
    bulk_sql.insert(copied)
    inserted = _messages(webhook_channel, conversation, 3)
    for message in inserted:
        message.external_id += "-i"
    bulk_sql.insert(inserted)  # below COPY_FROM_ROWS: INSERT … SELECT unnest(…)

    assert len({m.pk for m in copied}) == len(copied) and all(not m._state.adding for m in copied)
    stored = Message.objects.in_bulk([m.pk for m in copied + inserted])
    for message in copied:
        row = stored[message.pk]
        assert (row.external_id, row.text, row.sent_at, row.metadata, row.conversation_id) == (
            message.external_id,
            message.text,
            message.sent_at,
            message.metadata,
            conversation.pk,
        )
        assert row.classification == {} and row.created_at is not None
    # The ids drawn for COPY come from the table's own sequence: later inserts go on after them.
    assert min(m.pk for m in inserted) > max(m.pk for m in copied)


def test_a_copied_row_that_postgresql_refuses_fails_the_insert_as_a_django_error(webhook_channel):
    # The import's chunk falls back to a payload a row on it (services.payload_broken).
    conversation = _conversation(webhook_channel)
    messages = _messages(webhook_channel, conversation, bulk_sql.COPY_FROM_ROWS)
    messages[5].metadata = {"note": "nul \u0000 inside"}
    with pytest.raises(DataError, match="Unicode"), transaction.atomic():
        bulk_sql.insert(messages)
    duplicate = _messages(webhook_channel, conversation, bulk_sql.COPY_FROM_ROWS)
    bulk_sql.insert(duplicate[:1])
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk_sql.insert(duplicate)
    assert Message.objects.filter(conversation=conversation).count() == 1


def test_unsaved_builds_the_object_model_init_builds(webhook_channel):
    conversation = _conversation(webhook_channel)
    values = dict(
        organization_id=webhook_channel.organization_id,
        conversation=conversation,
        channel=webhook_channel,
        direction=Message.Direction.INBOUND,
        external_id="m",
        text="hi",
        author_identity=None,
        sent_at=dt.datetime(2026, 11, 20, tzinfo=dt.UTC),
    )
    fast, slow = bulk_sql.unsaved(Message, **values), Message(**values)
    for field in Message._meta.concrete_fields:
        if not field.generated:
            assert getattr(fast, field.attname) == getattr(slow, field.attname), field.name
    assert fast._state.adding and fast.pk is None
    assert fast.metadata is not bulk_sql.unsaved(Message, **values).metadata  # a new dict each
    with CaptureQueriesContext(connection) as queries:
        assert fast.conversation is conversation and fast.channel is webhook_channel
    assert not queries.captured_queries
    unsaved_customer = bulk_sql.unsaved(Customer, organization_id=webhook_channel.organization_id)
    later = bulk_sql.unsaved(Conversation, customer=unsaved_customer, external_thread_id="u")
    assert later.customer_id is None and later.customer is unsaved_customer  # its id: once it is saved
    with pytest.raises(TypeError, match="no field named"):
        bulk_sql.unsaved(Message, txet="a typo")


def test_copied_json_columns_hold_what_an_insert_of_each_value_holds(webhook_channel):
    # COPY writes JSON columns as their text (no adapter object a value): every JSON shape round-trips.
    conversation = _conversation(webhook_channel)
    shapes = [{}, [], {"a": [1, 2.5, None, True]}, ["x"], "text ' \" \\", 0, 1.5, False, {"é": "ü \t\n"}]
    messages = _messages(webhook_channel, conversation, bulk_sql.COPY_FROM_ROWS)
    for message, value in zip(messages, shapes * len(messages), strict=False):
        message.metadata = value
    bulk_sql.insert(messages)

    stored = Message.objects.in_bulk([m.pk for m in messages])
    assert [stored[m.pk].metadata for m in messages] == [m.metadata for m in messages]
    assert all(stored[m.pk].classification == {} for m in messages)


def test_select_loads_the_objects_the_orm_loads(org_a):
    from apps.customers.models import Identity

    customer = Customer.objects.create(organization=org_a, display_name="Ada")
    for n in range(3):
        Identity.objects.create(
            organization=org_a,
            customer=customer,
            kind="twitter",
            external_id=f"u{n}",
            handle=f"@ada{n}",
            followers=n,
            verified=bool(n % 2),
        )
    wanted = ["u0", "u2"]
    fast = bulk_sql.select(Identity, "organization_id = %s AND external_id = ANY(%b)", [org_a.pk, wanted])
    slow = Identity.objects.filter(organization=org_a, external_id__in=wanted)
    assert sorted((i.pk, i.external_id) for i in fast) == sorted((i.pk, i.external_id) for i in slow)
    by_pk = {i.pk: i for i in slow}
    for identity in fast:
        assert not identity._state.adding and identity._state.db == "default"
        for field in Identity._meta.concrete_fields:
            assert getattr(identity, field.attname) == getattr(by_pk[identity.pk], field.attname), field.name
    with CaptureQueriesContext(connection) as queries:  # nothing deferred: every column was read
        assert fast[0].handle.startswith("@ada") and fast[0].customer_id == customer.pk
    assert not queries.captured_queries
    with pytest.raises(TypeError, match="converting"):
        bulk_sql.select(Message, "id = %s", [0])  # JSON columns: the ORM's job
