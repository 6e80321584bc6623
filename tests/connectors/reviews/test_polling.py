"""The four review platforms polled against their fakes: reviews stored with their stars, edits applied,
replies sent and their delivery status coming back, rate limits, expired tokens and malformed answers."""

import pytest
from django.urls import reverse

from apps.accounts.models import Role
from apps.connectors.base import PayloadRejected, RateLimited, TransientError
from apps.connectors.models import Channel
from apps.connectors.registry import connector_for
from apps.conversations.models import Conversation, Message
from apps.ingestion.models import RawPayload
from apps.ingestion.polling import channel_poll
from apps.replies.delivery import message_deliver
from tests.connectors.reviews.conftest import APP_STORE, GOOGLE_BUSINESS, GOOGLE_PLAY, TRUSTPILOT
from tests.fakes.http import Response

pytestmark = pytest.mark.django_db


def _poll(channel, process_payloads) -> int:
    new = channel_poll(channel_id=channel.pk)
    process_payloads(channel)
    return new


def test_each_review_is_a_conversation_whose_message_keeps_the_stars(
    platform, fake, channel, process_payloads
):
    low = platform.add(fake, "Ana Ruiz", 2, "Roaming charges nobody warned me about.")
    high = platform.add(fake, "Bo Chen", 5, "Fast support, fixed my eSIM in minutes.")

    assert _poll(channel, process_payloads) == 2
    assert Conversation.objects.filter(channel=channel).count() == 2
    message = Message.objects.get(channel=channel, external_id=platform.review_id(low))
    assert message.direction == Message.Direction.INBOUND
    assert message.text == "Roaming charges nobody warned me about."
    assert message.metadata["rating"] == {"value": 2, "best": 5.0}  # as the feed-based reviews kind stores it
    assert message.metadata["review"]["platform"] == platform.kind.value
    assert message.conversation.external_thread_id == platform.review_id(low)
    assert message.author_identity.display_name == "Ana Ruiz"
    assert Message.objects.get(external_id=platform.review_id(high)).metadata["rating"]["value"] == 5

    # Read again, unchanged: nothing new is stored, even from an empty cursor.
    assert _poll(channel, process_payloads) == 0
    channel.refresh_from_db()
    channel.cursor = {}
    channel.save()
    assert _poll(channel, process_payloads) == 0
    assert Message.objects.filter(channel=channel).count() == 2
    channel.refresh_from_db()
    assert channel.last_error == "" and channel.cursor.get("since")


def test_an_edited_review_edits_its_message_and_keeps_the_old_text_and_stars(
    platform, fake, channel, process_payloads
):
    review = platform.add(fake, "Ana Ruiz", 2, "Roaming charges nobody warned me about.")
    _poll(channel, process_payloads)

    platform.edit(fake, review, 4, "Support refunded the roaming charges. Better now.")
    assert _poll(channel, process_payloads) == 1
    message = Message.objects.get(channel=channel, external_id=platform.review_id(review))
    assert message.text == "Support refunded the roaming charges. Better now."
    assert message.metadata["rating"] == {"value": 4, "best": 5.0}
    assert message.edited_at is not None
    (before,) = message.metadata["edits"]
    assert before["text"] == "Roaming charges nobody warned me about."
    assert before["metadata"] == {"rating": {"value": 2, "best": 5.0}}
    assert (
        RawPayload.objects.filter(channel=channel).order_by("-pk").first().status == RawPayload.Status.APPLIED
    )
    assert Message.objects.filter(channel=channel).count() == 1


def test_a_reply_is_published_on_the_review_and_its_delivery_status_comes_back(
    platform, fake, channel, process_payloads, agent_reply
):
    review = platform.add(fake, "Ana Ruiz", 2, "Roaming charges nobody warned me about.")
    _poll(channel, process_payloads)

    reply = agent_reply(channel, "Sorry Ana! We have refunded the charges.")
    assert reply.delivery_status == Message.Delivery.SENT, reply.delivery_error
    assert reply.external_id == f"reply:{platform.review_id(review)}"
    assert platform.reply_text(fake, review) == "Sorry Ana! We have refunded the charges."

    # The next poll reads the review with the brand's reply on it: the reply is delivered (App Store:
    # once Apple has published it), and not stored a second time.
    _poll(channel, process_payloads)
    reply.refresh_from_db()
    if platform.kind == "app_store":
        assert reply.delivery_status == Message.Delivery.SENT
        fake.publish(review)
        _poll(channel, process_payloads)
        reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.DELIVERED
    assert reply.metadata["platform_status"] in ("published", "PUBLISHED")
    assert Message.objects.filter(channel=channel, direction=Message.Direction.OUTBOUND).count() == 1
    assert reply.edited_at is None


def test_a_reply_written_on_the_platform_is_stored_as_the_brands(platform, fake, channel, process_payloads):
    review = platform.add(fake, "Ana Ruiz", 2, "Roaming charges nobody warned me about.")
    # The brand answers in the platform's own console, before CXM ever polled.
    connector = connector_for(platform.kind)
    connector.send(channel, Message(text="Answered from the console."), reply_to=platform.review_id(review))
    if platform.kind == "app_store":
        fake.publish(review)

    _poll(channel, process_payloads)
    conversation = Conversation.objects.get(channel=channel)
    inbound, outbound = conversation.messages.order_by("sent_at")
    assert inbound.external_id == platform.review_id(review)
    assert outbound.direction == Message.Direction.OUTBOUND
    assert outbound.text == "Answered from the console."
    assert outbound.delivery_status == Message.Delivery.DELIVERED


def test_a_rate_limit_backs_the_poll_off_with_the_platforms_delay(platform, fake, channel):
    if platform.kind in ("google_business", "google_play"):
        fake.next_responses.append(fake.rate_limited(retry_after=120))
    else:
        fake.next_responses.append(
            Response(
                429, {"errors": [{"status": "429", "code": "RATE_LIMIT_EXCEEDED"}]}, {"Retry-After": "120"}
            )
        )
    with pytest.raises(RateLimited) as caught:
        channel_poll(channel_id=channel.pk)
    assert caught.value.retry_after == 120
    channel.refresh_from_db()
    assert "rate limit" in channel.last_error and channel.status == Channel.Status.ACTIVE
    assert channel.next_poll_at is not None


def test_an_expired_access_token_is_renewed_once(platform, fake, channel, process_payloads):
    platform.add(fake, "Ana Ruiz", 2, "Roaming charges nobody warned me about.")
    _poll(channel, process_payloads)
    fake.expire_tokens()
    platform.add(fake, "Bo Chen", 5, "Great.")
    assert _poll(channel, process_payloads) == 1
    channel.refresh_from_db()
    assert channel.last_error == ""


def test_refused_credentials_put_the_channel_in_error_with_what_to_do(platform, fake, channel):
    if platform.kind in ("google_business", "google_play"):
        fake.revoked = True
        expected = (
            "Google refused the channel's refresh token (invalid_grant: Token has been expired or revoked.)"
        )
    elif platform.kind == "app_store":
        fake.key_id = "OTHERKEY12"  # the key was revoked in App Store Connect
        expected = "App Store Connect refused the channel's credentials"
    else:
        fake.password = "changed"
        expected = "Trustpilot refused the channel's API key or business user"
    assert channel_poll(channel_id=channel.pk) == 0
    channel.refresh_from_db()
    assert channel.status == Channel.Status.ERROR
    assert expected in channel.last_error and "channel's settings" in channel.last_error


def test_a_malformed_answer_is_explained_and_retried_later(platform, fake, channel):
    fake.next_responses.append(
        Response(200, "<html>Service Unavailable</html>", {"Content-Type": "text/html"})
    )
    with pytest.raises(TransientError):
        channel_poll(channel_id=channel.pk)
    channel.refresh_from_db()
    assert "not JSON" in channel.last_error and channel.error_count == 1


def test_an_unreadable_review_is_rejected_with_the_reason(platform, fake, channel, process_payloads):
    review = platform.add(fake, "Ana Ruiz", 2, "Fine")
    if platform.kind == "google_business":
        review["starRating"] = "STAR_RATING_UNSPECIFIED"
    elif platform.kind == "google_play":
        review["comments"][0]["userComment"]["starRating"] = 0
    elif platform.kind == "app_store":
        review["attributes"]["rating"] = None
    else:
        review["stars"] = "five"
    assert _poll(channel, process_payloads) == 1
    payload = RawPayload.objects.get(channel=channel)
    assert payload.status == RawPayload.Status.REJECTED
    assert "1 to 5" in payload.rejection_reason or "ONE to FIVE" in payload.rejection_reason
    assert not Message.objects.filter(channel=channel).exists()


def test_pages_are_followed_and_the_cursor_stops_the_next_poll_early(
    platform, fake, channel, process_payloads
):
    for attr in ("page_size_cap", "per_page_cap"):
        if hasattr(fake, attr):
            setattr(fake, attr, 2)
    for n in range(3):
        platform.add(fake, f"Reviewer {n}", 4, f"Review number {n}")
    channel.cursor = {"since": "2000-01-01T00:00:00+00:00"}  # not a new channel: every page is read
    channel.save()
    assert _poll(channel, process_payloads) == 3
    listed = len(fake.api_requests("GET"))
    assert listed == 2
    # The next poll reads the first page only: it reaches what the cursor says was seen... within REVISIT,
    # so the newest page is read again and dedupes.
    assert _poll(channel, process_payloads) == 0


def test_test_connection_reads_a_page(platform, fake, channel):
    platform.add(fake, "Ana Ruiz", 2, "Fine")
    assert connector_for(platform.kind).check(channel) == (
        "connected: 1 review(s) on the latest page (nothing was stored)"
    )
    assert RawPayload.objects.count() == 0


def test_a_reply_the_platform_refuses_fails_with_its_reason(
    platform, fake, channel, process_payloads, agent_reply
):
    platform.add(fake, "Ana Ruiz", 2, "Fine")
    _poll(channel, process_payloads)
    if platform.kind == "app_store":
        fake.next_responses.append(
            Response(
                409,
                {
                    "errors": [
                        {
                            "status": "409",
                            "code": "ENTITY_ERROR",
                            "title": "Conflict",
                            "detail": "A response already exists for this review",
                        }
                    ]
                },
            )
        )
        expected = "A response already exists for this review"
    elif platform.kind == "trustpilot":
        fake.next_responses.append(Response(400, {"message": "Review is not eligible for a reply"}))
        expected = "Review is not eligible for a reply"
    else:
        fake.next_responses.append(
            Response(
                400,
                {
                    "error": {
                        "code": 400,
                        "message": "Request contains an invalid argument.",
                        "status": "INVALID_ARGUMENT",
                    }
                },
            )
        )
        expected = "Request contains an invalid argument."
    reply = agent_reply(channel, "Thanks!", deliver=False)
    message_deliver(message_id=reply.pk)
    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.FAILED
    assert expected in reply.delivery_error


def test_a_reply_without_a_review_to_answer_is_refused(platform, channel):
    with pytest.raises(PayloadRejected):
        connector_for(platform.kind).send(channel, Message(text="Hi"), reply_to="")


@pytest.mark.parametrize(
    "platform", [GOOGLE_BUSINESS, GOOGLE_PLAY], ids=["google_business", "google_play"], indirect=True
)
def test_googles_quota_refusal_is_a_rate_limit_not_a_broken_channel(platform, fake, channel):
    # Google's older quota answer: 403 with errors[].reason "quotaExceeded" (a daily quota: wait an hour).
    fake.next_responses.append(
        Response(
            403,
            {
                "error": {
                    "code": 403,
                    "message": "Quota exceeded for quota metric 'Queries' and limit 'Queries per day'.",
                    "errors": [
                        {"message": "Quota exceeded", "domain": "usageLimits", "reason": "quotaExceeded"}
                    ],
                }
            },
        )
    )
    with pytest.raises(RateLimited) as caught:
        channel_poll(channel_id=channel.pk)
    assert caught.value.retry_after == 3600
    channel.refresh_from_db()
    assert channel.status == Channel.Status.ACTIVE and "quota is spent" in channel.last_error


def test_the_conversation_page_shows_the_stars(
    platform, fake, channel, process_payloads, org_a, make_membership, login
):
    platform.add(fake, "Ana Ruiz", 2, "Roaming charges nobody warned me about.")
    _poll(channel, process_payloads)
    agent = login(make_membership(org_a, Role.COMMUNITY_MANAGER))
    page = agent.get(reverse("inbox:conversation", args=[Conversation.objects.get().pk])).content.decode()
    assert 'data-rating="2"' in page and "★ 2/5" in page


@pytest.mark.parametrize("platform", [GOOGLE_BUSINESS], ids=["google_business"], indirect=True)
def test_google_reviews_with_stars_only_anonymous_or_translated(platform, fake, channel, process_payloads):
    stars_only = fake.review("Ana Ruiz", 4)
    anonymous = fake.review("", 1, "Terrible coverage downtown.", anonymous=True)
    translated = fake.review(
        "Jürgen Maier",
        3,
        "(Translated by Google) Okay network, expensive roaming.\n\n(Original)\nOkay Netz, teures Roaming.",
    )
    assert _poll(channel, process_payloads) == 3
    by_id = {m.external_id: m for m in Message.objects.filter(channel=channel)}
    assert by_id[stars_only["name"]].text == "4/5 stars, no written review"
    assert by_id[stars_only["name"]].metadata["rating"]["value"] == 4
    message = by_id[anonymous["name"]]
    assert (
        message.author_identity.display_name == "A Google user" and message.author_identity.avatar_url == ""
    )
    message = by_id[translated["name"]]
    assert message.text == "Okay Netz, teures Roaming." and message.metadata["review"]["translated"] is True
    # Two anonymous reviews are two profiles: Google gives no reviewer id to tell people apart.
    assert len({m.author_identity_id for m in by_id.values()}) == 3


@pytest.mark.parametrize(
    "platform",
    [GOOGLE_BUSINESS, APP_STORE, TRUSTPILOT],
    ids=["google_business", "app_store", "trustpilot"],
    indirect=True,
)
def test_a_review_the_platform_no_longer_lists_is_marked_deleted_by_the_daily_sweep(
    platform, fake, channel, process_payloads
):
    kept = platform.add(fake, "Ana Ruiz", 2, "Roaming charges nobody warned me about.")
    removed = platform.add(fake, "Spam Bot", 1, "Buy followers at spam.example")
    _poll(channel, process_payloads)  # a new channel's first poll: no sweep yet
    channel.refresh_from_db()
    assert "swept_at" not in channel.cursor
    assert _poll(channel, process_payloads) == 0  # the first sweep: it notes what is listed
    channel.refresh_from_db()
    assert sorted(channel.cursor["listed"]) == sorted([platform.review_id(kept), platform.review_id(removed)])

    fake.reviews.remove(removed)  # the platform took it down
    assert _poll(channel, process_payloads) == 0  # swept today already: nothing read beyond the window
    channel.cursor = {**channel.cursor, "swept_at": "2020-01-01T00:00:00+00:00"}
    channel.save()
    assert _poll(channel, process_payloads) == 1
    gone = Message.objects.get(channel=channel, external_id=platform.review_id(removed))
    assert gone.deleted_at is not None and gone.text == "Buy followers at spam.example"  # kept for audit
    assert Message.objects.get(channel=channel, external_id=platform.review_id(kept)).deleted_at is None
    payload = RawPayload.objects.filter(channel=channel).order_by("-pk").first()
    assert payload.status == RawPayload.Status.APPLIED
