"""Channel health through the real worker and beat: a platform that answers a malformed document makes the
channel failing after a few polls in a row, with the reason, its polls backing off on one chain, and its
organisation's admins told; once the platform answers properly again, the channel recovers by itself.

Beat runs its real schedule with two settings shortened (poll-due-channels every second, a first back-off
of one second) so that the back-off's doubling shows within seconds."""

import time

import pytest
from django.urls import reverse

from apps.accounts.models import Role
from apps.connectors.models import Channel
from apps.conversations.models import Message
from apps.ingestion.polling import POLL_FAILING_AFTER
from apps.notifications.models import Notification
from tests.conftest import spawn_beat, spawn_worker, stop_worker

pytestmark = pytest.mark.django_db(transaction=True)

FAST = {"CXM_POLL_DUE_SECONDS": "1", "CXM_CHANNEL_POLL_RETRY_SECONDS": "1"}


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)
    return result


def _channel(channel) -> Channel:
    channel.refresh_from_db()
    return channel


def test_a_channel_that_fails_backs_off_tells_its_admins_and_recovers(
    mastodon_channel, fake_mastodon, org_a, make_membership, login, tmp_path
):
    admin = make_membership(org_a, Role.ADMIN)
    agent = make_membership(org_a, Role.COMMUNITY_MANAGER)
    fake_mastodon.misbehave()
    worker = spawn_worker(f"health-{time.monotonic_ns()}@localhost", env=FAST)
    beat = spawn_beat(tmp_path / "celerybeat-schedule", env=FAST)
    try:
        _wait_for(lambda: _channel(mastodon_channel).failing_since, 60, "the channel to be failing")
        channel = _channel(mastodon_channel)
        assert channel.error_count == POLL_FAILING_AFTER
        assert channel.health == "failing" and channel.status == Channel.Status.ACTIVE
        assert "unexpected JSON document" in channel.last_error
        told = Notification.objects.filter(kind=Notification.Kind.CHANNEL_FAILING, channel=channel)
        assert [n.recipient_id for n in told] == [admin.user_id]  # admins only, once
        assert not Notification.objects.filter(recipient=agent.user).exists()

        page = login(admin).get(reverse("connectors:list")).content.decode()
        assert 'data-health="failing"' in page and "unexpected JSON document" in page

        # One poll chain, backing off: each request the platform saw is one failure recorded, and a
        # second apart at first, the gaps double (1, 2, 4 s...), where beat asks every second.
        time.sleep(6)
        channel = _channel(mastodon_channel)
        assert len(fake_mastodon.requests) == channel.error_count
        assert channel.error_count <= POLL_FAILING_AFTER + 2
        assert Notification.objects.filter(kind=Notification.Kind.CHANNEL_FAILING).count() == 1

        fake_mastodon.misbehave(False)
        ana = fake_mastodon.add_account("ana", domain="other.example")
        fake_mastodon.toot(ana, "<p>@nimbus is the app down?</p>")
        _wait_for(lambda: _channel(mastodon_channel).failing_since is None, 60, "the channel to recover")
        channel = _channel(mastodon_channel)
        assert channel.health == "ok" and channel.error_count == 0 and channel.last_error == ""
        recovered = Notification.objects.filter(kind=Notification.Kind.CHANNEL_RECOVERED, channel=channel)
        assert [n.recipient_id for n in recovered] == [admin.user_id]
        _wait_for(lambda: Message.objects.filter(channel=channel).exists(), 60, "the toot to be ingested")
        page = login(admin).get(reverse("connectors:list")).content.decode()
        assert 'data-health="ok"' in page
        notifications = login(admin).get(reverse("notifications:list")).content.decode()
        assert "reports a channel failing" in notifications and channel.name in notifications
    finally:
        stop_worker(beat)
        stop_worker(worker)
