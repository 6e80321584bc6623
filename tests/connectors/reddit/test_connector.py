"""The Reddit connector against a fake of Reddit's OAuth2 API: token, User-Agent, listings, errors."""

import base64
import json

import pytest

from apps.connectors.base import PayloadRejected, RateLimited, TransientError
from apps.connectors.models import Channel
from apps.connectors.reddit import connector as reddit_module
from apps.connectors.reddit.connector import RedditConnector, default_query
from apps.connectors.registry import connector_for
from apps.ingestion.polling import channel_poll
from tests.factories import BrandFactory
from tests.fakes.http import Response

pytestmark = pytest.mark.django_db

# Things as Reddit's listings carry them (reddit-archive/reddit wiki, "JSON"), trimmed to what matters.
DOCUMENTED_LINK = {
    "kind": "t3",
    "data": {
        "id": "1gq9x2a",
        "name": "t3_1gq9x2a",
        "title": "Nimbus Mobile roaming charges in Spain?",
        "selftext": "Got charged 40 € for two days & no warning SMS. Anyone else?",
        "selftext_html": '<div class="md"><p>Got charged 40 € for two days &amp; no warning SMS.</p></div>',
        "author": "ana_travels",
        "author_fullname": "t2_8f3kq1",
        "subreddit": "NimbusMobile",
        "created_utc": 1731600000.0,
        "permalink": "/r/NimbusMobile/comments/1gq9x2a/nimbus_mobile_roaming_charges_in_spain/",
        "url": "https://www.reddit.com/r/NimbusMobile/comments/1gq9x2a/nimbus_mobile_roaming_charges_in_spain/",
        "score": 17,
        "num_comments": 4,
    },
}
DOCUMENTED_COMMENT = {
    "kind": "t1",
    "data": {
        "id": "lx3b9c1",
        "name": "t1_lx3b9c1",
        "body": "Same here, support told me to wait for the next bill.",
        "body_html": '<div class="md"><p>Same here, support told me to wait for the next bill.</p></div>',
        "author": "bo_commutes",
        "author_fullname": "t2_1x9zz",
        "link_id": "t3_1gq9x2a",
        "parent_id": "t3_1gq9x2a",
        "link_title": "Nimbus Mobile roaming charges in Spain?",
        "subreddit": "NimbusMobile",
        "created_utc": 1731600600.0,
        "permalink": "/r/NimbusMobile/comments/1gq9x2a/nimbus_mobile_roaming_charges_in_spain/lx3b9c1/",
        "score": 3,
    },
}


def _body(thing, source="search"):
    return json.dumps({"thing": thing, "source": source}).encode()


def test_the_connector_is_registered_for_reddit():
    assert isinstance(connector_for("reddit"), RedditConnector)


def test_the_default_query_ors_the_quoted_keywords(org_a):
    brand = BrandFactory(organization=org_a, keywords=["Nimbus", "Nimbus Mobile", "Nimbus"])
    assert default_query(brand) == '"Nimbus" OR "Nimbus Mobile"'


def test_a_poll_gets_a_token_then_searches_with_a_descriptive_user_agent(reddit_channel, fake_reddit):
    post = fake_reddit.submit("phones", "ana_travels", "Is Nimbus any good in Lyon?", "Thinking of switching")
    fake_reddit.submit("phones", "someone", "Unrelated post")

    result = RedditConnector().fetch(reddit_channel)

    assert [item.external_id for item in result.items] == [post["data"]["name"]]
    token_request = fake_reddit.requests[0]
    assert token_request.path == "/api/v1/access_token"
    basic = base64.b64encode(f"{fake_reddit.client_id}:{fake_reddit.client_secret}".encode()).decode()
    assert token_request.headers["authorization"] == f"Basic {basic}"
    assert token_request.form() == {
        "grant_type": ["password"],
        "username": ["NimbusMobileCare"],
        "password": ["correct horse"],
    }
    search = fake_reddit.api_requests("/search")[0]
    assert search.headers["authorization"].lower().startswith("bearer ")
    assert search.headers["user-agent"] == "server:cxm-social-connector:v1.0 (by /u/NimbusMobileCare)"
    assert search.query["q"] == ['"Nimbus"'] and search.query["sort"] == ["new"]
    assert search.query["limit"] == ["100"] and search.query["raw_json"] == ["1"]
    assert [r.path for r in fake_reddit.api_requests()] == ["/search", "/message/inbox"]
    assert result.cursor["search"] == {
        "seen": [post["data"]["name"]],
        "newest_utc": post["data"]["created_utc"],
    }
    assert json.loads(result.items[0].body) == {"thing": post, "source": "search"}


def test_the_token_is_reused_until_it_expires_and_renewed_when_refused(reddit_channel, fake_reddit):
    RedditConnector().fetch(reddit_channel)
    RedditConnector().fetch(reddit_channel)
    assert fake_reddit.token_requests == 1
    fake_reddit.tokens.clear()  # revoked, or expired early
    RedditConnector().fetch(reddit_channel)
    assert fake_reddit.token_requests == 2


def test_the_next_poll_pages_until_it_reaches_what_it_saw(reddit_channel, fake_reddit, monkeypatch):
    monkeypatch.setattr(reddit_module, "PAGE_SIZE", 2)
    reddit_channel.settings = {**reddit_channel.settings, "inbox": False}
    old = fake_reddit.submit("phones", "ana", "Nimbus plans compared")
    reddit_channel.cursor = RedditConnector().fetch(reddit_channel).cursor
    new = [fake_reddit.submit("phones", f"user{n}", f"Nimbus question {n}") for n in range(5)]

    fake_reddit.requests.clear()
    result = RedditConnector().fetch(reddit_channel)

    assert {i.external_id for i in result.items} == {p["data"]["name"] for p in new}
    assert len(fake_reddit.api_requests("/search")) == 3  # 2 + 2 + (1 new, then the known one): stop
    assert result.cursor["search"]["seen"][:6] == [p["data"]["name"] for p in reversed(new)] + [
        old["data"]["name"]
    ]
    reddit_channel.cursor = result.cursor
    assert RedditConnector().fetch(reddit_channel).items == []


def test_subreddits_are_read_for_posts_and_comments(reddit_channel, fake_reddit):
    reddit_channel.settings = {
        **reddit_channel.settings,
        "subreddits": ["NimbusMobile"],
        "query": "nothing-matches",
    }
    post = fake_reddit.submit("NimbusMobile", "ana", "Roaming charges?", "40 € for two days")
    comment = fake_reddit.comment(post["data"]["name"], "bo", "Same here")

    result = RedditConnector().fetch(reddit_channel)

    assert {i.external_id for i in result.items} == {post["data"]["name"], comment["data"]["name"]}
    paths = [r.path for r in fake_reddit.api_requests()]
    assert paths == ["/search", "/r/NimbusMobile/new", "/r/NimbusMobile/comments", "/message/inbox"]
    assert set(result.cursor) == {"search", "r/NimbusMobile/new", "r/NimbusMobile/comments", "inbox"}


def test_a_subreddit_that_does_not_exist_is_rejected(reddit_channel, fake_reddit):
    reddit_channel.settings = {**reddit_channel.settings, "subreddits": ["NoSuchSub"]}
    with pytest.raises(PayloadRejected, match="does this subreddit exist"):
        RedditConnector().fetch(reddit_channel)
    reddit_channel.settings = {**reddit_channel.settings, "subreddits": ["../etc"]}
    with pytest.raises(PayloadRejected, match="is not a subreddit name"):
        RedditConnector().fetch(reddit_channel)


@pytest.mark.parametrize(
    "credential, value, reason",
    [("password", "wrong", "invalid_grant"), ("client_secret", "wrong", "client id or secret")],
)
def test_refused_credentials_put_the_channel_in_error(reddit_channel, credential, value, reason):
    reddit_channel.credentials = {**reddit_channel.credentials, credential: value}
    reddit_channel.save()
    with pytest.raises(PayloadRejected, match=reason):
        RedditConnector().fetch(reddit_channel)
    channel_poll(channel_id=reddit_channel.pk)
    reddit_channel.refresh_from_db()
    assert reddit_channel.status == Channel.Status.ERROR and reason in reddit_channel.last_error


def test_http_429_is_rate_limited_for_the_reset_seconds(reddit_channel, fake_reddit):
    fake_reddit.rate_limit(reset_in=300)
    with pytest.raises(RateLimited) as caught:
        RedditConnector().fetch(reddit_channel)
    assert caught.value.retry_after == 300


def test_a_spent_budget_stops_before_the_next_request(reddit_channel, fake_reddit):
    fake_reddit.budget = 1
    with pytest.raises(RateLimited) as caught:
        RedditConnector().fetch(reddit_channel)
    assert caught.value.retry_after == 420
    assert [r.path for r in fake_reddit.api_requests()] == ["/search"]  # the inbox was not asked for


def test_a_server_error_is_transient(reddit_channel, fake_reddit):
    fake_reddit.next_responses.append(Response(503, "<html>all our servers are busy</html>"))
    with pytest.raises(TransientError, match="503"):
        RedditConnector().fetch(reddit_channel)


def test_a_documented_post_parses_to_a_message(offline_channel):
    (message,) = RedditConnector().parse(offline_channel, _body(DOCUMENTED_LINK), {})
    assert message.external_id == "t3_1gq9x2a" and message.thread_key == "t3_1gq9x2a"
    assert message.subject == "Nimbus Mobile roaming charges in Spain?"
    assert message.text == "Got charged 40 € for two days & no warning SMS. Anyone else?"
    assert message.in_reply_to == "" and not message.outbound
    assert message.sent_at.isoformat() == "2024-11-14T16:00:00+00:00"
    author = message.author
    assert (author.external_id, author.handle) == ("u/ana_travels", "u/ana_travels")
    assert author.profile_url == "https://www.reddit.com/user/ana_travels/"
    assert message.metadata["reddit"]["url"].startswith(
        "https://www.reddit.com/r/NimbusMobile/comments/1gq9x2a/"
    )


def test_a_comment_threads_under_its_post(offline_channel):
    (message,) = RedditConnector().parse(offline_channel, _body(DOCUMENTED_COMMENT), {})
    assert message.external_id == "t1_lx3b9c1"
    assert message.thread_key == "t3_1gq9x2a" and message.in_reply_to == "t3_1gq9x2a"
    assert message.text == "Same here, support told me to wait for the next bill."
    assert message.subject == "Nimbus Mobile roaming charges in Spain?"
    assert message.author.handle == "u/bo_commutes"


def test_an_inbox_reply_finds_its_post_in_the_context_and_the_brands_own_comment_is_outbound(offline_channel):
    inbox = json.loads(json.dumps(DOCUMENTED_COMMENT))
    del inbox["data"]["link_id"]
    inbox["data"]["context"] = "/r/NimbusMobile/comments/1gq9x2a/nimbus_mobile/lx3b9c1/?context=3"
    (message,) = RedditConnector().parse(offline_channel, _body(inbox, "inbox"), {})
    assert message.thread_key == "t3_1gq9x2a"
    own = json.loads(json.dumps(DOCUMENTED_COMMENT))
    own["data"]["author"] = "nimbusmobilecare"
    (message,) = RedditConnector().parse(offline_channel, _body(own), {})
    assert message.outbound


def test_a_private_message_threads_by_its_first_message(offline_channel):
    message_thing = {
        "kind": "t4",
        "data": {
            "id": "2fk1l0",
            "name": "t4_2fk1l0",
            "author": "ana_travels",
            "author_fullname": "t2_8f3kq1",
            "subject": "re: my contract",
            "body": "Here is my customer number.",
            "first_message_name": "t4_2fk0aa",
            "parent_id": "t4_2fk0aa",
            "created_utc": 1731601000.0,
        },
    }
    (message,) = RedditConnector().parse(offline_channel, _body(message_thing, "inbox"), {})
    assert message.thread_key == "t4_2fk0aa" and message.in_reply_to == "t4_2fk0aa"
    assert message.metadata["reddit"]["private"] is True


@pytest.mark.parametrize("body", [b"{}", b'{"thing": {"kind": "t5", "data": {"name": "t5_x"}}}', b"nope"])
def test_a_payload_that_is_not_a_thing_is_rejected(offline_channel, body):
    with pytest.raises(PayloadRejected):
        RedditConnector().parse(offline_channel, body, {})


def test_one_identity_per_user_whether_the_listing_gives_the_t2_id_or_only_the_name(offline_channel):
    comment = json.loads(json.dumps(DOCUMENTED_COMMENT))
    inbox = json.loads(json.dumps(DOCUMENTED_COMMENT))
    del inbox["data"]["author_fullname"]
    inbox["data"]["author"] = inbox["data"]["author"].upper()
    (by_id,) = RedditConnector().parse(offline_channel, _body(comment), {})
    (by_name,) = RedditConnector().parse(offline_channel, _body(inbox, "inbox"), {})
    assert by_id.author.external_id == by_name.author.external_id == f"u/{comment['data']['author'].lower()}"


def test_what_deleted_accounts_left_is_fetched_and_kept_or_explained_never_dropped(
    reddit_channel, fake_reddit
):
    reddit_channel.settings = {
        **reddit_channel.settings,
        "subreddits": ["NimbusMobile"],
        "query": "nothing-matches",
    }
    post = fake_reddit.submit("NimbusMobile", "[deleted]", "Nimbus eSIM stopped", "Support never answered")
    gone = fake_reddit.comment(post["data"]["name"], "[deleted]", "[deleted]")

    result = RedditConnector().fetch(reddit_channel)

    bodies = {item.external_id: item.body for item in result.items}
    assert set(bodies) == {post["data"]["name"], gone["data"]["name"]}
    (kept,) = RedditConnector().interpret(reddit_channel, bodies[post["data"]["name"]], {}).messages
    # The text stays on Reddit, so it is stored; its author is nobody to look up or answer.
    assert kept.text == "Support never answered"
    assert kept.author.external_id == f"deleted:{post['data']['name']}"
    assert kept.author.handle == kept.author.profile_url == ""
    (ignored,) = RedditConnector().interpret(reddit_channel, bodies[gone["data"]["name"]], {}).ignored
    assert ignored.event_type == "deleted comment" and "deleted or removed" in ignored.reason


def test_a_message_from_reddit_itself_and_a_removed_post_are_explained(offline_channel):
    from_reddit = {
        "kind": "t4",
        "data": {
            "id": "2fk9zz",
            "name": "t4_2fk9zz",
            "author": None,
            "subreddit": "NimbusMobile",
            "subject": "you are an approved user",
            "body": "You have been added.",
            "created_utc": 1731601000.0,
        },
    }
    (ignored,) = RedditConnector().interpret(offline_channel, _body(from_reddit, "inbox"), {}).ignored
    assert ignored.event_type == "private message without author" and "no one to answer" in ignored.reason
    removed = json.loads(json.dumps(DOCUMENTED_LINK))
    removed["data"].update(selftext="[removed]", selftext_html=None)
    (message,) = RedditConnector().interpret(offline_channel, _body(removed), {}).messages
    assert message.text == removed["data"]["title"] and message.html == ""
