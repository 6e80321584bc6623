"""The Bluesky connector against a fake PDS: sessions, notifications, search, profiles, errors, parsing."""

import json

import pytest

from apps.connectors.base import PayloadRejected, RateLimited, TransientError
from apps.connectors.bluesky import connector as bluesky_module
from apps.connectors.bluesky.connector import BlueskyConnector
from apps.connectors.models import Channel
from apps.connectors.registry import connector_for
from apps.ingestion.polling import channel_poll
from tests.fakes.http import Response

pytestmark = pytest.mark.django_db

ROOT = "at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3l6oveex3ii2l"
PARENT = "at://did:plc:4ll2ccmplp4dd3emqkqtrfb6/app.bsky.feed.post/3l6ovlqqj4k2f"
# A reply notification as app.bsky.notification.listNotifications documents it, with the author's
# detailed profile (app.bsky.actor.getProfiles) that the connector adds.
DOCUMENTED_NOTIFICATION = {
    "post": {
        "uri": "at://did:plc:44ybard66vv44zksje25o7dz/app.bsky.feed.post/3l6ox3ftjzt2z",
        "cid": "bafyreig4w6gstnafdmunx4fpdkhxw5tvx7tnidgkabmizxcyah7hytsqnu",
        "author": {
            "did": "did:plc:44ybard66vv44zksje25o7dz",
            "handle": "ana.bsky.social",
            "displayName": "Ana",
            "avatar": "https://cdn.bsky.app/img/avatar/plain/did:plc:44ybard66vv44zksje25o7dz/bafkreif@jpeg",
            "labels": [],
        },
        "record": {
            "$type": "app.bsky.feed.post",
            "text": "@nimbus.bsky.social still no signal in Lyon 😕",
            "createdAt": "2024-10-21T09:14:12.345Z",
            "langs": ["fr"],
            "reply": {
                "root": {"uri": ROOT, "cid": "bafyreibh3ufrevgljzquq3hsv4wutxydyw2y2oblwgqwk2x4vaaz3qxzma"},
                "parent": {
                    "uri": PARENT,
                    "cid": "bafyreiftkbwgqd3gqcfbxcm5dcppwg6q4fu2cvrpzhmndkr6hyhyvvlrue",
                },
            },
        },
        "indexedAt": "2024-10-21T09:14:13.100Z",
    },
    "reason": "reply",
    "author_profile": {
        "did": "did:plc:44ybard66vv44zksje25o7dz",
        "handle": "ana.bsky.social",
        "displayName": "Ana Example",
        "followersCount": 777,
        "followsCount": 120,
        "postsCount": 950,
        "verification": {"verifications": [], "verifiedStatus": "valid", "trustedVerifierStatus": "none"},
    },
    "brand_did": "did:plc:brandbrandbrandbrandbran",
}


def test_the_connector_is_registered_for_bluesky():
    assert isinstance(connector_for("bluesky"), BlueskyConnector)


def test_a_first_poll_logs_in_and_reads_notifications_search_and_profiles(bluesky_channel, fake_bluesky):
    ana = fake_bluesky.add_actor("ana.bsky.social", display_name="Ana", followers=777)
    mention = fake_bluesky.post(ana, "@nimbus.bsky.social my bill doubled")
    about = fake_bluesky.post(ana, "Nimbus has the best coverage in Lyon")
    fake_bluesky.notify(ana, fake_bluesky.post(fake_bluesky.brand, "Hello Bluesky"), "like")

    result = BlueskyConnector().fetch(bluesky_channel)

    assert sorted(i.external_id for i in result.items) == sorted([mention["uri"], about["uri"]])
    (login,) = fake_bluesky.calls("com.atproto.server.createSession")
    assert login.json() == {"identifier": "nimbus.bsky.social", "password": "abcd-efgh-ijkl-mnop"}
    (notifications,) = fake_bluesky.calls("app.bsky.notification.listNotifications")
    assert notifications.headers["authorization"] == f"Bearer {next(iter(fake_bluesky.access))}"
    assert notifications.query == {"reasons": ["mention", "reply", "quote"], "limit": ["100"]}
    (search,) = fake_bluesky.calls("app.bsky.feed.searchPosts")
    assert search.query == {"q": ["Nimbus"], "sort": ["latest"], "limit": ["100"]}
    (profiles,) = fake_bluesky.calls("app.bsky.actor.getProfiles")
    assert profiles.query == {"actors": [ana["did"]]}
    body = json.loads(next(i for i in result.items if i.external_id == mention["uri"]).body)
    assert body["reason"] == "mention" and body["post"]["cid"] == mention["cid"]
    assert body["author_profile"]["followersCount"] == 777 and body["brand_did"] == fake_bluesky.brand["did"]
    assert result.cursor["notifications"] == {"seen": [mention["uri"]], "newest": mention["indexedAt"]}
    assert result.cursor["search"]["Nimbus"]["newest"] == about["indexedAt"]


def test_the_session_is_reused_refreshed_when_expired_and_renewed_when_refused(bluesky_channel, fake_bluesky):
    BlueskyConnector().fetch(bluesky_channel)
    BlueskyConnector().fetch(bluesky_channel)
    assert fake_bluesky.sessions_created == 1

    fake_bluesky.expire_access_tokens()
    BlueskyConnector().fetch(bluesky_channel)
    assert len(fake_bluesky.calls("com.atproto.server.refreshSession")) == 1
    assert fake_bluesky.sessions_created == 1

    fake_bluesky.expire_access_tokens()
    fake_bluesky.refresh.clear()  # the refresh token was revoked too: log in again
    BlueskyConnector().fetch(bluesky_channel)
    assert fake_bluesky.sessions_created == 2

    fake_bluesky.access.clear()  # the session was deleted on the server
    BlueskyConnector().fetch(bluesky_channel)
    assert fake_bluesky.sessions_created == 3


def test_the_next_poll_stops_at_what_it_saw_and_searches_since_the_newest(
    bluesky_channel, fake_bluesky, monkeypatch
):
    monkeypatch.setattr(bluesky_module, "PAGE_SIZE", 2)
    ana = fake_bluesky.add_actor("ana.bsky.social")
    first = fake_bluesky.post(ana, "@nimbus.bsky.social hello Nimbus")
    bluesky_channel.cursor = BlueskyConnector().fetch(bluesky_channel).cursor
    new = [fake_bluesky.post(ana, f"@nimbus.bsky.social number {n}") for n in range(3)]

    fake_bluesky.requests.clear()
    result = BlueskyConnector().fetch(bluesky_channel)

    assert sorted(i.external_id for i in result.items) == sorted(p["uri"] for p in new)
    pages = fake_bluesky.calls("app.bsky.notification.listNotifications")
    assert [r.query.get("cursor") for r in pages] == [None, ["2"]]  # the second page reaches `first`
    search = fake_bluesky.calls("app.bsky.feed.searchPosts")[0]
    assert search.query["since"] == ["2026-11-20T09:45:00.250Z"]  # the last newest less 15 minutes
    bluesky_channel.cursor = result.cursor
    assert BlueskyConnector().fetch(bluesky_channel).items == []
    assert first["uri"] in result.cursor["notifications"]["seen"]


def test_http_429_is_rate_limited_until_the_reset_time(bluesky_channel, fake_bluesky):
    BlueskyConnector().fetch(bluesky_channel)
    fake_bluesky.rate_limit(reset_in=60)
    with pytest.raises(RateLimited) as caught:
        BlueskyConnector().fetch(bluesky_channel)
    assert 50 <= caught.value.retry_after <= 61


def test_a_server_error_is_transient(bluesky_channel, fake_bluesky):
    fake_bluesky.next_responses.append(
        Response(502, {"error": "UpstreamFailure", "message": "Upstream Failure"})
    )
    with pytest.raises(TransientError, match="502"):
        BlueskyConnector().fetch(bluesky_channel)


def test_a_wrong_app_password_puts_the_channel_in_error(bluesky_channel):
    bluesky_channel.credentials = {**bluesky_channel.credentials, "app_password": "wrong"}
    bluesky_channel.save()
    with pytest.raises(PayloadRejected, match="Invalid identifier or password"):
        BlueskyConnector().fetch(bluesky_channel)
    channel_poll(channel_id=bluesky_channel.pk)
    bluesky_channel.refresh_from_db()
    assert bluesky_channel.status == Channel.Status.ERROR and "401" in bluesky_channel.last_error


def test_a_documented_reply_parses_to_a_message_in_its_roots_thread(offline_channel):
    (message,) = BlueskyConnector().parse(offline_channel, json.dumps(DOCUMENTED_NOTIFICATION).encode(), {})
    assert message.external_id == DOCUMENTED_NOTIFICATION["post"]["uri"]
    assert message.thread_key == ROOT and message.in_reply_to == PARENT
    assert message.text == "@nimbus.bsky.social still no signal in Lyon 😕"
    assert message.language == "fr" and message.sent_at.isoformat() == "2024-10-21T09:14:12.345000+00:00"
    assert not message.outbound
    author = message.author
    assert (author.external_id, author.handle) == ("did:plc:44ybard66vv44zksje25o7dz", "@ana.bsky.social")
    assert (author.display_name, author.followers, author.verified) == ("Ana Example", 777, True)
    assert author.profile_url == "https://bsky.app/profile/ana.bsky.social"
    assert message.metadata["bluesky"]["url"] == "https://bsky.app/profile/ana.bsky.social/post/3l6ox3ftjzt2z"
    assert message.metadata["bluesky"]["cid"] == DOCUMENTED_NOTIFICATION["post"]["cid"]


def test_a_root_post_is_its_own_thread_and_the_brands_post_is_outbound(offline_channel):
    payload = json.loads(json.dumps(DOCUMENTED_NOTIFICATION))
    del payload["post"]["record"]["reply"]
    payload["brand_did"] = payload["post"]["author"]["did"]
    payload["author_profile"] = None
    (message,) = BlueskyConnector().parse(offline_channel, json.dumps(payload).encode(), {})
    assert message.thread_key == payload["post"]["uri"] and message.in_reply_to == ""
    assert message.outbound and message.author.followers is None and message.author.verified is None


@pytest.mark.parametrize(
    "body",
    [
        b"{}",
        json.dumps({"post": {"uri": "https://x", "author": {"did": "d"}, "record": {}}}).encode(),
    ],
)
def test_a_payload_that_is_not_a_post_is_rejected(offline_channel, body):
    with pytest.raises(PayloadRejected):
        BlueskyConnector().parse(offline_channel, body, {})


def test_a_record_other_than_a_post_and_a_like_notification_are_ignored_with_their_type(offline_channel):
    like_record = {
        "post": {
            "uri": "at://d/app.bsky.feed.like/1",
            "author": {"did": "d"},
            "record": {"$type": "app.bsky.feed.like"},
        }
    }
    (ignored,) = BlueskyConnector().interpret(offline_channel, json.dumps(like_record).encode(), {}).ignored
    assert ignored.event_type == "app.bsky.feed.like"
    notification = {
        **like_record["post"],
        "reason": "like",
        "cid": "c",
        "isRead": False,
        "indexedAt": "2026-01-01T00:00:00Z",
    }
    (ignored,) = BlueskyConnector().interpret(offline_channel, json.dumps(notification).encode(), {}).ignored
    assert ignored.event_type == "notification:like" and "liked" in ignored.reason


def test_likes_and_follows_a_server_lists_despite_reasons_are_kept_and_explained(
    bluesky_channel, fake_bluesky
):
    fake_bluesky.ignores_reasons = True
    ana = fake_bluesky.add_actor("ana.bsky.social", display_name="Ana")
    mention = fake_bluesky.post(ana, "@nimbus.bsky.social my bill doubled")
    liked = fake_bluesky.post(fake_bluesky.brand, "Hello Bluesky")
    like = {
        "uri": f"at://{ana['did']}/app.bsky.feed.like/3lblike000001",
        "cid": "bafyreilike",
        "author": {"did": ana["did"], "handle": ana["handle"]},
        "reason": "like",
        "reasonSubject": liked["uri"],
        "record": {
            "$type": "app.bsky.feed.like",
            "subject": {"uri": liked["uri"], "cid": liked["cid"]},
            "createdAt": liked["indexedAt"],
        },
        "isRead": False,
        "indexedAt": liked["indexedAt"],
        "labels": [],
    }
    fake_bluesky.notifications.append(like)

    result = BlueskyConnector().fetch(bluesky_channel)

    bodies = {item.external_id: item.body for item in result.items}
    assert set(bodies) == {mention["uri"], like["uri"]}
    (ignored,) = BlueskyConnector().interpret(bluesky_channel, bodies[like["uri"]], {}).ignored
    assert ignored.event_type == "notification:like" and "liked" in ignored.reason
    assert like["uri"] in result.cursor["notifications"]["seen"]  # not fetched again by the next poll
