"""From a stored entry document to the normalised message: text, author, date, thread, rating."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from apps.connectors.base import PayloadRejected
from apps.connectors.feeds.parsers import html_to_text
from apps.connectors.kinds import ChannelKind
from apps.connectors.registry import connector_for
from tests.fakes.feeds import ATOM, atom10, atom_entry, rss20, rss_item

pytestmark = pytest.mark.django_db

REVIEW_NS = 'xmlns:review="http://purl.org/stuff/rev#" xmlns:media="http://search.yahoo.com/mrss/"'


def messages(channel):
    """Poll the channel's feeds and parse every stored item, as the pipeline does."""
    connector = connector_for(channel.kind)
    result = connector.fetch(channel)
    channel.cursor = result.cursor
    return [message for item in result.items for message in connector.parse(channel, item.body, {})]


def test_an_atom_entry_becomes_a_message(site, feed_channel):
    site.publish(
        "/atom.xml",
        atom10(
            [
                atom_entry(
                    3,
                    title="Nimbus &amp; the 5G rollout",
                    content=(
                        "<p>First <b>paragraph</b> &amp; more.</p><script>alert(1)</script>"
                        "<p>Second<br>line</p><ul><li>one</li><li>two</li></ul>"
                    ),
                    categories=("networks", "5G"),
                )
            ]
        ),
        ATOM,
    )
    [message] = messages(feed_channel("/atom.xml"))

    assert message.external_id == "tag:news.example,2026:article-3"
    assert message.thread_key == "https://news.example/articles/3"
    assert message.in_reply_to == ""
    assert message.subject == "Nimbus &amp; the 5G rollout"  # type="text": the title is literally that
    assert message.text == "First paragraph & more.\n\nSecond\nline\n\none\ntwo"
    assert "<b>paragraph</b>" in message.html and "script" not in message.html
    assert message.sent_at == datetime(2026, 11, 3, 7, 30, tzinfo=UTC)
    assert message.language == "en"
    author = message.author
    assert (author.external_id, author.display_name, author.profile_url, author.email) == (
        "https://ana.example/",
        "Ana Souza",
        "https://ana.example/",
        "ana@example.com",
    )
    assert not author.email_verified
    assert message.metadata == {
        "feed_url": site.url("/atom.xml"),
        "feed_title": "Phone news",
        "link": "https://news.example/articles/3",
        "tags": ["networks", "5G"],
    }


def test_rss_item_text_comes_from_the_full_content_or_the_description(site, feed_channel):
    site.publish(
        "/feed.xml",
        rss20(
            [
                rss_item(1, description="<p>Teaser</p>", content="<p>The <em>whole</em> post</p>"),
                rss_item(2, description="Just &lt;plain&gt; words &amp; an entity: caf&#233;"),
            ]
        ),
    )
    first, second = messages(feed_channel("/feed.xml"))
    assert first.text == "The whole post" and first.html == "<p>The <em>whole</em> post</p>"
    assert first.subject == "Post number 1"
    assert first.sent_at == datetime(2026, 11, 1, 10, 0, tzinfo=UTC)
    assert second.text == "Just <plain> words & an entity: café"


@pytest.mark.parametrize(
    "author, creator, external_id, name, email",
    [
        ("ana@example.com (Ana Souza)", None, "Ana Souza@127.0.0.1", "Ana Souza", "ana@example.com"),
        (None, "maria", "maria@127.0.0.1", "maria", ""),
        ("not-an-email", None, "not-an-email@127.0.0.1", "not-an-email", ""),
    ],
)
def test_rss_authors(site, feed_channel, author, creator, external_id, name, email):
    site.publish("/feed.xml", rss20([rss_item(1, author=author, creator=creator)]))
    [message] = messages(feed_channel("/feed.xml"))
    assert (message.author.external_id, message.author.display_name, message.author.email) == (
        external_id,
        name,
        email,
    )


def test_an_entry_without_author_is_said_by_the_site(site, feed_channel):
    site.publish("/feed.xml", rss20([rss_item(1)], title="Daily Phone News", link="https://daily.example/"))
    [message] = messages(feed_channel("/feed.xml"))
    assert message.author.external_id == "127.0.0.1"
    assert message.author.display_name == "Daily Phone News"
    assert message.author.profile_url == "https://daily.example/"


def test_a_reply_entry_threads_to_its_parent(site, feed_channel):
    """RFC 4685: thr:in-reply-to names the parent's id (ref) and its page (href)."""
    site.publish(
        "/atom.xml",
        atom10(
            [
                atom_entry(1),
                atom_entry(
                    2,
                    link="https://news.example/articles/1#comment-2",
                    in_reply_to=("tag:news.example,2026:article-1", "https://news.example/articles/1"),
                ),
            ]
        ),
        ATOM,
    )
    post, comment = messages(feed_channel("/atom.xml"))
    assert post.thread_key == comment.thread_key == "https://news.example/articles/1"
    assert comment.in_reply_to == "tag:news.example,2026:article-1" == post.external_id


def test_a_wordpress_comments_feed_threads_to_the_post(site, feed_channel):
    post_link = "https://blog.example/2026/11/nimbus-review/"
    site.publish(
        "/comments.xml",
        rss20(
            [
                rss_item(
                    7, title="By: Joe", link=f"{post_link}#comment-7", guid="https://blog.example/?p=1#c7"
                ),
                rss_item(8, title="By: Ana", link="", guid="https://blog.example/?p=1#c8"),
            ],
            title="Comments on: Nimbus review",
            link=post_link,
        ),
    )
    first, second = messages(feed_channel("/comments.xml"))
    assert first.thread_key == post_link  # the comment link without its #comment-7
    assert second.thread_key == post_link  # no link: a one-post comments feed links its post


def test_reviews_keep_a_rating_from_an_extension_element(site, feed_channel):
    site.publish(
        "/reviews.xml",
        rss20(
            [
                rss_item(1, title="Great phone", extra="<review:rating>4</review:rating>"),
                rss_item(2, title="Meh", extra="<rating>2.5/5</rating>"),
                rss_item(
                    3, title="Loved it", extra='<media:starRating average="4.5" count="3" min="1" max="5"/>'
                ),
                rss_item(4, title="Solid, 8/10 would buy again"),
                rss_item(5, title="★★★☆☆ okay-ish"),
                rss_item(6, title="Open 24/7 and 1/2 price"),
            ],
            namespaces=REVIEW_NS,
        ),
    )
    ratings = [
        message.metadata.get("rating") for message in messages(feed_channel("/reviews.xml", kind="reviews"))
    ]
    assert ratings == [
        {"value": 4.0},
        {"value": 2.5, "best": 5.0},
        {"value": 4.5, "best": 5.0},
        {"value": 8.0, "best": 10.0},
        {"value": 3.0, "best": 5.0},
        None,
    ]


def test_only_reviews_read_a_rating_in_the_title(site, feed_channel):
    site.publish(
        "/feed.xml",
        rss20([rss_item(1, title="Nimbus X scores 4/5"), rss_item(2, extra="<rating>5</rating>")]),
    )
    for kind, expected in [
        (ChannelKind.REVIEWS, [{"value": 4.0, "best": 5.0}, {"value": 5.0}]),
        (ChannelKind.FORUM, [None, {"value": 5.0}]),
        (ChannelKind.FEED, [None, {"value": 5.0}]),
    ]:
        channel = feed_channel("/feed.xml", kind=kind)
        assert [message.metadata.get("rating") for message in messages(channel)] == expected


def test_dates(site, feed_channel):
    future = (datetime.now(UTC) + timedelta(days=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    site.publish("/feed.xml", rss20([rss_item(1, pub_date=future)]))
    site.publish("/undated.xml", rss20([rss_item(1, pub_date="")]))
    [scheduled] = messages(feed_channel("/feed.xml"))
    [undated] = messages(feed_channel("/undated.xml"))
    now = datetime.now(UTC)
    assert now - timedelta(minutes=1) < scheduled.sent_at <= now  # never in the future
    assert now - timedelta(minutes=1) < undated.sent_at <= now


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"not json", "malformed JSON"),
        (b"[]", "not a feed entry document"),
        (json.dumps({"v": 1, "feed": {}}).encode(), "not a feed entry document"),
        (json.dumps({"v": 99, "feed": {}, "entry": {}}).encode(), "unknown feed entry document version 99"),
    ],
)
def test_a_payload_that_is_not_an_entry_document_is_rejected(brand, body, reason):
    with pytest.raises(PayloadRejected, match=reason):
        connector_for(ChannelKind.FEED).parse(None, body, {})


@pytest.mark.parametrize(
    "html, text",
    [
        ("", ""),
        ("plain words", "plain words"),
        ("<p>a</p><p>b</p>", "a\n\nb"),
        ("<div>  spaced \n\t out  </div>", "spaced out"),
        ("x<br/>y<br>z", "x\ny\nz"),
        ("<style>p{}</style><p>kept</p><script>gone()</script>", "kept"),
        ("<p>&lt;tag&gt; &amp; &eacute; &#8364;</p>", "<tag> & é €"),
        ("<table><tr><td>a</td><td>b</td></tr></table>", "a b"),
    ],
)
def test_html_to_text(html, text):
    assert html_to_text(html) == text
