"""The inbox list: views, filters, sorting, counts, pages, tenancy, and text that stays text."""

from datetime import timedelta

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.classification.models import DEFAULT_INTENT_LABELS
from apps.conversations.models import Conversation, Tag
from apps.conversations.selectors import (
    COUNT_CAP,
    MAX_PAGE,
    PAGE_SIZE,
    InboxFilters,
    InboxQuery,
    inbox_conversations,
    inbox_counts,
)
from tests.factories import ConversationFactory, CustomerFactory

from .conftest import conversation_with, hours_ago

pytestmark = pytest.mark.django_db
INDEX = reverse("inbox:index")


def subjects(membership, **kwargs) -> list[str]:
    return [c.subject for c in inbox_conversations(membership=membership, **kwargs).conversations]


def test_each_view_shows_its_conversations(desk):
    agent, colleague = desk["agent"], desk["colleague"]
    conversation_with(desk["email"], subject="mine", assignee=agent.user)
    conversation_with(desk["email"], subject="mine, pending", assignee=agent.user, status="pending")
    conversation_with(desk["email"], subject="mine, closed", assignee=agent.user, status="closed")
    conversation_with(desk["email"], subject="colleague's", assignee=colleague.user)
    conversation_with(desk["chat"], subject="nobody's")
    conversation_with(desk["chat"], subject="the team's", team=desk["team"], assignee=colleague.user)

    assert sorted(subjects(agent, view="mine")) == ["mine", "mine, pending"]
    assert subjects(agent, view="unassigned") == ["nobody's"]
    assert subjects(agent, view="team") == ["the team's"]
    assert sorted(subjects(agent, view="all")) == [
        "colleague's",
        "mine",
        "mine, pending",
        "nobody's",
        "the team's",
    ]
    assert subjects(colleague, view="team") == []  # not in the team
    assert inbox_counts(membership=agent) == {
        "needs_reply": 5,
        "mine": 2,
        "unassigned": 1,
        "team": 1,
        "all": 5,
    }


def test_the_page_shows_tabs_with_counts_and_the_chosen_view(desk, login):
    conversation_with(desk["email"], subject="Printer on fire", assignee=desk["agent"].user)
    conversation_with(desk["email"], subject="Where is my parcel")
    client = login(desk["agent"])

    page = client.get(INDEX, {"view": "mine"}).content.decode()

    assert "Printer on fire" in page and "Where is my parcel" not in page
    assert 'aria-current="page">Mine<span class="count" title="in this view, before filters">1</span>' in page
    assert 'All<span class="count" title="in this view, before filters">2</span>' in page


FILTER_CASES = {
    "brand": ("brand", lambda d: d["other_brand"].pk, {"channel_key": "chat"}),
    "channel": ("channel", lambda d: d["chat"].pk, {"channel_key": "chat"}),
    "sentiment": ("sentiment", lambda d: "negative", {"sentiment": "negative"}),
    "intent": ("intent", lambda d: "churn_risk", {"intent": "churn_risk"}),
    "language": ("language", lambda d: "pt-BR", {"language": "pt-BR"}),
    "priority": ("priority", lambda d: "urgent", {"priority": 91.0}),
    "status": ("status", lambda d: "snoozed", {"status": "snoozed"}),
    "assignee": ("assignee", lambda d: d["colleague"].user_id, {"assignee_key": "colleague"}),
    "team": ("team", lambda d: d["team"].pk, {"team_key": "team"}),
    "from": ("from", lambda d: str(timezone.localdate()), {"last_message_at": timezone.now()}),
    "to": (
        "to",
        lambda d: str(timezone.localdate() - timedelta(days=3)),
        {"last_message_at": hours_ago(24 * 5)},
    ),
}


@pytest.mark.parametrize("name", FILTER_CASES)
def test_each_filter_narrows_the_list(desk, name):
    param, value, fields = FILTER_CASES[name]
    fields = dict(fields)
    channel = desk[fields.pop("channel_key", "email")]
    if "assignee_key" in fields:
        fields["assignee"] = desk[fields.pop("assignee_key")].user
    if "team_key" in fields:
        fields["team"] = desk[fields.pop("team_key")]
    base = {"priority": 10.0, "last_message_at": hours_ago(48)}
    conversation_with(channel, subject="wanted", **{**base, **fields})
    conversation_with(
        desk["email"], subject="other", sentiment="positive", intent="praise", language="en", **base
    )
    query = InboxQuery.parse(QueryDict(f"{param}={value(desk)}"), intent_labels=DEFAULT_INTENT_LABELS)

    assert query.problems == ()
    assert subjects(desk["agent"], filters=query.filters) == ["wanted"]


def test_the_tag_filter_keeps_conversations_with_any_of_the_tags(desk):
    vip, angry, other = (
        Tag.objects.create(organization=desk["org"], name=n) for n in ("vip", "angry", "other")
    )
    conversation_with(desk["email"], subject="vip").tags.add(vip)
    conversation_with(desk["email"], subject="angry").tags.add(angry, other)
    conversation_with(desk["email"], subject="untagged")
    filters = InboxFilters(tags=(vip.pk, angry.pk))

    assert sorted(subjects(desk["agent"], filters=filters)) == ["angry", "vip"]


def test_the_listening_filter_keeps_conversations_tagged_for_a_brand_wherever_they_are(desk, login):
    from apps.listening.models import Mention

    def tagged(channel, subject, **mention):
        conversation = conversation_with(channel, subject=subject)
        message = conversation.messages.get()
        Mention.objects.create(organization=desk["org"], message=message, brand=desk["brand"], **mention)

    tagged(desk["chat"], "rival in another brand's chat", level="competitor", competitor="Rival Co")
    tagged(desk["email"], "other rival", level="competitor", competitor="Other Co")
    tagged(desk["chat"], "not really about it", level="competitor", competitor="Rival Co", relevant=False)
    tagged(desk["chat"], "about the brand", level="about_brand")
    conversation_with(desk["chat"], subject="untagged")
    brand = desk["brand"].pk

    def listed(**filters):
        return sorted(subjects(desk["agent"], filters=InboxFilters(about=brand, **filters)))

    assert listed(level="competitor", competitor="Rival Co") == ["rival in another brand's chat"]
    assert listed(level="competitor") == ["other rival", "rival in another brand's chat"]
    assert listed() == ["about the brand", "other rival", "rival in another brand's chat"]
    text = f"about={brand}&level=competitor&competitor=Rival+Co"
    query = InboxQuery.parse(QueryDict(text), intent_labels=DEFAULT_INTENT_LABELS)
    assert query.querystring() == text and not query.problems
    page = login(desk["agent"]).get(reverse("inbox:index"), QueryDict(text)).content.decode()
    assert 'name="competitor" value="Rival Co"' in page  # kept as the other filters change
    assert "Tagged by listening for Brand A" in page
    orphan = InboxQuery.parse(QueryDict("level=competitor"), intent_labels=DEFAULT_INTENT_LABELS)
    assert orphan.filters.level == "" and orphan.problems


def test_filters_combine_with_the_view(desk, login):
    conversation_with(
        desk["email"], subject="mine and angry", assignee=desk["agent"].user, sentiment="negative"
    )
    conversation_with(desk["email"], subject="angry", sentiment="negative")
    conversation_with(desk["email"], subject="mine, calm", assignee=desk["agent"].user, sentiment="neutral")

    page = login(desk["agent"]).get(INDEX, {"view": "mine", "sentiment": "negative"}).content.decode()

    assert "mine and angry" in page and "mine, calm" not in page and ">angry<" not in page


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("priority", ["urgent", "recent", "old, due soon"]),
        ("newest", ["recent", "urgent", "old, due soon"]),
        ("oldest", ["old, due soon", "urgent", "recent"]),
        ("sla", ["old, due soon", "recent", "urgent"]),
    ],
)
def test_sort_orders(desk, sort, expected):
    now = timezone.now()
    conversation_with(desk["email"], subject="urgent", priority=90, last_message_at=hours_ago(5))
    conversation_with(
        desk["email"],
        subject="recent",
        priority=20,
        last_message_at=hours_ago(1),
        sla_due_at=now + timedelta(hours=3),
    )
    conversation_with(
        desk["email"], subject="old, due soon", priority=10, last_message_at=hours_ago(9), sla_due_at=now
    )

    assert subjects(desk["agent"], sort=sort) == expected


def test_values_that_make_no_sense_are_left_out_with_a_reason(desk, login):
    conversation_with(desk["email"], subject="still listed")
    junk = {
        "view": "everything",
        "sentiment": "furious",
        "brand": "1 OR 1=1",
        "tag": ["x", "7"],
        "language": "<script>",
        "from": "yesterday",
        "page": str(MAX_PAGE + 5),
        "sort": "random",
        "unknown": "ignored",
    }

    response = login(desk["agent"]).get(INDEX, junk)

    page = response.content.decode()
    assert response.status_code == 200
    assert "still listed" not in page  # page 20: nothing that far
    for name in ("view", "sentiment", "brand", "tag", "language", "from", "page", "sort"):
        assert f"<li>{name}:" in page, name
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_an_end_date_before_the_start_date_is_left_out():
    query = InboxQuery.parse(QueryDict("from=2026-05-10&to=2026-05-01"), intent_labels=DEFAULT_INTENT_LABELS)

    assert query.filters.date_from.isoformat() == "2026-05-10" and query.filters.date_to is None
    assert query.problems == ("to: the end date is before the start date",)


def test_the_querystring_round_trips_without_defaults():
    text = "view=mine&brand=3&sentiment=negative&tag=4&tag=9&from=2026-05-01&sort=sla&page=2"
    query = InboxQuery.parse(QueryDict(text), intent_labels=DEFAULT_INTENT_LABELS)

    assert query.querystring() == text
    assert (
        query.querystring(view="all", page=1)
        == "brand=3&sentiment=negative&tag=4&tag=9&from=2026-05-01&sort=sla"
    )


def test_pages_of_fifty_up_to_a_bound(desk, login):
    customer = CustomerFactory(organization=desk["org"])
    Conversation.objects.bulk_create(
        Conversation(
            organization=desk["org"],
            brand=desk["brand"],
            channel=desk["email"],
            customer=customer,
            subject=f"c{n:03d}",
            priority=n,
            last_message_at=timezone.now(),
        )
        for n in range(PAGE_SIZE + 5)
    )

    first = inbox_conversations(membership=desk["agent"], page=1)
    second = inbox_conversations(membership=desk["agent"], page=2)

    assert len(first.conversations) == PAGE_SIZE and first.has_next and not first.has_previous
    assert [c.subject for c in second.conversations] == ["c004", "c003", "c002", "c001", "c000"]
    assert not second.has_next and (second.first_position, second.last_position) == (51, 55)
    page = login(desk["agent"]).get(INDEX).content.decode()
    # An agent's list starts on the "needs_reply" view (these wait for the classifier, so they are in it).
    assert f'href="{INDEX}?view=needs_reply&amp;page=2"' in page and "1–50" in page


def test_counts_stop_at_the_cap(desk, login):
    customer = CustomerFactory(organization=desk["org"])
    Conversation.objects.bulk_create(
        Conversation(organization=desk["org"], brand=desk["brand"], channel=desk["email"], customer=customer)
        for _ in range(COUNT_CAP + 1)
    )

    assert inbox_counts(membership=desk["agent"])["unassigned"] == COUNT_CAP
    page = login(desk["agent"]).get(INDEX).content.decode()
    assert 'Unassigned<span class="count" title="in this view, before filters">999+</span>' in page


def test_another_organisations_conversations_never_appear(desk, login):
    conversation_with(desk["email"], subject="Ours")
    client = login(desk["agent"])

    for params in ({}, {"view": "unassigned"}, {"brand": desk["elsewhere"].brand_id}, {"status": "open"}):
        page = client.get(INDEX, params).content.decode()
        assert "Org B secret" not in page, params
    assert inbox_counts(membership=desk["agent"])["all"] == 1
    assert subjects(desk["agent"], filters=InboxFilters(brand=desk["elsewhere"].brand_id)) == []


def test_a_brand_limited_agent_sees_only_its_brands(desk, login):
    conversation_with(desk["email"], subject="Brand A thread")
    conversation_with(desk["chat"], subject="Brand A2 thread")

    page = login(desk["limited"]).get(INDEX).content.decode()

    assert "Brand A2 thread" in page and "Brand A thread" not in page
    assert inbox_counts(membership=desk["limited"])["all"] == 1
    assert subjects(desk["limited"], filters=InboxFilters(brand=desk["brand"].pk)) == []
    assert ">Brand A</option>" not in page and ">Brand A2</option>" in page  # the brands it may filter on


def test_marketers_cannot_open_the_inbox(desk, login):
    assert login(desk["marketer"]).get(INDEX).status_code == 403


def test_hostile_html_in_subjects_messages_names_and_tags_is_inert(desk, login):
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    conversation = conversation_with(
        desk["email"],
        subject=f"Subject {hostile}",
        customer=CustomerFactory(organization=desk["org"], display_name=f"Eve {hostile}"),
        inbound={"text": f"Body {hostile}"},
    )
    conversation.tags.add(Tag.objects.create(organization=desk["org"], name="<b>tag</b>"))

    page = login(desk["agent"]).get(INDEX).content.decode()

    assert "<script>alert" not in page and "<img src=x" not in page and "<b>tag" not in page
    assert "Subject &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert (
        "Body &lt;script&gt;" in page and "Eve &lt;script&gt;" in page and "#&lt;b&gt;tag&lt;/b&gt;" in page
    )


def test_rows_show_labels_preview_and_tags(desk, login):
    conversation_with(
        desk["email"],
        subject="Cancel my plan",
        sentiment="negative",
        intent="churn_risk",
        language="es",
        priority=80,
        inbound={"text": "Quiero cancelar mi plan ahora mismo"},
    )

    page = login(desk["agent"]).get(INDEX).content.decode()

    assert "Quiero cancelar mi plan ahora mismo" in page
    for chip in ('sentiment-negative" title="sentiment">negative', ">churn_risk<", "priority-urgent", ">es<"):
        assert chip in page, chip


def test_htmx_gets_the_results_and_the_normalised_url(desk, login):
    conversation_with(desk["email"], subject="Listed")
    client = login(desk["agent"])

    navigated = client.get(
        INDEX, {"view": "mine", "brand": "", "sort": "priority"}, headers={"HX-Request": "true"}
    )
    refreshed = client.get(
        INDEX, {"sentiment": "negative"}, headers={"HX-Request": "true", "HX-Trigger": "inbox-results"}
    )

    assert navigated["HX-Push-Url"] == f"{INDEX}?view=mine"
    assert refreshed["HX-Replace-Url"] == f"{INDEX}?sentiment=negative" and "HX-Push-Url" not in refreshed
    body = navigated.content.decode()
    assert "<html" not in body and 'aria-label="Inbox views"' in body
    # The hidden inputs that carry the list's state elsewhere on the page follow it.
    assert 'id="inbox-view-input" hx-swap-oob="true"' in body and 'value="view=mine"' in body


def test_the_page_costs_the_same_queries_for_few_or_many_rows(desk, login):
    client = login(desk["agent"])
    tag = Tag.objects.create(organization=desk["org"], name="vip")
    conversation_with(desk["email"], assignee=desk["colleague"].user).tags.add(tag)
    client.get(INDEX)  # the first visit makes the organisation's classification settings
    with CaptureQueriesContext(connection) as few:
        client.get(INDEX)
    for _ in range(12):
        conversation_with(desk["chat"], assignee=desk["agent"].user).tags.add(tag)
        ConversationFactory(channel=desk["email"])
    with CaptureQueriesContext(connection) as many:
        assert client.get(INDEX).status_code == 200

    assert len(many) == len(few)
