"""Polling feeds over real HTTP: formats, encodings, broken and hostile documents, HTTP semantics."""

import json
import time

import pytest

from apps.connectors.base import PayloadRejected, RateLimited, TransientError
from apps.connectors.feeds import client as feed_client_module
from apps.connectors.feeds.connector import FeedConnector, ForumFeedConnector, ReviewsFeedConnector
from apps.connectors.kinds import ChannelKind
from apps.connectors.registry import connector_for
from tests.fakes.feeds import (
    ATOM,
    HTML_PAGE,
    RDF,
    atom10,
    atom_entry,
    billion_laughs,
    rdf10,
    rss20,
    rss_item,
)

pytestmark = pytest.mark.django_db


def poll(channel):
    """One poll, keeping the cursor as channel_poll would."""
    result = connector_for(channel.kind).fetch(channel)
    channel.cursor = result.cursor
    return result.items


def documents(items):
    return [json.loads(item.body) for item in items]


def test_the_three_feed_kinds_have_connectors_that_poll():
    assert isinstance(connector_for(ChannelKind.FEED), FeedConnector)
    assert isinstance(connector_for(ChannelKind.FORUM), ForumFeedConnector)
    assert isinstance(connector_for(ChannelKind.REVIEWS), ReviewsFeedConnector)
    assert all(
        connector_for(kind).polls for kind in (ChannelKind.FEED, ChannelKind.FORUM, ChannelKind.REVIEWS)
    )


def test_rss20_feed_gives_one_item_per_entry(site, feed_channel):
    site.publish(
        "/feed.xml",
        rss20([rss_item(1, guid="post-1"), rss_item(2), rss_item(3, guid="https://blog.example/?p=3")]),
    )
    channel = feed_channel("/feed.xml")

    items = poll(channel)

    assert [item.content_type for item in items] == ["application/json"] * 3
    assert [item.external_id for item in items] == [
        f"{site.url('/feed.xml')}#post-1",  # a bare guid is only unique within its feed
        "https://blog.example/posts/2",  # no guid: the link (RSS guids default to the permalink)
        "https://blog.example/?p=3",
    ]
    first = documents(items)[0]
    assert first["feed"] == {
        "url": site.url("/feed.xml"),
        "fetched_url": site.url("/feed.xml"),
        "title": "Nimbus fans blog",
        "link": "https://blog.example/",
        "format": "rss20",
        "language": "en-us",
        "author": None,
    }
    assert first["entry"]["title"] == "Post number 1"
    assert first["entry"]["published"] == "2026-11-01T10:00:00+00:00"
    request = site.requests_to("/feed.xml")[0]
    assert "application/rss+xml" in request.headers["accept"]
    assert "if-none-match" not in request.headers


def test_atom10_feed(site, feed_channel):
    site.publish("/atom.xml", atom10([atom_entry(1), atom_entry(2)]), ATOM)
    items = poll(feed_channel("/atom.xml"))
    assert [item.external_id for item in items] == [
        "tag:news.example,2026:article-1",
        "tag:news.example,2026:article-2",
    ]
    entry = documents(items)[0]["entry"]
    assert entry["author"] == {
        "name": "Ana Souza",
        "href": "https://ana.example/",
        "email": "ana@example.com",
    }
    assert entry["published"] == "2026-11-01T07:30:00+00:00"
    assert entry["content"] == [{"type": "text/html", "value": "<p>Body of 1</p>"}]


def test_rss10_rdf_feed(site, feed_channel):
    site.publish(
        "/rss",
        rdf10(
            [
                (
                    "https://forum.example/t/1",
                    "Battery drain",
                    "My Nimbus dies by noon",
                    "maria",
                    "2026-11-19T10:00:00Z",
                ),
                (
                    "https://forum.example/t/2",
                    "Roaming",
                    "Works fine in Spain",
                    "joe",
                    "2026-11-19T11:00:00+02:00",
                ),
            ]
        ),
        RDF,
    )
    items = poll(feed_channel("/rss", kind=ChannelKind.FORUM))
    entries = [document["entry"] for document in documents(items)]
    assert [item.external_id for item in items] == ["https://forum.example/t/1", "https://forum.example/t/2"]
    assert documents(items)[0]["feed"]["format"] == "rss10"
    assert [entry["author"]["name"] for entry in entries] == ["maria", "joe"]
    assert [entry["updated"] for entry in entries] == [
        "2026-11-19T10:00:00+00:00",
        "2026-11-19T09:00:00+00:00",
    ]


def test_iso_8859_1_declared_in_the_prolog(site, feed_channel):
    body = rss20(
        [rss_item(1, title="Crème brûlée à Zürich", description="Ça coûte très cher, señor")],
        title="Café Nimbus",
        encoding="ISO-8859-1",
    )
    assert "é".encode("iso-8859-1") in body and "é".encode() not in body
    site.publish("/latin1.xml", body, "application/rss+xml")  # no charset: the prolog decides
    document = documents(poll(feed_channel("/latin1.xml")))[0]
    assert document["feed"]["title"] == "Café Nimbus"
    assert document["entry"]["title"] == "Crème brûlée à Zürich"
    assert document["entry"]["summary"] == "Ça coûte très cher, señor"


def test_malformed_xml_still_gives_its_entries(site, feed_channel):
    body = (
        rss20([rss_item(1), rss_item(2)])
        .replace(b"&lt;p&gt;Summary 2&lt;/p&gt;", b"Summary 2<br>more")  # an unclosed tag
        .replace(b"</channel>\n</rss>\n", b"")  # and the document is cut short
    )
    site.publish("/broken.xml", body)
    items = poll(feed_channel("/broken.xml"))
    assert [item.external_id for item in items] == [
        "https://blog.example/posts/1",
        "https://blog.example/posts/2",
    ]
    assert documents(items)[1]["entry"]["summary"] == "Summary 2<br />more"


@pytest.mark.parametrize(
    "body, content_type, why",
    [
        (HTML_PAGE.encode(), "text/html; charset=utf-8", "it is an HTML page (Content-Type: text/html"),
        (b"<html><body>Hello</body></html>", "", "it is an HTML page (Content-Type: none)"),
        (b'<?xml version="1.0"?><catalog><book id="1"/></catalog>', "application/xml", "no <rss>, <rdf:RDF>"),
        (b"\x00\x01\x02 random garbage {]", "application/octet-stream", "not well-formed"),
        (b"", "application/rss+xml", "the response is empty"),
        (b'{"items": []}', "application/json", "not well-formed"),
        (b"/etc/passwd", "text/plain", "not well-formed"),
        (b"{site}/secret.xml", "text/plain", "not well-formed"),
    ],
)
def test_what_is_not_a_feed_is_rejected_with_a_reason(site, feed_channel, body, content_type, why):
    site.publish("/secret.xml", rss20([rss_item(1)]))
    site.publish("/feed", body.replace(b"{site}", site.url("").encode()), content_type)
    with pytest.raises(PayloadRejected) as rejected:
        poll(feed_channel("/feed"))
    assert f"{site.url('/feed')} is not an RSS or Atom feed: " in rejected.value.reason
    assert why in rejected.value.reason
    # feedparser is handed a stream: a body naming a file or a URL is never opened
    assert len(site.requests) == 1


def test_an_html_page_rejection_points_to_the_feed_it_advertises(site, feed_channel):
    site.publish("/", HTML_PAGE, "text/html")
    with pytest.raises(PayloadRejected, match=r"advertises a feed at http://127\.0\.0\.1:\d+/feed\.xml"):
        poll(feed_channel("/"))


def test_second_poll_is_conditional_and_a_304_brings_nothing(site, feed_channel):
    site.publish("/feed.xml", rss20([rss_item(1)]))
    channel = feed_channel("/feed.xml")
    assert len(poll(channel)) == 1
    state = channel.cursor["feeds"][site.url("/feed.xml")]
    assert state == {"etag": site.etag("/feed.xml"), "last_modified": "Wed, 18 Nov 2026 09:00:00 GMT"}

    assert poll(channel) == []

    second = site.requests_to("/feed.xml")[1]
    assert second.headers["if-none-match"] == site.etag("/feed.xml")
    assert second.headers["if-modified-since"] == "Wed, 18 Nov 2026 09:00:00 GMT"
    assert channel.cursor["feeds"][site.url("/feed.xml")] == state


def test_a_changed_feed_is_fetched_again_with_new_validators(site, feed_channel):
    site.publish("/feed.xml", rss20([rss_item(1)]))
    channel = feed_channel("/feed.xml")
    poll(channel)
    site.publish(
        "/feed.xml", rss20([rss_item(2), rss_item(1)]), last_modified="Thu, 19 Nov 2026 09:00:00 GMT"
    )
    items = poll(channel)
    assert len(items) == 2  # the old entry too: storing it again is a no-op (same external id)
    assert channel.cursor["feeds"][site.url("/feed.xml")]["etag"] == site.etag("/feed.xml")


def test_permanent_redirect_is_remembered(site, feed_channel):
    site.publish("/new/feed.xml", rss20([rss_item(1)]))
    site.redirect("/old/feed.xml", "/new/feed.xml", 301)
    channel = feed_channel("/old/feed.xml")

    items = poll(channel)

    assert len(items) == 1
    assert documents(items)[0]["feed"]["url"] == site.url(
        "/old/feed.xml"
    )  # ids stay those of the channel's URL
    state = channel.cursor["feeds"][site.url("/old/feed.xml")]
    assert state["url"] == site.url("/new/feed.xml")
    poll(channel)
    assert len(site.requests_to("/old/feed.xml")) == 1
    assert site.requests_to("/new/feed.xml")[1].headers["if-none-match"] == site.etag("/new/feed.xml")


def test_a_remembered_url_that_disappears_is_given_up_for_the_configured_one(site, feed_channel):
    site.publish("/new/feed.xml", rss20([rss_item(1)]))
    site.redirect("/old/feed.xml", "/new/feed.xml", 301)
    channel = feed_channel("/old/feed.xml")
    poll(channel)
    site.publish("/old/feed.xml", rss20([rss_item(2)]))  # the move was undone
    site.answer("/new/feed.xml", 404)

    items = poll(channel)

    assert [item.external_id for item in items] == ["https://blog.example/posts/2"]
    assert channel.cursor["feeds"][site.url("/old/feed.xml")] == {
        "etag": site.etag("/old/feed.xml"),
        "last_modified": "Wed, 18 Nov 2026 09:00:00 GMT",
    }
    assert "if-none-match" not in site.requests_to("/old/feed.xml")[1].headers


def test_temporary_redirect_is_followed_but_not_remembered(site, feed_channel):
    site.publish("/today.xml", rss20([rss_item(1)]))
    site.redirect("/feed.xml", "/today.xml", 302)
    channel = feed_channel("/feed.xml")
    assert len(poll(channel)) == 1
    assert "url" not in channel.cursor["feeds"][site.url("/feed.xml")]
    poll(channel)
    assert len(site.requests_to("/feed.xml")) == 2


def test_redirect_loop_is_rejected(site, feed_channel):
    site.redirect("/a", "/b")
    site.redirect("/b", "/a")
    with pytest.raises(PayloadRejected, match="redirects more than 5 times"):
        poll(feed_channel("/a"))


@pytest.mark.parametrize(
    "status, headers, error, retry_after",
    [
        (429, {"Retry-After": "120"}, RateLimited, 120),
        (429, {}, RateLimited, None),
        (503, {"Retry-After": "30"}, RateLimited, 30),
        (503, {}, TransientError, None),
        (500, {}, TransientError, None),
        (502, {}, TransientError, None),
    ],
)
def test_server_trouble_is_retried_later(site, feed_channel, status, headers, error, retry_after):
    site.answer("/feed.xml", status, "busy", headers)
    with pytest.raises(error) as raised:
        poll(feed_channel("/feed.xml"))
    assert type(raised.value) is error
    assert raised.value.retry_after == retry_after
    assert site.url("/feed.xml") in raised.value.reason


def test_retry_after_as_an_http_date(site, feed_channel):
    from email.utils import formatdate

    site.answer("/feed.xml", 429, "", {"Retry-After": formatdate(time.time() + 600, usegmt=True)})
    with pytest.raises(RateLimited) as raised:
        poll(feed_channel("/feed.xml"))
    assert 590 <= raised.value.retry_after <= 600


@pytest.mark.parametrize(
    "status, says", [(404, "was not found"), (410, "is gone for good"), (403, "refused")]
)
def test_a_missing_feed_is_rejected_naming_its_url(site, feed_channel, status, says):
    site.answer("/feed.xml", status, "<html>nope</html>", {"Content-Type": "text/html"})
    with pytest.raises(PayloadRejected) as rejected:
        poll(feed_channel("/feed.xml"))
    assert rejected.value.reason.startswith(f"feed {site.url('/feed.xml')} {says}")


def test_network_failure_is_transient(feed_channel, brand):
    import socket

    from tests.factories import ChannelFactory

    with socket.socket() as sock:  # a port that nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    channel = ChannelFactory(
        brand=brand, kind=ChannelKind.FEED, settings={"feeds": [f"http://127.0.0.1:{port}/f"]}
    )
    with pytest.raises(TransientError, match="could not be reached"):
        poll(channel)


def test_a_body_over_10_mb_is_rejected(site, feed_channel):
    item = rss_item(1, description="x" * 1000)
    site.publish("/huge.xml", rss20([item] * 10_600))
    with pytest.raises(PayloadRejected, match=r"is too large \(1\d,\d{3},\d{3} bytes; at most 10,485,760\)"):
        poll(feed_channel("/huge.xml"))


def test_a_small_gzip_body_that_inflates_over_10_mb_is_rejected(site, feed_channel):
    site.publish("/bomb.xml.gz", rss20([rss_item(1, description=" " * 11_000_000)]), gzipped=True)
    assert len(site.paths["/bomb.xml.gz"].body) < 100_000
    with pytest.raises(PayloadRejected, match=r"is too large \(more than 10,485,760 bytes\)"):
        poll(feed_channel("/bomb.xml.gz"))


def test_size_limit_is_not_tripped_by_ordinary_feeds(site, feed_channel, monkeypatch):
    site.publish("/feed.xml", rss20([rss_item(1)]))
    monkeypatch.setattr(feed_client_module, "MAX_FEED_BYTES", 100)
    with pytest.raises(PayloadRejected, match="too large"):
        poll(feed_channel("/feed.xml"))
    monkeypatch.undo()
    assert len(poll(feed_channel("/feed.xml"))) == 1


def test_billion_laughs_does_not_expand(site, feed_channel):
    site.publish("/bomb.xml", billion_laughs())
    started = time.monotonic()
    items = poll(feed_channel("/bomb.xml"))
    assert time.monotonic() - started < 2
    assert len(items) == 1
    assert len(items[0].body) < 2000  # the entity was not expanded (10^10 "lol"s would be 30 GB)
    assert "lollol" not in items[0].body.decode()


def test_external_entities_are_not_resolved(site, feed_channel):
    body = (
        b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY secret SYSTEM "file:///etc/passwd">\n]>\n'
        b'<rss version="2.0"><channel><title>X</title><item><guid>x-1</guid><title>&secret;</title>'
        b"</item></channel></rss>"
    )
    site.publish("/xxe.xml", body)
    body_text = poll(feed_channel("/xxe.xml"))[0].body.decode()
    assert "root:" not in body_text


def test_keywords_true_keeps_entries_mentioning_the_brand(site, feed_channel):
    site.publish(
        "/feed.xml",
        rss20(
            [
                rss_item(1, title="Loving my NIMBUS phone"),  # keyword, any case
                rss_item(2, description="<p>Thanks <b>@nimbus</b> for the fix</p>"),  # handle, in the HTML
                rss_item(3, title="Nimbuses are clouds"),  # not the whole word
                rss_item(4, title="Unrelated", categories=("nimbus mobile",)),  # a category
                rss_item(5, title="Weather today", content="<p>cumulonimbus clouds</p>"),
            ]
        ),
    )
    items = poll(feed_channel("/feed.xml", keywords=True))
    assert [item.external_id.rsplit("/", 1)[1] for item in items] == ["1", "2", "4"]


def test_keywords_list_and_no_filter(site, feed_channel):
    site.publish("/feed.xml", rss20([rss_item(1, title="Rival Co is fine"), rss_item(2, title="Nimbus")]))
    assert len(poll(feed_channel("/feed.xml", keywords=["rival co"]))) == 1
    assert len(poll(feed_channel("/feed.xml"))) == 2
    assert len(poll(feed_channel("/feed.xml", keywords=[]))) == 2


def test_one_failing_feed_does_not_stop_the_others(site, feed_channel):
    site.publish("/good.xml", rss20([rss_item(1)]))
    site.answer("/busy.xml", 503, "", {"Retry-After": "300"})
    site.answer("/gone.xml", 410)
    channel = feed_channel("/good.xml", "/busy.xml", "/gone.xml")

    items = poll(channel)

    assert len(items) == 1
    feeds = channel.cursor["feeds"]
    assert "error" not in feeds[site.url("/good.xml")]
    assert "rate limited" in feeds[site.url("/busy.xml")]["error"]
    assert "retry_at" in feeds[site.url("/busy.xml")]
    assert "is gone for good" in feeds[site.url("/gone.xml")]["error"]
    # next poll: the rate-limited feed is left alone until its Retry-After has passed
    poll(channel)
    assert len(site.requests_to("/busy.xml")) == 1
    assert len(site.requests_to("/gone.xml")) == 2


def test_when_every_feed_fails_the_poll_fails(site, feed_channel):
    site.answer("/a.xml", 404)
    site.answer("/b.xml", 500)
    with pytest.raises(TransientError) as raised:  # one of them may work next time: retry
        poll(feed_channel("/a.xml", "/b.xml"))
    assert site.url("/a.xml") in raised.value.reason and site.url("/b.xml") in raised.value.reason

    site.answer("/b.xml", 410)
    with pytest.raises(PayloadRejected) as rejected:
        poll(feed_channel("/a.xml", "/b.xml"))
    assert "was not found" in rejected.value.reason and "is gone for good" in rejected.value.reason


@pytest.mark.parametrize(
    "settings, reason",
    [
        ({}, "channel settings need 'feeds'"),
        ({"feeds": []}, "channel settings need 'feeds'"),
        ({"feeds": ["ftp://example.com/feed"]}, "is not an http:// or https:// URL"),
        ({"feeds": [f"https://example.com/{n}" for n in range(21)]}, "at most 20 feeds per channel"),
    ],
)
def test_bad_settings_are_rejected(brand, settings, reason):
    from tests.factories import ChannelFactory

    channel = ChannelFactory(brand=brand, kind=ChannelKind.FEED, settings=settings)
    with pytest.raises(PayloadRejected, match=reason):
        poll(channel)


def test_a_very_long_id_is_hashed(site, feed_channel):
    site.publish("/feed.xml", rss20([rss_item(1, guid="urn:x:" + "a" * 600)]))
    [item] = poll(feed_channel("/feed.xml"))
    assert item.external_id.startswith("sha256:") and len(item.external_id) == 71


def test_feeds_cannot_be_replied_to(brand):
    from tests.factories import ChannelFactory

    channel = ChannelFactory(
        brand=brand, kind=ChannelKind.REVIEWS, settings={"feeds": ["https://x.example/"]}
    )
    with pytest.raises(PayloadRejected, match="replies are not possible on RSS/Atom feeds"):
        connector_for(ChannelKind.REVIEWS).send(channel, message=None)
