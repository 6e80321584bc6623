"""YouTube through the real worker and beat: beat's poll-due-channels polls the channel, the worker stores
the comments, the daily quota pauses the channel with the reason shown on its page (no alert, no back-off),
and an agent's reply is delivered by the worker with the new comment's id."""

import os
import time

import pytest
from django.urls import reverse

from apps.accounts.models import Role
from apps.connectors.models import Channel
from apps.conversations.models import Conversation, Message
from apps.notifications.models import Notification
from apps.replies.services import reply_create
from tests.conftest import spawn_beat, spawn_worker, stop_worker
from tests.fakes.youtube import ACCESS_TOKEN, API_KEY, VIDEO

pytestmark = pytest.mark.django_db(transaction=True)

FAST = {"CXM_POLL_DUE_SECONDS": "1", "CXM_CHANNEL_POLL_RETRY_SECONDS": "1"}


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)
    return result


def test_beat_polls_within_the_quota_and_the_worker_delivers_a_reply(
    youtube_channel, youtube, org_a, make_membership, login, tmp_path
):
    youtube_channel.credentials = {"api_key": API_KEY, "access_token": ACCESS_TOKEN}
    youtube_channel.settings = {**youtube_channel.settings, "daily_quota": 3}
    youtube_channel.save()
    youtube.page_size = 1
    threads = [youtube.comment(VIDEO, f"U{n}", f"comment {n}") for n in range(5)]
    admin = make_membership(org_a, Role.ADMIN)
    worker = spawn_worker(f"youtube-{os.getpid()}@localhost", env=FAST)
    beat = spawn_beat(tmp_path / "celerybeat-schedule", env=FAST)
    try:
        _wait_for(lambda: Message.objects.filter(channel=youtube_channel).count() == 3, 120, "three comments")
        channel = Channel.objects.get(pk=youtube_channel.pk)
        assert "YouTube daily quota spent: 3 of 3 units" in channel.last_error
        assert channel.health == "ok" and channel.error_count == 0 and channel.next_poll_at is not None
        time.sleep(3)  # beat asks every second: the paused channel is not polled again today
        assert len([r for r in youtube.requests if r.path.endswith("/commentThreads")]) == 3
        assert not Notification.objects.filter(channel=channel).exists()
        page = login(admin).get(reverse("connectors:detail", args=[channel.pk])).content.decode()
        assert "YouTube daily quota spent" in page and "3 of 3 units used" in page

        newest = Conversation.objects.get(external_thread_id=threads[-1]["id"])
        reply = reply_create(conversation=newest, author=admin.user, text="Thanks for watching!")
        reply = _wait_for(
            lambda: (
                Message.objects.filter(pk=reply.pk).exclude(delivery_status=Message.Delivery.QUEUED).first()
            ),
            120,
            "the reply's delivery",
        )
        assert reply.delivery_status == Message.Delivery.SENT
        assert reply.external_id.startswith(threads[-1]["id"] + ".")
    finally:
        stop_worker(beat)
        stop_worker(worker)
