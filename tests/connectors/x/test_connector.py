"""The X connector against a fake of the X API v2: parameters and auth as documented, cursors, errors."""

import json
import time

import pytest

from apps.connectors.base import PayloadRejected, RateLimited, TransientError
from apps.connectors.models import Channel
from apps.connectors.registry import connector_for
from apps.connectors.x import connector as x_module
from apps.connectors.x.connector import XConnector, default_query
from apps.ingestion.polling import channel_poll
from tests.factories import BrandFactory
from tests.fakes.http import Response
from tests.fakes.x import TWEET_FIELDS_REQUIRED

pytestmark = pytest.mark.django_db

# A post and its author as the X API v2 documents them (GET /2/users/:id/mentions with expansions=author_id).
DOCUMENTED_PAYLOAD = {
    "tweet": {
        "id": "1301573587187331074",
        "text": "@nimbusmobile my bill doubled &amp; nobody answers &lt;sigh&gt;",
        "author_id": "1234567890",
        "conversation_id": "1301573500000000000",
        "created_at": "2024-01-15T10:30:00.000Z",
        "lang": "en",
        "in_reply_to_user_id": "2244994945",
        "referenced_tweets": [{"type": "replied_to", "id": "1301573500000000000"}],
        "public_metrics": {"retweet_count": 5, "reply_count": 2, "like_count": 42, "quote_count": 1},
        "edit_history_tweet_ids": ["1301573587187331074"],
    },
    "author": {
        "id": "1234567890",
        "name": "Ana Example",
        "username": "ana_example",
        "verified": True,
        "profile_image_url": "https://pbs.twimg.com/profile_images/1/photo_normal.jpg",
        "public_metrics": {"followers_count": 1520, "following_count": 300, "tweet_count": 4000},
    },
    "sources": ["mentions"],
}


def test_the_connector_is_registered_for_x():
    assert isinstance(connector_for("x"), XConnector)
    assert connector_for("x").polls


def test_the_default_query_is_built_from_keywords_and_x_handles(org_a):
    brand = BrandFactory(
        organization=org_a,
        keywords=["Nimbus", 'Nimbus "5G"'],
        handles=["@nimbusmobile", "nimbus@support.example", "@NimbusCare"],
    )
    assert default_query(brand) == '("Nimbus" OR "Nimbus  5G" OR @nimbusmobile OR @NimbusCare) -is:retweet'
    assert default_query(BrandFactory(organization=org_a, keywords=[], handles=[])) == ""


def test_a_first_poll_reads_mentions_and_search_with_the_documented_parameters(x_channel, fake_x):
    fake_x.add_user("1001", "ana", name="Ana", followers=1234)
    fake_x.add_user("1002", "bo", name="Bo", followers=5)
    mention = fake_x.post("1001", "@nimbusmobile my bill doubled")
    about = fake_x.post("1002", "Switched to Nimbus today, coverage is great")
    fake_x.post("1002", "Nothing to do with the brand")

    result = XConnector().fetch(x_channel)

    assert sorted(item.external_id for item in result.items) == sorted([mention["id"], about["id"]])
    body = json.loads(next(i for i in result.items if i.external_id == mention["id"]).body)
    assert body["tweet"]["text"] == "@nimbusmobile my bill doubled"
    assert body["author"]["username"] == "ana"
    assert body["sources"] == ["mentions", "search"]  # found by both endpoints, stored once
    mentions_request, search_request = fake_x.requests
    assert mentions_request.path == f"/2/users/{fake_x.brand_user_id}/mentions"
    assert mentions_request.headers["authorization"] == "Bearer app-bearer-token"
    assert set(mentions_request.query["tweet.fields"][0].split(",")) >= TWEET_FIELDS_REQUIRED
    assert mentions_request.query["expansions"] == [
        "author_id,referenced_tweets.id,referenced_tweets.id.author_id"
    ]
    assert "since_id" not in mentions_request.query
    assert search_request.path == "/2/tweets/search/recent"
    assert search_request.query["query"] == ['("Nimbus" OR @nimbusmobile) -is:retweet']
    assert result.cursor == {"mentions": {"since_id": mention["id"]}, "search": {"since_id": about["id"]}}


def test_the_next_poll_resumes_from_since_id_and_finds_only_new_posts(x_channel, fake_x):
    fake_x.add_user("1001", "ana")
    first = fake_x.post("1001", "@nimbusmobile hello")
    x_channel.cursor = XConnector().fetch(x_channel).cursor
    assert XConnector().fetch(x_channel).items == []
    second = fake_x.post("1001", "@nimbusmobile still there?")

    fake_x.requests.clear()
    result = XConnector().fetch(x_channel)

    assert [item.external_id for item in result.items] == [second["id"]]
    assert fake_x.requests[0].query["since_id"] == [first["id"]]
    assert result.cursor["mentions"] == {"since_id": second["id"]}


def test_a_backlog_longer_than_one_poll_is_finished_by_the_next_polls(x_channel, fake_x, monkeypatch):
    monkeypatch.setattr(x_module, "PAGE_SIZE", 10)
    monkeypatch.setattr(x_module, "MAX_PAGES", 2)
    x_channel.settings = {**x_channel.settings, "query": "unmatched-term-only"}
    fake_x.add_user("1001", "ana")
    start = fake_x.post("1001", "@nimbusmobile first")
    x_channel.cursor = {"mentions": {"since_id": start["id"]}}
    posts = [fake_x.post("1001", f"@nimbusmobile number {n}") for n in range(35)]

    first = XConnector().fetch(x_channel)
    assert len(first.items) == 20  # two pages of ten, newest first
    assert first.cursor["mentions"]["since_id"] == start["id"]
    assert first.cursor["mentions"]["newest_id"] == posts[-1]["id"] and first.cursor["mentions"]["next_token"]

    x_channel.cursor = first.cursor
    second = XConnector().fetch(x_channel)
    assert len(second.items) == 15
    assert second.cursor["mentions"] == {"since_id": posts[-1]["id"]}
    fetched = {i.external_id for i in first.items} | {i.external_id for i in second.items}
    assert fetched == {p["id"] for p in posts}


def test_a_since_id_the_endpoint_no_longer_accepts_starts_listening_again(x_channel, fake_x):
    fake_x.add_user("1001", "ana")
    post = fake_x.post("1001", "@nimbusmobile hi")
    fake_x.oldest_since_id = int(post["id"])
    x_channel.cursor = {"mentions": {"since_id": "1"}, "search": {"since_id": "1"}}

    result = XConnector().fetch(x_channel)

    assert [i.external_id for i in result.items] == [post["id"]]
    assert result.cursor["mentions"] == {"since_id": post["id"]}


def test_an_expired_pagination_token_reads_again_from_since_id(x_channel, fake_x):
    fake_x.add_user("1001", "ana")
    start = fake_x.post("1001", "@nimbusmobile first")
    posts = [fake_x.post("1001", f"@nimbusmobile number {n}") for n in range(3)]
    x_channel.cursor = {
        "mentions": {"since_id": start["id"], "next_token": "expired", "newest_id": posts[-1]["id"]}
    }

    result = XConnector().fetch(x_channel)

    assert {i.external_id for i in result.items} >= {p["id"] for p in posts}
    assert fake_x.requests[0].query["pagination_token"] == ["expired"]
    assert (
        fake_x.requests[1].query["since_id"] == [start["id"]]
        and "pagination_token" not in fake_x.requests[1].query
    )
    assert result.cursor["mentions"] == {"since_id": posts[-1]["id"]}


def test_a_user_id_that_is_not_numeric_is_refused_before_any_request(x_channel, fake_x):
    x_channel.settings = {**x_channel.settings, "user_id": "../../2/tweets"}
    with pytest.raises(PayloadRejected, match="numeric id"):
        XConnector().fetch(x_channel)
    assert fake_x.requests == []


def test_http_429_is_rate_limited_until_the_reset_time(x_channel, fake_x):
    fake_x.rate_limit(reset_in=90)
    with pytest.raises(RateLimited) as caught:
        XConnector().fetch(x_channel)
    assert 80 <= caught.value.retry_after <= 91


def test_a_server_error_is_transient(x_channel, fake_x):
    fake_x.next_responses.append(Response(503, {"title": "Service Unavailable"}))
    with pytest.raises(TransientError) as caught:
        XConnector().fetch(x_channel)
    assert not isinstance(caught.value, RateLimited) and "503" in caught.value.reason


def test_refused_credentials_put_the_channel_in_error(x_channel, fake_x):
    x_channel.credentials = {"bearer_token": "revoked"}
    x_channel.save()
    with pytest.raises(PayloadRejected, match="HTTP 401"):
        XConnector().fetch(x_channel)
    assert channel_poll(channel_id=x_channel.pk) == 0
    x_channel.refresh_from_db()
    assert x_channel.status == Channel.Status.ERROR and "401" in x_channel.last_error


def test_an_unknown_user_id_is_rejected_with_xs_reason(x_channel):
    x_channel.settings = {**x_channel.settings, "user_id": "42"}
    with pytest.raises(PayloadRejected, match="Could not find user"):
        XConnector().fetch(x_channel)


def test_a_documented_payload_parses_to_a_message(offline_channel):
    (message,) = XConnector().parse(offline_channel, json.dumps(DOCUMENTED_PAYLOAD).encode(), {})
    assert message.external_id == "1301573587187331074"
    assert message.thread_key == "1301573500000000000"  # conversation_id: the thread's root post
    assert message.in_reply_to == "1301573500000000000"
    assert message.text == "@nimbusmobile my bill doubled & nobody answers <sigh>"
    assert message.language == "en"
    assert message.sent_at.isoformat() == "2024-01-15T10:30:00+00:00"
    assert not message.outbound
    author = message.author
    assert (author.external_id, author.handle, author.display_name) == (
        "1234567890",
        "@ana_example",
        "Ana Example",
    )
    assert author.profile_url == "https://x.com/ana_example"
    assert author.followers == 1520 and author.verified is True
    assert message.metadata["x"]["url"] == "https://x.com/ana_example/status/1301573587187331074"


def test_the_brands_own_posts_are_outbound_and_undetermined_language_is_blank(offline_channel):
    payload = json.loads(json.dumps(DOCUMENTED_PAYLOAD))
    payload["tweet"]["author_id"] = offline_channel.settings["user_id"]
    payload["tweet"]["lang"] = "und"
    (message,) = XConnector().parse(offline_channel, json.dumps(payload).encode(), {})
    assert message.outbound and message.language == ""


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"{", "malformed JSON"),
        (b"[]", "an X payload holds"),
        (b'{"tweet": {"id": "1"}}', "an X payload holds"),
    ],
)
def test_a_payload_that_is_not_a_post_is_rejected(offline_channel, body, reason):
    with pytest.raises(PayloadRejected, match=reason):
        XConnector().parse(offline_channel, body, {})


def test_the_reset_header_drives_the_retry_delay(x_channel, fake_x):
    fake_x.next_responses.append(
        Response(429, {"title": "Too Many Requests"}, {"x-rate-limit-reset": str(int(time.time()) + 600)})
    )
    with pytest.raises(RateLimited) as caught:
        channel_poll(channel_id=x_channel.pk)
    assert caught.value.retry_after > 590
    x_channel.refresh_from_db()
    assert x_channel.status == Channel.Status.ACTIVE and x_channel.error_count == 1
