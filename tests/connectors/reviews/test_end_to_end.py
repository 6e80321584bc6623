"""Reviews through the real worker and beat: beat's poll finds a review on the platform's fake, the worker
stores it with its stars; an agent's reply is delivered by the worker, and the next poll brings its
delivery status back; a rate limit is waited out with the platform's delay, the channel saying why."""

import time

import pytest
from django.urls import reverse

from apps.accounts.models import Role
from apps.connectors.models import Channel
from apps.conversations.models import Conversation, Message
from apps.replies.services import reply_create
from tests.conftest import spawn_beat, spawn_worker, stop_worker
from tests.connectors.reviews.conftest import APP_STORE, GOOGLE_BUSINESS, GOOGLE_PLAY, TRUSTPILOT
from tests.fakes.http import Response

pytestmark = pytest.mark.django_db(transaction=True)

FAST = {"CXM_POLL_DUE_SECONDS": "1", "CXM_CHANNEL_POLL_RETRY_SECONDS": "1"}


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)
    return result


def _poll_again(channel) -> None:
    """The review kinds poll every 15 minutes: make the channel due now."""
    Channel.objects.filter(pk=channel.pk).update(last_fetch_at=None)


@pytest.mark.parametrize(
    "platform",
    [GOOGLE_BUSINESS, APP_STORE, GOOGLE_PLAY, TRUSTPILOT],
    ids=["google_business", "app_store", "google_play", "trustpilot"],
    indirect=True,
)
def test_a_review_is_polled_stored_answered_and_its_reply_delivered(
    platform, fake, channel, org_a, make_membership, login, tmp_path
):
    admin = make_membership(org_a, Role.ADMIN)
    review = platform.add(fake, "Ana Ruiz", 1, "Two days without mobile data after the eSIM swap.")
    worker = spawn_worker(f"reviews-{time.monotonic_ns()}@localhost", env=FAST)
    beat = spawn_beat(tmp_path / "celerybeat-schedule", env=FAST)
    try:
        message = _wait_for(
            lambda: Message.objects.filter(channel=channel, external_id=platform.review_id(review)).first(),
            90,
            "the review to be stored",
        )
        assert message.metadata["rating"] == {"value": 1, "best": 5.0}
        conversation = Conversation.objects.get(channel=channel)

        # The agent answers from the conversation page's composer; the worker delivers it.
        reply = reply_create(conversation=conversation, author=admin.user, text="Sorry Ana, we're on it.")
        _wait_for(
            lambda: Message.objects.get(pk=reply.pk).delivery_status == Message.Delivery.SENT,
            60,
            "the reply to be sent",
        )
        assert platform.reply_text(fake, review) == "Sorry Ana, we're on it."
        if platform.kind == "app_store":
            fake.publish(review)

        # A rate limit on the next poll: the channel says why and waits for the platform's delay.
        fake.next_responses.append(
            fake.rate_limited(retry_after=5)
            if hasattr(fake, "rate_limited")
            else Response(
                429, {"errors": [{"status": "429", "code": "RATE_LIMIT_EXCEEDED"}]}, {"Retry-After": "5"}
            )
        )
        _poll_again(channel)
        client = login(admin)
        _wait_for(
            lambda: "rate limit" in client.get(reverse("connectors:list")).content.decode(),
            60,
            "the channel list to show the rate limit",
        )

        # After the delay, the poll reads the review with the reply on it: delivered, stored once.
        _poll_again(channel)
        _wait_for(
            lambda: Message.objects.get(pk=reply.pk).delivery_status == Message.Delivery.DELIVERED,
            60,
            "the reply's delivery status",
        )
        assert Channel.objects.get(pk=channel.pk).last_error == ""
        assert conversation.messages.filter(direction=Message.Direction.OUTBOUND).count() == 1
    finally:
        stop_worker(beat)
        stop_worker(worker)
