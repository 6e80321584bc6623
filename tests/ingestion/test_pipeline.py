"""The ingestion pipeline: store first, process once, reject clearly, replay after a fix."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.connectors.kinds import ChannelKind
from apps.conversations.models import Conversation, Message
from apps.customers.models import Identity
from apps.ingestion.models import RawPayload
from apps.ingestion.services import payload_process, payload_receive, payload_replay
from tests.ingestion.conftest import message

pytestmark = pytest.mark.django_db


def _receive(channel, body, **kwargs):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return payload_receive(channel=channel, source=RawPayload.Source.WEBHOOK, body=raw, **kwargs).payload


def test_a_payload_becomes_a_threaded_message_with_a_profile(webhook_channel):
    payload = _receive(
        webhook_channel,
        {
            "messages": [
                message(1, thread_id="t"),
                message(2, thread_id="t", author={"id": "u-1", "name": "User 1"}),
            ]
        },
    )
    payload_process(payload_id=payload.pk)
    payload.refresh_from_db()
    assert payload.status == RawPayload.Status.PROCESSED and payload.attempts == 1
    conversation = Conversation.objects.get()
    assert conversation.message_count == 2 and conversation.brand == webhook_channel.brand
    assert conversation.sla_due_at is not None
    identity = Identity.objects.get(external_id="u-1", kind=ChannelKind.WEBHOOK)
    assert conversation.customer == identity.customer
    assert list(Message.objects.values_list("raw_payload", flat=True)) == [payload.pk, payload.pk]


def test_processing_twice_stores_once(webhook_channel):
    payload = _receive(webhook_channel, message(1))
    payload_process(payload_id=payload.pk)
    RawPayload.objects.filter(pk=payload.pk).update(status=RawPayload.Status.RECEIVED)  # as if redelivered
    payload_process(payload_id=payload.pk)
    again = _receive(webhook_channel, message(1))  # the platform sends the same message again
    payload_process(payload_id=again.pk)
    assert Message.objects.count() == 1


def test_same_external_payload_id_is_stored_once(webhook_channel):
    first = payload_receive(channel=webhook_channel, source="webhook", body=b"{}", external_id="delivery-1")
    second = payload_receive(channel=webhook_channel, source="webhook", body=b"{}", external_id="delivery-1")
    assert first.created and not second.created and first.payload.pk == second.payload.pk


@pytest.mark.parametrize(
    "body, reason",
    [
        (b'{"id": "x", "text": ', "malformed JSON at line 1"),
        (b'{"id": "x", "text": "caf\xe9"}', "not valid UTF-8"),
        (b"[]", "message 0 must be a JSON object"),
        (json.dumps({"text": "no id", "author": {"id": "u"}}).encode(), "'id' is required"),
        (json.dumps({"id": "x", "text": "hi"}).encode(), "'author' must be an object"),
        (
            json.dumps({"id": "x", "text": "hi", "author": {"id": "u"}, "sent_at": "yesterday"}).encode(),
            "'sent_at' is not an ISO 8601",
        ),
        (json.dumps({"id": "x", "text": 42, "author": {"id": "u"}}).encode(), "'text' must be a string"),
        (json.dumps({"messages": []}).encode(), "non-empty list"),
    ],
)
def test_bad_payloads_are_rejected_with_a_reason_and_kept(webhook_channel, body, reason):
    payload = _receive(webhook_channel, body)
    payload_process(payload_id=payload.pk)
    payload.refresh_from_db()
    assert payload.status == RawPayload.Status.REJECTED
    assert reason in payload.rejection_reason
    assert bytes(payload.body) == body
    assert not Message.objects.exists()


def test_hostile_text_is_stored_as_text(webhook_channel):
    hostile = "<script>alert(1)</script>\x00" + "x" * 300_000
    payload = _receive(
        webhook_channel, message(1, text=hostile, html="<img src=x onerror=alert(1)><b>hi</b>")
    )
    payload_process(payload_id=payload.pk)
    stored = Message.objects.get()
    assert stored.text.startswith("<script>alert(1)</script>") and "\x00" not in stored.text
    assert len(stored.text) == 100_000
    assert "onerror" not in stored.html and "<b>hi</b>" in stored.html


def test_a_rejected_payload_can_be_replayed_after_a_fix(webhook_channel, django_capture_on_commit_callbacks):
    payload = _receive(
        webhook_channel, {"id": "late", "text": "hi", "author": {"id": "u"}, "sent_at": "10/11/26"}
    )
    payload_process(payload_id=payload.pk)
    payload.refresh_from_db()
    assert payload.status == RawPayload.Status.REJECTED and "ISO 8601" in payload.rejection_reason
    # The fix, here simulated on the stored payload (in life: a connector fix that reads such dates).
    payload.body = json.dumps(message(9)).encode()
    payload.save()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        payload_replay(payload=payload)
    assert len(callbacks) == 1  # processing was enqueued
    payload_process(payload_id=payload.pk)
    payload.refresh_from_db()
    assert payload.status == RawPayload.Status.PROCESSED and payload.attempts == 2
    assert Message.objects.filter(raw_payload=payload).exists()


def test_a_batch_is_processed_in_one_go_and_isolates_bad_payloads(webhook_channel):
    from apps.ingestion.services import payloads_process

    good = [_receive(webhook_channel, message(n, thread_id="same")) for n in range(5)]
    bad = _receive(webhook_channel, b"{not json")
    assert payloads_process(payload_ids=[p.pk for p in [*good, bad]]) == 6
    assert Message.objects.count() == 5 and Conversation.objects.count() == 1
    bad.refresh_from_db()
    assert bad.status == RawPayload.Status.REJECTED
    assert payloads_process(payload_ids=[p.pk for p in good]) == 0  # all done already


def test_after_a_merge_the_merged_thread_continues_in_the_kept_conversation(webhook_channel):
    from apps.conversations.services import conversations_merge

    author = {"id": "u-7", "handle": "@seven", "name": "Seven"}
    for n, thread in ((1, "t-old"), (2, "t-new")):
        payload_process(payload_id=_receive(webhook_channel, message(n, thread_id=thread, author=author)).pk)
    older, newer = Conversation.objects.order_by("created_at", "pk")
    kept = conversations_merge(conversations=[older, newer], actor=None)
    assert kept == older and Conversation.objects.count() == 1
    # The platform goes on writing to the thread that was merged away.
    payload_process(payload_id=_receive(webhook_channel, message(3, thread_id="t-new", author=author)).pk)
    assert Conversation.objects.count() == 1
    assert Message.objects.get(external_id="m-3").conversation == kept


def test_a_new_message_wakes_a_snoozed_conversation(webhook_channel):
    from datetime import timedelta

    from django.utils import timezone

    payload_process(payload_id=_receive(webhook_channel, message(1, thread_id="t")).pk)
    Conversation.objects.update(
        status=Conversation.Status.SNOOZED, snoozed_until=timezone.now() + timedelta(days=1)
    )
    payload_process(payload_id=_receive(webhook_channel, message(2, thread_id="t")).pk)
    conversation = Conversation.objects.get()
    assert conversation.status == Conversation.Status.OPEN and conversation.snoozed_until is None


def test_the_language_is_written_by_the_insert_itself(webhook_channel):
    payload = _receive(
        webhook_channel,
        {
            "messages": [
                message(1, text="My parcel has not arrived and nobody answers my emails"),
                message(2, text="Mon colis n'est toujours pas arrivé et personne ne répond"),
                message(3, text="Le mien aussi", language="it"),  # a language the platform gave is kept
            ]
        },
    )
    with CaptureQueriesContext(connection) as queries:
        payload_process(payload_id=payload.pk)
    assert dict(Message.objects.values_list("external_id", "language")) == {
        "m-1": "en",
        "m-2": "fr",
        "m-3": "it",
    }
    # Detected before the insert: no UPDATE of the new rows (nor of their full-text index entries).
    assert not [
        q["sql"] for q in queries.captured_queries if q["sql"].startswith('UPDATE "conversations_message"')
    ]


def test_a_payload_that_breaks_the_set_it_was_taken_with_is_rejected_alone(webhook_channel):
    from apps.ingestion.tasks import process_payload_task

    good = _receive(webhook_channel, message(1))
    # Valid JSON that PostgreSQL's jsonb refuses: it passes parsing and fails the insert of the whole set.
    bad = _receive(webhook_channel, message(2, metadata={"note": "nul \u0000 inside"}))
    process_payload_task(good.pk)  # takes the bad one with it, fails, then processes itself alone
    good.refresh_from_db()
    bad.refresh_from_db()
    assert (good.status, bad.status) == (RawPayload.Status.PROCESSED, RawPayload.Status.RECEIVED)
    process_payload_task(bad.pk)
    bad.refresh_from_db()
    assert bad.status == RawPayload.Status.REJECTED and "Unicode" in bad.rejection_reason
    assert list(Message.objects.values_list("external_id", flat=True)) == ["m-1"]
