import json

import pytest
from django.urls import reverse

from apps.accounts.models import Role
from apps.connectors.kinds import ChannelKind
from apps.ingestion.models import RawPayload
from apps.ingestion.services import payload_process, payload_receive
from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db


def test_admin_sees_health_rejections_and_replays(
    org_a, brand_a, brand_b, make_membership, login, django_capture_on_commit_callbacks
):
    channel = ChannelFactory(
        brand=brand_a, kind=ChannelKind.WEBHOOK, credentials={"signing_secret": "s3cr3t-value"}
    )
    payload = payload_receive(channel=channel, source="webhook", body=b'{"id": "broken"').payload
    payload_process(payload_id=payload.pk)
    client = login(make_membership(org_a, Role.ADMIN))

    listing = client.get(reverse("connectors:list")).content.decode()
    assert channel.name in listing
    page = client.get(reverse("connectors:detail", args=[channel.pk])).content.decode()
    assert "malformed JSON" in page and channel.webhook_token in page
    assert "s3cr3t-value" not in page and "••••alue" in page

    payload.body = json.dumps({"id": "fixed", "text": "hi", "author": {"id": "u"}}).encode()
    payload.save()
    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("connectors:replay", args=[payload.pk]))
    payload.refresh_from_db()
    assert payload.status == RawPayload.Status.RECEIVED

    client.post(reverse("connectors:status", args=[channel.pk]), {"status": "paused"})
    channel.refresh_from_db()
    assert channel.status == "paused"

    other = ChannelFactory(brand=brand_b)
    assert client.get(reverse("connectors:detail", args=[other.pk])).status_code == 404


def test_channel_pages_are_for_admins_only(org_a, brand_a, make_membership, login):
    channel = ChannelFactory(brand=brand_a)
    client = login(make_membership(org_a, Role.COMMUNITY_MANAGER))
    assert client.get(reverse("connectors:detail", args=[channel.pk])).status_code == 403


def test_testing_a_channel_reports_its_state_and_stores_nothing(org_a, brand_a, make_membership, login):
    from tests.fakes.http import FakeHTTPServer

    client = login(make_membership(org_a, Role.ADMIN))
    unsigned = ChannelFactory(brand=brand_a, kind=ChannelKind.WEBHOOK)
    page = client.post(reverse("connectors:test", args=[unsigned.pk]), follow=True).content.decode()
    assert "no signing secret configured" in page
    ready = ChannelFactory(brand=brand_a, kind=ChannelKind.WEBHOOK, credentials={"signing_secret": "x"})
    page = client.post(reverse("connectors:test", args=[ready.pk]), follow=True).content.decode()
    assert "webhook ready" in page

    server = FakeHTTPServer()
    server.route(
        "GET",
        "/feed.xml",
        lambda request: (
            200,
            "<rss version='2.0'><channel><title>t</title>"
            "<item><guid>1</guid><title>Nimbus</title></item>"
            "</channel></rss>",
            {"Content-Type": "application/rss+xml"},
        ),
    )
    with server:
        feed = ChannelFactory(
            brand=brand_a, kind=ChannelKind.FEED, settings={"feeds": [f"{server.url}/feed.xml"]}
        )
        page = client.post(reverse("connectors:test", args=[feed.pk]), follow=True).content.decode()
    assert "connected: 1 new item(s)" in page
    feed.refresh_from_db()
    assert feed.cursor == {} and not RawPayload.objects.filter(channel=feed).exists()


def test_feeds_on_internal_addresses_are_refused(brand_a, settings):
    from apps.connectors.services import channel_test

    settings.CXM_ALLOW_PRIVATE_DESTINATIONS = False
    for url in [
        "http://127.0.0.1:9/feed.xml",
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost/x",
    ]:
        feed = ChannelFactory(brand=brand_a, kind=ChannelKind.FEED, settings={"feeds": [url]})
        ok, reason = channel_test(channel=feed)
        assert not ok and "private, loopback or reserved address" in reason, reason


def test_one_failing_feed_of_several_shows_on_the_channel_page(org_a, brand_a, make_membership, login):
    feed = ChannelFactory(
        brand=brand_a,
        kind=ChannelKind.FEED,
        settings={"feeds": ["https://a.example/f"]},
        cursor={"feeds": {"https://a.example/f": {"error": "HTTP 410: the feed is gone"}}},
    )
    page = login(make_membership(org_a, Role.ADMIN)).get(reverse("connectors:detail", args=[feed.pk]))
    assert "https://a.example/f: HTTP 410: the feed is gone" in page.content.decode()
