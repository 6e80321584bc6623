"""Every dashboard figure equals the same figure computed by hand from the raw rows, after the real
rollup task ran; the page, its CSV exports and its drill-downs stay inside the tenant."""

import csv
import io
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils.html import escape

from apps.accounts.models import Role
from apps.analytics import selectors
from apps.analytics.models import DirtyBucket, MessageHourly
from apps.analytics.selectors import Filters
from apps.analytics.tasks import refresh_rollups_task
from apps.analytics.templatetags.analytics import duration
from apps.analytics.views import search_url
from apps.conversations.models import Conversation, Message
from apps.customers.models import Identity
from apps.listening.models import Mention
from tests.factories import MessageFactory, membership_create

from .conftest import hand_pairs, hand_terms, nearest_rank

pytestmark = pytest.mark.django_db


def _filters(world, **narrower):
    today = world["now"].date()
    return Filters(brand_id=world["brand"].pk, since=today - timedelta(days=29), until=today, **narrower)


def _narrowed(pairs, filters):
    return [
        (m, level)
        for m, level in pairs
        if (filters.channel_id is None or m.channel_id == filters.channel_id)
        and (not filters.language or m.language == filters.language)
        and (not filters.level or level == filters.level)
    ]


@pytest.mark.parametrize("narrowing", ["none", "channel", "language", "level"])
def test_every_figure_equals_the_figure_computed_by_hand(world, narrowing):
    refresh_rollups_task()  # the triggers marked every written bucket dirty; the real task recomputes them
    assert not DirtyBucket.objects.exists()
    narrower = {
        "none": {},
        "channel": {"channel_id": world["channels"][1].pk},
        "language": {"language": "es"},
        "level": {"level": "about_brand"},
    }[narrowing]
    filters = _filters(world, **narrower)
    member = world["marketer"]
    pairs = _narrowed(hand_pairs(world["brand"], filters.since, filters.until), filters)
    assert len(pairs) > 5

    per_day = Counter(m.sent_at.date() for m, _ in pairs)
    volume = selectors.volume_over_time(membership=member, filters=filters)
    assert {moment.date(): n for moment, n in volume if n} == dict(per_day)
    assert selectors.volume_total(membership=member, filters=filters) == len(pairs)

    trend = selectors.sentiment_trend(membership=member, filters=filters)
    by_sentiment = defaultdict(Counter)
    for m, _ in pairs:
        by_sentiment[m.sentiment][m.sent_at.date()] += 1
    assert {s: {t.date(): n for t, n in series if n} for s, series in trend.items()} == by_sentiment

    assert dict(selectors.intent_breakdown(membership=member, filters=filters)) == Counter(
        m.intent for m, _ in pairs
    )
    assert dict(selectors.language_mix(membership=member, filters=filters)) == Counter(
        m.language for m, _ in pairs
    )
    assert {
        r["channel_id"]: r["messages"] for r in selectors.channel_mix(membership=member, filters=filters)
    } == (Counter(m.channel_id for m, _ in pairs))
    assert dict(selectors.level_mix(membership=member, filters=filters)) == Counter(
        level for _, level in pairs
    )

    for hashtags in (False, True):
        terms = dict(selectors.top_terms(membership=member, filters=filters, hashtags=hashtags, limit=None))
        assert terms == hand_terms(pairs, hashtags)
    assert "the" not in terms and "42" not in terms and "@someone" not in terms

    authors = Counter(m.author_identity_id for m, _ in pairs if m.author_identity_id)
    top = list(selectors.top_authors(membership=member, filters=filters, limit=None))
    assert {row["identity_id"]: row["messages"] for row in top} == authors
    assert [row["messages"] for row in top] == sorted(authors.values(), reverse=True)
    influencers = list(selectors.top_authors(membership=member, filters=filters, by="followers", limit=3))
    assert [row["followers"] for row in influencers] == sorted(
        {
            m.author_identity_id: m.author_identity.followers for m, _ in pairs if m.author_identity_id
        }.values(),
        reverse=True,
    )[:3]

    leaders = selectors.author_leaders(membership=member, filters=filters, limit=3)
    assert leaders == (top[:3], influencers)

    if narrowing != "level":  # share of voice is itself a split by level
        voice = dict(selectors.share_of_voice(membership=member, filters=filters))
        own = sum(1 for _, level in pairs if level in ("to_brand", "about_brand"))
        rival = [
            x
            for x in Mention.objects.filter(brand=world["brand"], level="competitor", competitor="Rival Co")
            if x.relevant is not False
            and any(x.message_id == m.pk for m, _ in _narrowed(_all_inbound(world, filters), filters))
        ]
        assert voice == {"": own, **({"Rival Co": len(rival)} if rival else {})}


def _all_inbound(world, filters):
    return [
        (m, "")
        for m in Message.objects.filter(organization=world["org"], direction="inbound")
        if filters.since <= m.sent_at.date() <= filters.until
    ]


def test_response_times_are_the_hand_computed_median_and_p90_by_team_and_channel(world):
    refresh_rollups_task()
    filters = _filters(world)
    expected = defaultdict(lambda: {"first": [], "resolved": [], "n": 0})
    by_channel = defaultdict(lambda: {"first": [], "resolved": [], "n": 0})
    for conversation in Conversation.objects.filter(brand=world["brand"]):
        start = conversation.messages.filter(direction="inbound").order_by("sent_at").first().sent_at
        if not filters.since <= start.date() <= filters.until:
            continue
        for key, table in ((conversation.team_id, expected), (conversation.channel_id, by_channel)):
            table[key]["n"] += 1
            if conversation.first_response_at:
                table[key]["first"].append(int((conversation.first_response_at - start).total_seconds()))
            if conversation.status == "closed" and conversation.resolved_at:
                table[key]["resolved"].append(int((conversation.resolved_at - start).total_seconds()))
    for by, table, key in (("team", expected, "team_id"), ("channel", by_channel, "channel_id")):
        rows = selectors.response_times(membership=world["marketer"], filters=filters, by=by)
        assert {row[key]: row["conversations"] for row in rows} == {k: v["n"] for k, v in table.items()}
        for row in rows:
            hand = table[row[key]]
            assert row["first_response_median"] == nearest_rank(hand["first"], 0.5)
            assert row["first_response_p90"] == nearest_rank(hand["first"], 0.9)
            assert row["resolution_median"] == nearest_rank(hand["resolved"], 0.5)
            assert row["resolution_p90"] == nearest_rank(hand["resolved"], 0.9)


def test_reclassification_corrections_and_closing_move_the_counts(world):
    refresh_rollups_task()
    filters = _filters(world)
    member = world["marketer"]
    before = dict(selectors.intent_breakdown(membership=member, filters=filters))
    message = (
        Message.objects.filter(conversation__brand=world["brand"], direction="inbound")
        .exclude(intent="praise")
        .first()
    )
    old = message.intent
    # The classifier's bulk UPDATE and an agent's correction are both plain writes: the triggers see them.
    Message.objects.filter(pk=message.pk).update(intent="praise", sentiment="positive")
    assert DirtyBucket.objects.exists()
    refresh_rollups_task()
    after = dict(selectors.intent_breakdown(membership=member, filters=filters))
    assert after["praise"] == before.get("praise", 0) + 1
    assert after.get(old, 0) == before[old] - 1

    conversation = message.conversation
    Conversation.objects.filter(pk=conversation.pk).update(team=None, status="closed", resolved_at=None)
    refresh_rollups_task()
    rows = selectors.response_times(membership=member, filters=filters, by="team")
    assert sum(row["conversations"] for row in rows) == Conversation.objects.filter(
        brand=world["brand"]
    ).count() - _started_before(world, filters)

    Mention.objects.filter(brand=world["brand"], level="competitor").update(relevant=False)
    refresh_rollups_task()
    assert "Rival Co" not in dict(selectors.share_of_voice(membership=member, filters=filters))


def _started_before(world, filters) -> int:
    return sum(
        1
        for c in Conversation.objects.filter(brand=world["brand"])
        if c.messages.filter(direction="inbound").order_by("sent_at").first().sent_at.date() < filters.since
    )


def test_brand_hourly_counts_give_volume_and_negatives_per_hour(world):
    refresh_rollups_task()
    now = world["now"]
    since, until = now - timedelta(days=3), now
    pairs = [
        m
        for m, _ in hand_pairs(world["brand"], (since - timedelta(days=1)).date(), until.date())
        if since.replace(minute=0) <= m.sent_at < until
    ]
    expected = defaultdict(lambda: [0, 0])
    for m in pairs:
        hour = m.sent_at.replace(minute=0, second=0, microsecond=0)
        expected[hour][0] += 1
        expected[hour][1] += m.sentiment == "negative"
    rows = selectors.brand_hourly_counts(
        brand_id=world["brand"].pk, since=since.replace(minute=0), until=until
    )
    assert {hour: [total, negative] for hour, total, negative in rows} == dict(expected)


def test_the_page_draws_every_figure_and_drills_down_into_the_inbox(world, login):
    refresh_rollups_task()
    client = login(world["marketer"])
    response = client.get(reverse("analytics:dashboard"), {"brand": world["brand"].pk, "range": "30d"})
    assert response.status_code == 200
    charts = response.context["charts"]
    pairs = hand_pairs(world["brand"], *_range(world))
    assert sum(charts["volume"]["datasets"][0]["data"]) == len(pairs) == response.context["total"]
    for name in ("volume", "sentiment", "voice", "intents", "channels", "languages"):
        assert f'data-chart="{name}"' in response.content.decode()
    # The channel bar of the X channel opens the inbox on that channel: exactly its open conversations.
    channels = charts["channels"]
    position = channels["labels"].index("X (X)")
    url = channels["urls"][0][position]
    # A marketer's drill-downs open the read-only pages, which take the inbox's querystring.
    assert url.startswith(reverse("reader:conversations"))
    read = {c.pk for c in client.get(url).context["page"].conversations}
    url = url.replace(reverse("reader:conversations"), reverse("inbox:index"), 1)
    client.logout()
    agent = membership_create(world["org"], Role.COMMUNITY_MANAGER)
    agent_view = login(agent).get(url)
    shown = {c.pk for c in agent_view.context["page"].conversations}
    assert read == shown
    since, until = _range(world)
    expected = {
        c.pk
        for c in Conversation.objects.filter(channel=world["channels"][1], status__in=["open", "pending"])
        if since <= c.last_message_at.date() <= until
    }
    assert shown == expected and shown

    # A competitor's share-of-voice bar opens the conversations holding its mentions, wherever they are.
    voice = charts["voice"]
    competitor = next(label for label in voice["labels"] if label != world["brand"].name)
    url = voice["urls"][0][voice["labels"].index(competitor)]
    url = url.replace(reverse("reader:conversations"), reverse("inbox:index"), 1)
    shown = {c.pk for c in login(agent).get(url).context["page"].conversations}
    tagged = (
        Mention.objects.filter(brand=world["brand"], level="competitor", competitor=competitor)
        .exclude(relevant=False)
        .values("message__conversation_id")
    )
    expected = {
        c.pk
        for c in Conversation.objects.filter(pk__in=tagged, status__in=["open", "pending"])
        if since <= c.last_message_at.date() <= until
    }
    assert shown == expected and shown


def _range(world):
    today = world["now"].date()
    return today - timedelta(days=29), today


def test_csv_exports_stream_every_row_with_the_page_filters(world, login):
    refresh_rollups_task()
    client = login(world["marketer"])
    filters = _filters(world)
    params = {"brand": world["brand"].pk, "range": "30d"}
    response = client.get(reverse("analytics:export", args=["messages"]), params)
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    pairs = hand_pairs(world["brand"], filters.since, filters.until)
    assert sorted(int(r[0]) for r in rows[1:]) == sorted(m.pk for m, _ in pairs)
    assert {int(r[0]): r[5] for r in rows[1:]} == {m.pk: level for m, level in pairs}

    response = client.get(reverse("analytics:export", args=["terms"]), params)
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    expected = hand_terms(pairs, hashtags=False)
    assert {r[0]: int(r[1]) for r in rows[1:]} == expected
    for name in (
        "volume",
        "sentiment",
        "voice",
        "intents",
        "languages",
        "channels",
        "hashtags",
        "authors",
        "influencers",
        "response-team",
        "response-channel",
    ):
        assert client.get(reverse("analytics:export", args=[name]), params).status_code == 200


def test_csv_has_no_row_cap(world, login):
    """More terms than any page shows: all of them come out."""
    conversation = Conversation.objects.filter(brand=world["brand"]).first()
    for start in range(0, 1500, 50):  # 50 terms a message: well inside the tokeniser's text limit
        MessageFactory(
            conversation=conversation,
            text=" ".join(f"word{n:04d}x" for n in range(start, start + 50)),
            sent_at=world["now"],
        )
    refresh_rollups_task()
    client = login(world["marketer"])
    response = client.get(reverse("analytics:export", args=["terms"]), {"brand": world["brand"].pk})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert sum(1 for r in rows if r[0].startswith("word")) == 1500


def test_no_leak_to_another_organisation_or_a_brand_limited_member(world, login, client):
    refresh_rollups_task()
    brand = world["brand"]
    outsider = login(world["outsider"])
    assert outsider.get(reverse("analytics:dashboard"), {"brand": brand.pk}).status_code == 404
    assert (
        outsider.get(reverse("analytics:export", args=["messages"]), {"brand": brand.pk}).status_code == 404
    )
    page = outsider.get(reverse("analytics:dashboard"))
    assert page.status_code == 200 and "Secret" not in page.content.decode()
    assert sum(page.context["charts"]["volume"]["datasets"][0]["data"]) == 1  # only its own message
    client.logout()
    limited = login(world["limited"])
    assert limited.get(reverse("analytics:dashboard"), {"brand": brand.pk}).status_code == 404
    assert limited.get(reverse("analytics:export", args=["terms"]), {"brand": brand.pk}).status_code == 404
    own = limited.get(reverse("analytics:dashboard"))
    assert own.context["brand"] == world["other"]
    assert [b.pk for b in own.context["brands"]] == [world["other"].pk]
    # A rollup row of brand A is invisible to the limited member even when asked for directly.
    assert not selectors.volume_total(membership=world["limited"], filters=_filters(world))
    assert MessageHourly.objects.filter(brand=brand).exists()


def test_short_ranges_are_drawn_per_hour_from_the_hourly_rollup(world):
    refresh_rollups_task()
    today = world["now"].date()
    filters = Filters(brand_id=world["brand"].pk, since=today - timedelta(days=2), until=today)
    assert filters.hourly
    pairs = hand_pairs(world["brand"], filters.since, filters.until)
    per_hour = Counter(m.sent_at.replace(minute=0, second=0, microsecond=0) for m, _ in pairs)
    volume = selectors.volume_over_time(membership=world["marketer"], filters=filters)
    assert len(volume) == 72
    assert {moment: n for moment, n in volume if n} == dict(per_hour)
    intents = selectors.intent_breakdown(membership=world["marketer"], filters=filters)
    assert dict(intents) == Counter(m.intent for m, _ in pairs)


def test_rebuild_rollups_command_gives_the_same_rows_as_the_workers(world):
    from django.core.management import call_command

    refresh_rollups_task()
    filters = _filters(world)
    before = selectors.volume_over_time(membership=world["marketer"], filters=filters)
    MessageHourly.objects.all().delete()
    call_command("rebuild_rollups", organization=world["org"].slug)
    assert selectors.volume_over_time(membership=world["marketer"], filters=filters) == before


def test_drill_down_querystrings_keep_ids_of_one():
    """A drill-down into brand 1 or channel 1 must not lose its filter (page 1 is the only default)."""
    from apps.conversations.selectors import InboxFilters, InboxQuery

    query = InboxQuery(filters=InboxFilters(brand=1, channel=1, assignee=1, tags=(1,)), page=1)
    assert query.querystring() == "brand=1&channel=1&tag=1&assignee=1"


def test_the_slow_panels_come_as_partials_with_the_page_filters(world, login):
    """The page draws a placeholder per panel that fetches it with the page's querystring; each panel is a
    partial of the page's template with the same figures as the selectors."""
    refresh_rollups_task()
    client = login(world["marketer"])
    member = world["marketer"]
    params = {"brand": world["brand"].pk, "range": "30d", "channel": world["channels"][1].pk}
    filters = _filters(world, channel_id=world["channels"][1].pk)
    page = client.get(reverse("analytics:dashboard"), params).content.decode()
    for name in ("terms", "authors", "response-team", "response-channel"):
        panel_url = reverse("analytics:panel", args=[name])
        assert f'hx-get="{panel_url}?brand={world["brand"].pk}&amp;range=30d&amp;channel=' in page

    terms = client.get(reverse("analytics:panel", args=["terms"]), params).content.decode()
    assert "<html" not in terms and 'id="table-hashtags"' in terms
    for hashtags in (False, True):
        shown = selectors.top_terms(membership=member, filters=filters, hashtags=hashtags)
        assert shown and all(
            f'<tr><td><a href="{escape(search_url(filters, term))}">{term}</a></td><td>{n}</td></tr>' in terms
            for term, n in shown
        )

    authors = client.get(reverse("analytics:panel", args=["authors"]), params).content.decode()
    top, influencers = selectors.author_leaders(membership=member, filters=filters, limit=20)
    rows = [f"{a['handle']}</span></td><td>{a['messages']}</td><td>{a['followers']}</td>" for a in top]
    rows += [
        f"{a['handle']}</span></td><td>{a['followers']}</td><td>{a['messages']}</td>" for a in influencers
    ]
    assert top and all(row in authors for row in rows)
    # A marketer follows an author to what they wrote (read-only), not to the customer's profile.
    assert all(reverse("reader:author", args=[a["customer_id"]]) in authors for a in top + influencers)
    assert reverse("customers:detail", args=[top[0]["customer_id"]]) not in authors

    for by in ("team", "channel"):
        times = client.get(reverse("analytics:panel", args=[f"response-{by}"]), params).content.decode()
        assert f'id="table-response-{by}"' in times
        rows = selectors.response_times(membership=member, filters=filters, by=by)
        for row in rows:
            shown = f"<td>{row['conversations']}</td>\n<td>{duration(row['first_response_median'])}</td>"
            assert shown in times
        assert rows and times.count("<tr>") == len(rows) + 1
        linked = [row for row in rows if row[f"{by}_id"]]  # "no team" has no filter of its own
        assert linked and all(f"{by}={row[f'{by}_id']}" in times for row in linked)

    assert client.get(reverse("analytics:panel", args=["nothing"]), params).status_code == 404
    client.logout()
    outsider = login(world["outsider"])
    for name in ("terms", "authors", "response-team", "response-channel"):
        assert outsider.get(reverse("analytics:panel", args=[name]), params).status_code == 404

    # A term's link is the search for it, which finds the messages counted (no fewer: search also stems).
    term, n = selectors.top_terms(membership=member, filters=filters)[0]
    results = login(membership_create(world["org"], Role.COMMUNITY_MANAGER)).get(search_url(filters, term))
    assert results.status_code == 200 and results.context["results"].total >= n


def test_influencers_rank_by_the_followers_recorded_at_the_last_recompute(world):
    """The author rollup keeps each author's follower count as of its bucket's recompute: a change of the
    identity shows once the bucket is recomputed (any later write to the day does that)."""
    from apps.analytics.services import rollups_recompute

    refresh_rollups_task()
    member, filters = world["marketer"], _filters(world)
    before = selectors.author_leaders(membership=member, filters=filters, limit=6)[1]
    last = before[-1]
    Identity.objects.filter(pk=last["identity_id"]).update(followers=10_000_000)
    assert selectors.author_leaders(membership=member, filters=filters, limit=6)[1] == before
    rollups_recompute(
        organization_id=world["org"].pk,
        brand_ids=[world["brand"].pk],
        first_day=filters.since,
        last_day=filters.until,
    )
    after = selectors.author_leaders(membership=member, filters=filters, limit=6)[1]
    assert after[0]["identity_id"] == last["identity_id"] and after[0]["followers"] == 10_000_000
