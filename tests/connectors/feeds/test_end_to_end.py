"""A feed channel polled by the real service, processed by the real pipeline: rows, threads, idempotency."""

import pytest

from apps.connectors.base import RateLimited
from apps.connectors.kinds import ChannelKind
from apps.connectors.models import Channel
from apps.conversations.models import Conversation, Message
from apps.customers.models import Identity
from apps.ingestion.models import RawPayload
from apps.ingestion.polling import channel_poll
from apps.ingestion.services import payload_process
from tests.fakes.feeds import ATOM, atom10, atom_entry, rss20, rss_item

pytestmark = pytest.mark.django_db

POST = "https://blog.example/2026/11/nimbus-x-review/"


def process_all() -> None:
    # In arrival order, as the workers take them (a batch task processes its payloads by id).
    for payload_id in (
        RawPayload.objects.filter(status=RawPayload.Status.RECEIVED)
        .order_by("pk")
        .values_list("pk", flat=True)
    ):
        payload_process(payload_id=payload_id)


def publish_blog(site) -> None:
    site.publish(
        "/feed/",
        rss20(
            [
                rss_item(
                    2,
                    title="Nimbus X review",
                    link=POST,
                    guid="https://blog.example/?p=2",
                    creator="Editor",
                    content="<p>The <b>Nimbus X</b> is fast.</p>",
                ),
                rss_item(1, title="Hello world", creator="Editor"),
            ]
        ),
    )
    site.publish(
        "/comments/feed/",
        rss20(
            [
                rss_item(
                    11,
                    title="By: Joe",
                    link=f"{POST}#comment-11",
                    guid="https://blog.example/?p=2#c11",
                    creator="Joe",
                    description="Battery life is poor on mine.",
                ),
                rss_item(
                    12,
                    title="By: Maria",
                    link=f"{POST}#comment-12",
                    guid="https://blog.example/?p=2#c12",
                    creator="Maria",
                    description="Mine is fine!",
                ),
            ],
            title="Comments for Nimbus fans blog",
        ),
    )


def test_poll_and_process_make_conversations_once(site, feed_channel):
    publish_blog(site)
    channel = feed_channel("/feed/", "/comments/feed/")

    assert channel_poll(channel_id=channel.pk) == 4
    process_all()

    assert RawPayload.objects.filter(channel=channel, status=RawPayload.Status.PROCESSED).count() == 4
    review = Conversation.objects.get(channel=channel, external_thread_id=POST)
    assert review.subject == "Nimbus X review"
    assert list(review.messages.values_list("text", flat=True)) == [
        "The Nimbus X is fast.",
        "Battery life is poor on mine.",
        "Mine is fine!",
    ]
    assert (
        Conversation.objects.filter(channel=channel).count() == 2
    )  # the review (with comments), hello world
    assert Identity.objects.filter(kind=ChannelKind.FEED, external_id="Joe@127.0.0.1").exists()
    message = Message.objects.get(external_id="https://blog.example/?p=2")
    assert message.metadata["feed_url"] == site.url("/feed/") and message.metadata["link"] == POST
    assert "<b>Nimbus X</b>" in message.html
    channel.refresh_from_db()
    assert set(channel.cursor["feeds"]) == {site.url("/feed/"), site.url("/comments/feed/")}
    assert channel.last_error == "" and channel.last_fetch_at is not None

    # when the site has nothing new (304), a second poll stores and creates nothing
    assert channel_poll(channel_id=channel.pk) == 0
    assert all(
        "if-none-match" in requests[1].headers
        for requests in (site.requests_to("/feed/"), site.requests_to("/comments/feed/"))
    )
    # nor when it ignores the validators and sends everything again
    publish_blog(site)
    for path in ("/feed/", "/comments/feed/"):
        site.paths[path].conditional = False
    assert channel_poll(channel_id=channel.pk) == 0
    process_all()
    assert Message.objects.filter(channel=channel).count() == 4
    assert RawPayload.objects.filter(channel=channel).count() == 4


def test_new_entries_join_on_the_next_poll(site, feed_channel):
    site.publish("/atom.xml", atom10([atom_entry(1)]), ATOM)
    channel = feed_channel("/atom.xml")
    channel_poll(channel_id=channel.pk)
    process_all()
    site.publish(
        "/atom.xml",
        atom10(
            [
                atom_entry(
                    2,
                    author=("Reader", "", ""),
                    in_reply_to=("tag:news.example,2026:article-1", "https://news.example/articles/1"),
                ),
                atom_entry(1),
            ]
        ),
        ATOM,
        last_modified="Fri, 20 Nov 2026 09:00:00 GMT",
    )
    assert channel_poll(channel_id=channel.pk) == 1
    process_all()
    conversation = Conversation.objects.get(channel=channel)
    assert conversation.message_count == 2


def test_reviews_channel_keeps_the_rating(site, feed_channel):
    site.publish("/reviews.rss", rss20([rss_item(1, title="Nimbus X: 2/5, battery dies", creator="Sam")]))
    channel = feed_channel("/reviews.rss", kind=ChannelKind.REVIEWS)
    channel_poll(channel_id=channel.pk)
    process_all()
    message = Message.objects.get(channel=channel)
    assert message.metadata["rating"] == {"value": 2.0, "best": 5.0}
    assert message.author_identity.kind == ChannelKind.REVIEWS


def test_a_feed_that_is_gone_puts_the_channel_in_error(site, feed_channel):
    site.answer("/feed.xml", 404)
    channel = feed_channel("/feed.xml")
    assert channel_poll(channel_id=channel.pk) == 0
    channel.refresh_from_db()
    assert channel.status == Channel.Status.ERROR
    assert channel.last_error == f"feed {site.url('/feed.xml')} was not found (HTTP 404 Not Found)"


def test_a_rate_limited_poll_is_retried_with_the_delay(site, feed_channel):
    site.answer("/feed.xml", 429, "", {"Retry-After": "90"})
    channel = feed_channel("/feed.xml")
    with pytest.raises(RateLimited) as raised:
        channel_poll(channel_id=channel.pk)
    assert raised.value.retry_after == 90
    channel.refresh_from_db()
    assert channel.status == Channel.Status.ACTIVE and channel.error_count == 1
    assert RawPayload.objects.count() == 0
