"""The Mastodon connector against a fake instance: auth, notifications (min_id, Link), search, errors."""

import hashlib
import json

import pytest

from apps.connectors.base import PayloadRejected, RateLimited, TransientError
from apps.connectors.mastodon import connector as mastodon_module
from apps.connectors.mastodon.connector import MastodonConnector, html_to_text
from apps.connectors.models import Channel
from apps.connectors.registry import connector_for
from apps.ingestion.polling import channel_poll
from tests.fakes.http import Response

pytestmark = pytest.mark.django_db

# A mention notification's status as docs.joinmastodon.org documents it (GET /api/v1/notifications).
DOCUMENTED_STATUS = {
    "id": "103186126728896492",
    "created_at": "2019-11-23T07:49:01.940Z",
    "in_reply_to_id": "103186038209478945",
    "in_reply_to_account_id": "14715",
    "sensitive": False,
    "spoiler_text": "",
    "visibility": "public",
    "language": "en",
    "uri": "https://mastodon.social/users/zsc/statuses/103186126728896492",
    "url": "https://mastodon.social/@zsc/103186126728896492",
    "replies_count": 0,
    "reblogs_count": 0,
    "favourites_count": 0,
    "content": '<p><span class="h-card"><a href="https://mastodon.social/@trwnh" class="u-url mention">'
    "@<span>trwnh</span></a></span> sup! &amp; <br />bye</p><p>second</p>",
    "reblog": None,
    "account": {
        "id": "971724",
        "username": "zsc",
        "acct": "zsc",
        "display_name": "Zsc",
        "url": "https://mastodon.social/@zsc",
        "avatar": "https://files.mastodon.social/accounts/avatars/000/971/724/original/zsc.png",
        "followers_count": 58,
        "following_count": 20,
        "statuses_count": 380,
        "bot": False,
    },
    "mentions": [
        {"id": "14715", "username": "trwnh", "url": "https://mastodon.social/@trwnh", "acct": "trwnh"}
    ],
}


def _body(status=DOCUMENTED_STATUS, **extra):
    return json.dumps({"status": status, "source": "mention", **extra}).encode()


def test_the_connector_is_registered_for_mastodon():
    assert isinstance(connector_for("mastodon"), MastodonConnector)


def test_status_html_becomes_text():
    assert html_to_text(DOCUMENTED_STATUS["content"]) == "@trwnh sup! & \nbye\n\nsecond"
    link = (
        '<p>see <a href="https://nimbus.example/outage/lyon"><span class="invisible">https://</span>'
        '<span class="ellipsis">nimbus.example/outa</span><span class="invisible">ge/lyon</span></a></p>'
    )
    assert html_to_text(link) == "see https://nimbus.example/outage/lyon"


def test_a_first_poll_reads_mentions_and_searches_with_the_documented_parameters(
    mastodon_channel, fake_mastodon
):
    ana = fake_mastodon.add_account("ana", domain="other.example", followers=321)
    mention = fake_mastodon.toot(ana, "<p>@nimbus my bill doubled</p>")
    about = fake_mastodon.toot(ana, "<p>Nimbus coverage in Lyon is great</p>")
    fake_mastodon.favourite(ana, fake_mastodon.toot(fake_mastodon.brand, "<p>Hello fediverse</p>"))

    result = MastodonConnector().fetch(mastodon_channel)

    assert sorted(i.external_id for i in result.items) == sorted([mention["id"], about["id"]])
    assert [r.path for r in fake_mastodon.requests] == [
        "/api/v1/accounts/verify_credentials",
        "/api/v1/notifications",
        "/api/v2/search",
    ]
    assert all(r.headers["authorization"] == "Bearer mastodon-user-token" for r in fake_mastodon.requests)
    notifications, search = fake_mastodon.requests[1:]
    assert notifications.query == {"types[]": ["mention"], "limit": ["80"]}
    assert search.query == {"q": ["Nimbus"], "type": ["statuses"], "resolve": ["false"], "limit": ["40"]}
    mention_notification = fake_mastodon.notifications[0]["id"]
    assert result.cursor == {
        "account": {
            "id": fake_mastodon.brand["id"],
            "acct": "nimbus",
            "token": hashlib.sha256(b"mastodon-user-token").hexdigest()[:16],  # not the token itself
        },
        "notifications": {"min_id": mention_notification},
        "search": {"Nimbus": {"min_id": about["id"]}},
    }
    body = json.loads(next(i for i in result.items if i.external_id == mention["id"]).body)
    assert body["source"] == "mention" and body["notification_id"] == mention_notification
    assert body["thread_root"] == mention["id"] and body["brand_account_id"] == fake_mastodon.brand["id"]


def test_the_next_poll_pages_forward_from_min_id_by_the_link_header(
    mastodon_channel, fake_mastodon, monkeypatch
):
    monkeypatch.setattr(mastodon_module, "NOTIFICATIONS_PAGE", 2)
    mastodon_channel.settings = {**mastodon_channel.settings, "queries": []}
    ana = fake_mastodon.add_account("ana", domain="other.example")
    fake_mastodon.toot(ana, "<p>@nimbus first</p>")
    mastodon_channel.cursor = MastodonConnector().fetch(mastodon_channel).cursor
    new = [fake_mastodon.toot(ana, f"<p>@nimbus number {n}</p>") for n in range(5)]

    fake_mastodon.requests.clear()
    result = MastodonConnector().fetch(mastodon_channel)

    assert sorted(i.external_id for i in result.items) == [s["id"] for s in new]
    min_ids = [r.query.get("min_id") for r in fake_mastodon.requests]
    notification_ids = [n["id"] for n in fake_mastodon.notifications]
    # The cursor, then the top of each page from rel="prev", until an empty page.
    assert min_ids == [
        [notification_ids[0]],
        [notification_ids[2]],
        [notification_ids[4]],
        [notification_ids[5]],
    ]
    assert result.cursor["notifications"] == {"min_id": notification_ids[-1]}
    mastodon_channel.cursor = result.cursor
    assert MastodonConnector().fetch(mastodon_channel).items == []


def test_replies_carry_the_root_of_their_thread(mastodon_channel, fake_mastodon):
    ana = fake_mastodon.add_account("ana", domain="other.example")
    bo = fake_mastodon.add_account("bo", domain="elsewhere.example")
    root = fake_mastodon.toot(ana, "<p>@nimbus is 5G down?</p>")
    mastodon_channel.cursor = MastodonConnector().fetch(mastodon_channel).cursor
    reply = fake_mastodon.toot(bo, "<p>@nimbus same here</p>", reply_to=root)
    reply_to_reply = fake_mastodon.toot(ana, "<p>@nimbus @bo@elsewhere.example thanks</p>", reply_to=reply)

    result = MastodonConnector().fetch(mastodon_channel)

    roots = {i.external_id: json.loads(i.body)["thread_root"] for i in result.items}
    assert roots == {reply["id"]: root["id"], reply_to_reply["id"]: root["id"]}
    context_lookups = [r.path for r in fake_mastodon.requests if r.path.endswith("/context")]
    assert len(context_lookups) == 1  # the other reply's parent is in the same batch


def test_http_429_is_rate_limited_until_the_reset_time(mastodon_channel, fake_mastodon):
    fake_mastodon.rate_limit(reset_in=120)
    with pytest.raises(RateLimited) as caught:
        MastodonConnector().fetch(mastodon_channel)
    assert 110 <= caught.value.retry_after <= 121


def test_a_server_error_is_transient(mastodon_channel, fake_mastodon):
    fake_mastodon.next_responses.append(Response(502, "<html>Bad Gateway</html>"))
    with pytest.raises(TransientError, match="502"):
        MastodonConnector().fetch(mastodon_channel)


def test_a_refused_token_puts_the_channel_in_error(mastodon_channel):
    mastodon_channel.credentials = {"access_token": "revoked"}
    mastodon_channel.save()
    with pytest.raises(PayloadRejected, match="The access token is invalid"):
        MastodonConnector().fetch(mastodon_channel)
    channel_poll(channel_id=mastodon_channel.pk)
    mastodon_channel.refresh_from_db()
    assert mastodon_channel.status == Channel.Status.ERROR and "401" in mastodon_channel.last_error


def test_a_documented_status_parses_to_a_message(offline_channel):
    (message,) = MastodonConnector().parse(
        offline_channel, _body(thread_root="103186038209478945", brand_account_id="14715"), {}
    )
    assert message.external_id == "103186126728896492"
    assert message.thread_key == "103186038209478945"
    assert message.in_reply_to == "103186038209478945"
    assert message.text == "@trwnh sup! & \nbye\n\nsecond"
    assert "<p>" in message.html
    assert message.language == "en" and message.sent_at.isoformat() == "2019-11-23T07:49:01.940000+00:00"
    assert not message.outbound
    author = message.author
    assert author.external_id == "zsc@mastodon.social" and author.handle == "@zsc@mastodon.social"
    assert (author.display_name, author.followers) == ("Zsc", 58)
    assert author.profile_url == "https://mastodon.social/@zsc"
    assert message.metadata["mastodon"]["visibility"] == "public"


def test_a_remote_account_keeps_its_domain_and_the_brands_own_status_is_outbound(offline_channel):
    status = {**DOCUMENTED_STATUS, "in_reply_to_id": None, "account": {**DOCUMENTED_STATUS["account"]}}
    status["account"]["acct"] = "Zsc@Other.Example"
    (message,) = MastodonConnector().parse(offline_channel, _body(status, brand_account_id="971724"), {})
    assert message.author.handle == "@Zsc@Other.Example" and message.author.external_id == "zsc@other.example"
    assert message.thread_key == status["id"] and message.in_reply_to == ""
    assert message.outbound


@pytest.mark.parametrize("body", [b"3", b'{"status": {"id": "1"}}', b"{oops"])
def test_a_payload_that_is_not_a_status_is_rejected(offline_channel, body):
    with pytest.raises(PayloadRejected):
        MastodonConnector().parse(offline_channel, body, {})
