"""YouTube polling against the fake Data API: threads and replies into conversations, cursors (page tokens,
what was seen), edits applied, the daily quota counted and respected, search optional and quota-aware,
errors (quotaExceeded, expired token with and without a refresh token, comments disabled, malformed JSON)."""

import json
from pathlib import Path

import pytest

from apps.connectors.models import Channel
from apps.connectors.youtube.api import pacific_day
from apps.connectors.youtube.connector import YouTubeConnector
from apps.conversations.models import Conversation, Message
from apps.customers.models import Identity
from apps.ingestion.models import RawPayload
from apps.ingestion.polling import channel_poll
from tests.fakes.http import Response
from tests.fakes.youtube import (
    ACCESS_TOKEN,
    CLIENT_ID,
    CLIENT_SECRET,
    REFRESH_TOKEN,
    VIDEO,
    search_result,
)

pytestmark = pytest.mark.django_db

SAMPLE = json.loads((Path(__file__).parent / "data" / "commentThreadListResponse.json").read_text())


def _channel(channel) -> Channel:
    channel.refresh_from_db()
    return channel


def test_comments_and_their_replies_become_threaded_conversations(youtube_channel, youtube, process_payloads):
    thread = youtube.comment(VIDEO, "Ana", "The battery dies in two hours")
    youtube.comment(VIDEO, "Bo", "Same here", thread=thread)
    youtube.comment(VIDEO, "Brand", "Sorry! Please update to 2.1", thread=thread)
    youtube.comment(VIDEO, "Cy", "Love the camera")

    assert channel_poll(channel_id=youtube_channel.pk) == 4
    assert process_payloads(youtube_channel) == 4

    conversation = Conversation.objects.get(external_thread_id=thread["id"])
    texts = list(conversation.messages.order_by("sent_at").values_list("text", "direction"))
    assert texts == [
        ("The battery dies in two hours", "inbound"),
        ("Same here", "inbound"),
        ("Sorry! Please update to 2.1", "outbound"),  # the brand's own comment
    ]
    ana = Identity.objects.get(display_name="@ana")
    assert ana.kind == "youtube" and ana.handle == "@ana" and ana.profile_url == "http://www.youtube.com/@ana"
    assert Conversation.objects.count() == 2
    (call,) = [r for r in youtube.requests if r.path.endswith("/commentThreads")]
    assert call.query["allThreadsRelatedToChannelId"] == [youtube_channel.settings["channel_id"]]
    assert call.query["order"] == ["time"] and call.query["key"] == ["AIzaSyFAKE-key-0123456789"]
    assert _channel(youtube_channel).cursor["quota"] == {"day": pacific_day(), "used": 1, "limit": 10000}


def test_replies_beyond_the_five_a_thread_carries_are_read_with_comments_list(
    youtube_channel, youtube, process_payloads
):
    thread = youtube.comment(VIDEO, "Ana", "Poll: which colour?")
    for number in range(8):
        youtube.comment(VIDEO, f"R{number}", f"colour {number}", thread=thread)
    assert channel_poll(channel_id=youtube_channel.pk) == 9
    (more,) = [r for r in youtube.requests if r.path.endswith("/comments")]
    assert more.query["parentId"] == [thread["id"]]
    process_payloads(youtube_channel)
    assert Conversation.objects.get().messages.count() == 9

    youtube.comment(VIDEO, "R9", "blue", thread=thread)
    assert channel_poll(channel_id=youtube_channel.pk) == 1  # the ones read before are left out
    assert _channel(youtube_channel).cursor["quota"]["used"] == 4


def test_the_next_poll_reads_only_what_is_new_and_pages_on(youtube_channel, youtube, process_payloads):
    youtube.page_size = 2
    for number in range(5):
        youtube.comment(VIDEO, f"U{number}", f"comment {number}")
    assert channel_poll(channel_id=youtube_channel.pk) == 5  # three pages, with pageToken
    tokens = [r.query.get("pageToken") for r in youtube.requests]
    assert tokens == [None, ["2"], ["4"]]

    youtube.requests.clear()
    assert channel_poll(channel_id=youtube_channel.pk) == 0
    assert len(youtube.requests) == 1  # the first page's newest thread was seen: it stops there

    youtube.comment(VIDEO, "New", "a new one")
    assert channel_poll(channel_id=youtube_channel.pk) == 1
    process_payloads(youtube_channel)
    assert Message.objects.count() == 6


def test_a_poll_that_stops_after_its_pages_resumes_from_the_page_token(youtube_channel, youtube):
    youtube.page_size = 1
    for number in range(7):
        youtube.comment(VIDEO, f"U{number}", f"comment {number}")
    assert channel_poll(channel_id=youtube_channel.pk) == 5  # MAX_PAGES pages of one
    state = _channel(youtube_channel).cursor["threads"]["channel"]
    assert state["page_token"] == "5"
    assert channel_poll(channel_id=youtube_channel.pk) == 2
    assert _channel(youtube_channel).cursor["threads"]["channel"].keys() == {"since"}


def test_an_edited_comment_is_applied_to_the_stored_one(youtube_channel, youtube, process_payloads):
    thread = youtube.comment(VIDEO, "Ana", "teh screen cracked")
    channel_poll(channel_id=youtube_channel.pk)
    process_payloads(youtube_channel)
    youtube.edit(thread["snippet"]["topLevelComment"], "the screen cracked")

    assert channel_poll(channel_id=youtube_channel.pk) == 1
    process_payloads(youtube_channel)
    message = Message.objects.get()
    assert (
        message.text == "the screen cracked" and message.metadata["edits"][0]["text"] == "teh screen cracked"
    )
    assert RawPayload.objects.filter(status=RawPayload.Status.APPLIED).count() == 1


def test_the_published_sample_answer_is_stored(youtube_channel, youtube, process_payloads):
    youtube.next_responses.append(Response(200, {**SAMPLE, "nextPageToken": None}))
    assert channel_poll(channel_id=youtube_channel.pk) == 2
    process_payloads(youtube_channel)
    first = Message.objects.get(external_id="UgxISZhP_62DIrtv2r94AaABAg")
    assert first.text.startswith("Nobody") and first.metadata["video_id"] == "7ghhRHRP6t4"
    assert first.author_identity.external_id == "UCP22MyBntbNASpmy3aC4sdw"
    assert (
        Message.objects.get(external_id="UgzUoQgRFt_6K4EGlsV4AaABAg").author_identity.handle
        == "@priscillaratti4041"
    )


def test_the_daily_quota_stops_polling_with_a_reason_until_the_next_pacific_day(youtube_channel, youtube):
    youtube_channel.settings = {**youtube_channel.settings, "daily_quota": 2, "video_ids": [VIDEO]}
    youtube_channel.save()
    youtube.page_size = 1
    for number in range(3):
        youtube.comment(VIDEO, f"U{number}", f"comment {number}")

    assert channel_poll(channel_id=youtube_channel.pk) == 2  # two units: two pages, then the quota
    channel = _channel(youtube_channel)
    assert channel.health == "ok" and channel.status == Channel.Status.ACTIVE and channel.error_count == 0
    assert "YouTube daily quota spent: 2 of 2 units" in channel.last_error
    assert channel.next_poll_at is not None and channel.cursor["quota"]["used"] == 2
    assert "YouTube quota today: 2 of 2 units used" in YouTubeConnector().health_details(channel)[0]
    calls = len(youtube.requests)

    # Another poll the same day calls nothing.
    channel.next_poll_at = None
    channel.save()
    assert channel_poll(channel_id=channel.pk) == 0 and len(youtube.requests) == calls

    # The next Pacific day the count starts again, and the poll goes on from its page token.
    channel.cursor = {**channel.cursor, "quota": {"day": "2000-01-01", "used": 2}}
    channel.save()
    assert channel_poll(channel_id=channel.pk) == 1


def test_youtubes_quota_exceeded_pauses_the_channel_too(youtube_channel, youtube):
    youtube.comment(VIDEO, "Ana", "hi")
    youtube.project_quota = 0  # another user of the same API project spent it
    assert channel_poll(channel_id=youtube_channel.pk) == 0
    channel = _channel(youtube_channel)
    assert "quotaExceeded" in channel.last_error and channel.error_count == 0
    assert channel.cursor["quota"]["used"] == 10000


def test_search_for_mentions_is_optional_and_only_runs_with_100_units_left(
    youtube_channel, youtube, process_payloads
):
    youtube.search_results = [search_result("dQw4w9WgXcQ", "Nimbus X review", "Is the Nimbus X worth it?")]
    assert channel_poll(channel_id=youtube_channel.pk) == 0
    assert not [r for r in youtube.requests if r.path.endswith("/search")]

    youtube_channel.refresh_from_db()
    youtube_channel.settings = {**youtube_channel.settings, "search_mentions": True, "queries": ["nimbus"]}
    youtube_channel.save()
    assert channel_poll(channel_id=youtube_channel.pk) == 1
    (search,) = [r for r in youtube.requests if r.path.endswith("/search")]
    assert (
        search.query["q"] == ["nimbus"]
        and search.query["type"] == ["video"]
        and "publishedAfter" in search.query
    )
    process_payloads(youtube_channel)
    mention = Message.objects.get()
    assert mention.external_id == "video:dQw4w9WgXcQ" and mention.text.startswith("Nimbus X review")
    assert _channel(youtube_channel).cursor["quota"]["used"] == 1 + 1 + 100

    # Within the search interval no search; and with fewer than 100 units left, none either.
    youtube.requests.clear()
    channel_poll(channel_id=youtube_channel.pk)
    assert not [r for r in youtube.requests if r.path.endswith("/search")]
    channel = _channel(youtube_channel)
    channel.settings = {**channel.settings, "daily_quota": 150}
    channel.cursor = {**channel.cursor, "search": {}}
    channel.save()
    channel_poll(channel_id=channel.pk)
    assert "less than 100 quota units" in _channel(channel).cursor["search"]["skipped"]


def test_an_expired_token_is_refreshed_with_the_refresh_token(youtube_channel, youtube, process_payloads):
    youtube_channel.credentials = {
        "access_token": "ya29.expired",
        "refresh_token": REFRESH_TOKEN,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    youtube_channel.save()
    youtube.comment(VIDEO, "Ana", "hi")
    assert channel_poll(channel_id=youtube_channel.pk) == 1
    assert youtube.refreshes == 1
    token_call = next(r for r in youtube.requests if r.path == "/token")
    assert token_call.form()["grant_type"] == ["refresh_token"]
    last = [r for r in youtube.requests if r.path.endswith("/commentThreads")][-1]
    assert last.headers["authorization"] == "Bearer ya29.refreshed-1"


def test_an_expired_token_without_a_refresh_token_needs_an_admin(youtube_channel, youtube):
    youtube_channel.credentials = {"access_token": "ya29.expired"}
    youtube_channel.save()
    assert channel_poll(channel_id=youtube_channel.pk) == 0
    channel = _channel(youtube_channel)
    assert channel.health == "error" and "expired or was revoked" in channel.last_error

    # A refresh token Google refuses is the same: an admin reconnects the channel.
    channel.credentials = {
        "access_token": "ya29.expired",
        "refresh_token": "1//revoked",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    channel.status = Channel.Status.ACTIVE
    channel.save()
    channel_poll(channel_id=channel.pk)
    assert "Token has been expired or revoked" in _channel(channel).last_error


def test_a_video_with_comments_disabled_is_skipped_with_the_reason(youtube_channel, youtube):
    youtube_channel.settings = {**youtube_channel.settings, "video_ids": ["offvideo123"]}
    youtube_channel.save()
    youtube.videos["offvideo123"] = "UCother"
    youtube.disabled.add("offvideo123")
    youtube.comment(VIDEO, "Ana", "hi")
    assert channel_poll(channel_id=youtube_channel.pk) == 1
    channel = _channel(youtube_channel)
    assert channel.health == "ok"
    assert any("commentsDisabled" in d for d in YouTubeConnector().health_details(channel))


def test_malformed_answers_and_rate_limits_back_off_with_the_reason(youtube_channel, youtube):
    from apps.connectors.base import RateLimited, TransientError

    youtube.next_responses.append(Response(200, "<html>not json</html>", {"Content-Type": "text/html"}))
    with pytest.raises(TransientError):
        channel_poll(channel_id=youtube_channel.pk)
    channel = _channel(youtube_channel)
    assert channel.health == "retrying" and "not a JSON object" in channel.last_error

    channel.next_poll_at = None
    channel.save()
    youtube.next_responses.append(
        Response(429, {"error": {"code": 429, "message": "Too many requests"}}, {"Retry-After": "30"})
    )
    with pytest.raises(RateLimited):
        channel_poll(channel_id=channel.pk)
    assert "rate limit" in _channel(channel).last_error


def test_a_payload_that_is_no_youtube_item_is_rejected_with_a_reason(youtube_channel):
    from apps.connectors.base import PayloadRejected

    with pytest.raises(PayloadRejected, match="not a YouTube comment"):
        YouTubeConnector().interpret(youtube_channel, b'{"kind": "youtube#video"}', {})


def test_test_connection_names_the_channel(youtube_channel, youtube):
    assert "Nimbus" in YouTubeConnector().check(youtube_channel)
    youtube_channel.settings = {**youtube_channel.settings, "channel_id": "UCnobody"}
    from apps.connectors.base import PayloadRejected

    with pytest.raises(PayloadRejected, match="knows no channel"):
        YouTubeConnector().check(youtube_channel)


def test_an_oauth_only_channel_reads_with_its_token(youtube_channel, youtube):
    youtube_channel.credentials = {"access_token": ACCESS_TOKEN}
    youtube_channel.save()
    youtube.comment(VIDEO, "Ana", "hi")
    assert channel_poll(channel_id=youtube_channel.pk) == 1
    assert youtube.requests[-1].headers["authorization"] == f"Bearer {ACCESS_TOKEN}"


def test_listening_queries_tag_youtube_comments(youtube_channel, youtube, process_payloads, brand_a):
    from apps.listening.models import Mention
    from apps.listening.services import listening_queries_create_defaults

    brand_a.keywords = ["Nimbus"]
    brand_a.save()
    listening_queries_create_defaults(brand=brand_a)
    youtube.comment(VIDEO, "Ana", "The Nimbus X battery is great")
    youtube.comment(VIDEO, "Bo", "first!")
    channel_poll(channel_id=youtube_channel.pk)
    process_payloads(youtube_channel)
    (mention,) = Mention.objects.filter(brand=brand_a)
    assert mention.message.text == "The Nimbus X battery is great" and mention.level == "about_brand"
