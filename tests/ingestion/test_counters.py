"""Conversation counters written by set-based ingestion equal what the conversation's messages say."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import Count, Max
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.conversations.models import Conversation, Message
from apps.ingestion.models import RawPayload
from apps.ingestion.services import payload_process, payload_receive, payloads_process
from tests.ingestion.conftest import message

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 20, 10, tzinfo=UTC)


def _receive(channel, body) -> RawPayload:
    raw = json.dumps(body).encode()
    return payload_receive(channel=channel, source=RawPayload.Source.WEBHOOK, body=raw).payload


def _assert_counters_match_messages():
    for conversation in Conversation.objects.annotate(n=Count("messages"), last=Max("messages__sent_at")):
        assert (conversation.message_count, conversation.last_message_at) == (
            conversation.n,
            conversation.last,
        )


def test_two_replies_in_one_batch_one_by_thread_one_by_in_reply_to_both_count(webhook_channel):
    root = _receive(webhook_channel, message(1, thread_id="root", sent_at=START.isoformat()))
    payload_process(payload_id=root.pk)
    # One reply names the thread (as References does), the other only the message it answers
    # (In-Reply-To alone): both land in the stored conversation, in the same batch.
    by_thread = _receive(
        webhook_channel, message(2, thread_id="root", sent_at=(START + timedelta(1)).isoformat())
    )
    by_parent = _receive(
        webhook_channel,
        message(3, thread_id="m-3", in_reply_to="m-1", sent_at=(START + timedelta(2)).isoformat()),
    )
    payloads_process(payload_ids=[by_thread.pk, by_parent.pk])

    conversation = Conversation.objects.get()
    assert conversation.message_count == 3
    assert conversation.last_message_at == START + timedelta(2)
    _assert_counters_match_messages()


reply = st.tuples(
    st.booleans(),  # True: names the thread; False: names only the message it answers
    st.integers(min_value=0, max_value=50),  # which earlier message (modulo how many there are)
    st.integers(min_value=-5000, max_value=5000),  # minutes from the start: replies may come out of order
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.lists(reply, min_size=1, max_size=6), min_size=1, max_size=4))
def test_after_random_batches_of_replies_every_conversation_counts_its_messages(webhook_channel, batches):
    run = Message.objects.count()  # examples share the database: ids of their own
    stored: list[tuple[str, str]] = []  # (message id, thread id)
    root = f"r{run}"
    payload_process(payload_id=_receive(webhook_channel, message(0, id=root, thread_id=root)).pk)
    stored.append((root, root))
    for number, batch in enumerate(batches):
        payloads = []
        for index, (by_thread, which, minutes) in enumerate(batch):
            parent_id, thread = stored[which % len(stored)]
            own = f"r{run}-{number}-{index}"
            fields = {"id": own, "sent_at": (START + timedelta(minutes=minutes)).isoformat()}
            if by_thread:
                fields["thread_id"] = thread
            else:
                fields.update(thread_id=own, in_reply_to=parent_id)
            payloads.append(_receive(webhook_channel, message(0, **fields)).pk)
            stored.append((own, thread if by_thread else own))
        payloads_process(payload_ids=payloads)
    _assert_counters_match_messages()
