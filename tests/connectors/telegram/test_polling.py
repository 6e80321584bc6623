"""getUpdates polling: the offset cursor, idempotency with webhook deliveries, errors."""

import pytest

from apps.connectors.base import RateLimited
from apps.connectors.models import Channel
from apps.conversations.models import Message
from apps.ingestion.models import RawPayload
from apps.ingestion.polling import channel_poll
from apps.ingestion.services import payload_process
from tests.fakes.telegram import private_text_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def polling_channel(telegram_channel):
    telegram_channel.settings = {**telegram_channel.settings, "receive": "polling"}
    telegram_channel.save()
    return telegram_channel


def test_poll_stores_each_update_and_resumes_after_the_last_one(
    polling_channel, telegram, django_capture_on_commit_callbacks
):
    telegram.updates = [private_text_update(10, "first"), private_text_update(11, "second")]
    with django_capture_on_commit_callbacks(execute=False):
        assert channel_poll(channel_id=polling_channel.pk) == 2
    polling_channel.refresh_from_db()
    assert polling_channel.cursor == {"offset": 12}
    assert sorted(RawPayload.objects.values_list("external_id", flat=True)) == ["update:10", "update:11"]
    assert telegram.requests[0].json() == {"timeout": 0, "limit": 100}

    telegram.updates.append(private_text_update(12, "third"))
    with django_capture_on_commit_callbacks(execute=False):
        assert channel_poll(channel_id=polling_channel.pk) == 1
    assert telegram.requests[1].json()["offset"] == 12
    polling_channel.refresh_from_db()
    assert polling_channel.cursor == {"offset": 13}

    for payload in RawPayload.objects.order_by("pk"):
        payload_process(payload_id=payload.pk)
    assert list(Message.objects.order_by("sent_at", "pk").values_list("text", flat=True)) == [
        "first",
        "second",
        "third",
    ]


def test_an_update_already_delivered_by_webhook_is_not_stored_twice(
    polling_channel, telegram, post_update, django_capture_on_commit_callbacks
):
    post_update(polling_channel, private_text_update(10))
    telegram.updates = [private_text_update(10)]
    with django_capture_on_commit_callbacks(execute=False):
        assert channel_poll(channel_id=polling_channel.pk) == 0
    assert RawPayload.objects.count() == 1


def test_webhook_channels_do_not_call_get_updates(telegram_channel, telegram):
    assert channel_poll(channel_id=telegram_channel.pk) == 0
    assert telegram.requests == []


def test_get_updates_while_a_webhook_is_set_puts_the_channel_in_error(polling_channel, telegram):
    telegram.fail_next(
        409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook"
    )
    assert channel_poll(channel_id=polling_channel.pk) == 0
    polling_channel.refresh_from_db()
    assert polling_channel.status == Channel.Status.ERROR
    assert "either by webhook or by getUpdates" in polling_channel.last_error


def test_flood_control_raises_rate_limited_with_telegrams_delay(polling_channel, telegram):
    telegram.fail_next(429, "Too Many Requests: retry after 14", retry_after=14)
    with pytest.raises(RateLimited) as raised:
        channel_poll(channel_id=polling_channel.pk)
    assert raised.value.retry_after == 14
    polling_channel.refresh_from_db()
    assert polling_channel.status == Channel.Status.ACTIVE and polling_channel.error_count == 1


def test_a_revoked_token_is_reported_without_leaking_it(polling_channel, telegram):
    polling_channel.credentials = {**polling_channel.credentials, "bot_token": "999:revoked"}
    polling_channel.save()
    channel_poll(channel_id=polling_channel.pk)
    polling_channel.refresh_from_db()
    assert polling_channel.status == Channel.Status.ERROR
    assert (
        "bot token was refused" in polling_channel.last_error
        and "999:revoked" not in polling_channel.last_error
    )
