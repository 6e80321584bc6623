"""Marketers follow every dashboard drill-down (totals, chart points, terms, authors, response times) and
search into read-only message pages limited to their brands: no composer, no action, no internal note,
no contact detail."""

import re
from html import unescape

import pytest
from django.urls import reverse

from apps.accounts.models import Role
from apps.analytics.tasks import refresh_rollups_task
from apps.connectors.kinds import ChannelKind
from apps.conversations.models import Message
from tests.factories import (
    ChannelFactory,
    ConversationFactory,
    IdentityFactory,
    MessageFactory,
    membership_create,
)

pytestmark = pytest.mark.django_db

ACTION_FORM = re.compile(r'<form[^>]*method="post"(?![^>]*action="/logout/")', re.IGNORECASE)


def _links(html: str, prefix: str) -> set[str]:
    return {unescape(link) for link in re.findall(rf'href="({re.escape(prefix)}[^"]*)"', html)}


def _read_only(html: str) -> bool:
    return not ACTION_FORM.search(html) and "<textarea" not in html


def test_a_marketer_follows_every_drill_down_into_read_only_pages(world, login):
    refresh_rollups_task()
    client = login(world["marketer"])
    params = {"brand": world["brand"].pk, "range": "30d"}
    response = client.get(reverse("analytics:dashboard"), params)
    html = response.content.decode()
    charts = response.context["charts"]
    assert reverse("inbox:index") not in html and reverse("customers:list") not in html
    followed = {response.context["inbox_url"]}  # the total
    for chart in charts.values():
        for series in chart["urls"]:
            followed |= {url for url in series[:4] if url}  # a few points of each series
    for panel in ("terms", "authors", "response-team", "response-channel"):
        partial = client.get(reverse("analytics:panel", args=[panel]), params).content.decode()
        for prefix in ("/read/", "/search/", "/inbox/", "/customers/"):
            found = _links(partial, prefix)
            assert prefix in ("/read/", "/search/") or not found, (panel, found)
            followed |= set(list(found)[:4])
    assert any(url.startswith("/search/") for url in followed)  # terms
    assert any(url.startswith("/read/authors/") for url in followed)  # authors
    assert any(url.startswith("/read/?") for url in followed)  # figures
    for url in sorted(followed):
        page = client.get(url)
        assert page.status_code == 200, url
        assert _read_only(page.content.decode()), url
        for conversation in getattr(page.context.get("page"), "conversations", [])[:2]:
            thread = client.get(reverse("reader:conversation", args=[conversation.pk]))
            assert thread.status_code == 200 and _read_only(thread.content.decode())


def test_the_read_only_pages_show_no_note_and_no_contact_detail(org_a, brand_a, make_membership, login):
    channel = ChannelFactory(brand=brand_a, kind=ChannelKind.EMAIL)
    ana = IdentityFactory(
        customer__organization=org_a, kind=ChannelKind.EMAIL, handle="ana@example.com", display_name="Ana"
    )
    conversation = ConversationFactory(channel=channel, customer=ana.customer, subject="Where is my parcel")
    MessageFactory(conversation=conversation, author_identity=ana, text="My parcel is late, call +34 600")
    MessageFactory(conversation=conversation, direction=Message.Direction.NOTE, text="Internal: VIP, refund")
    MessageFactory(conversation=conversation, direction=Message.Direction.OUTBOUND, text="We are on it")
    public = IdentityFactory(
        customer__organization=org_a, kind=ChannelKind.X, handle="@bea", display_name="Bea"
    )
    post = ConversationFactory(
        channel=ChannelFactory(brand=brand_a, kind=ChannelKind.X), customer=public.customer
    )
    MessageFactory(conversation=post, author_identity=public, text="Loving the new phone")

    client = login(make_membership(org_a, Role.MARKETER))
    html = client.get(reverse("reader:conversation", args=[conversation.pk])).content.decode()
    assert "My parcel is late" in html and "We are on it" in html and brand_a.name in html
    assert "Internal: VIP" not in html and "ana@example.com" not in html and _read_only(html)
    assert "Customer" in html  # an email author is not named by their address
    html = client.get(reverse("reader:author", args=[public.customer_id])).content.decode()
    assert "Bea (@bea)" in html and "Loving the new phone" in html
    html = client.get(reverse("reader:author", args=[ana.customer_id])).content.decode()
    assert "ana@example.com" not in html and "My parcel is late" in html
    listing = client.get(reverse("reader:conversations"), {"brand": brand_a.pk}).content.decode()
    assert "Where is my parcel" in listing and "Ana" not in listing  # a private channel's customer


def test_a_brand_limited_marketer_reads_only_their_brands(world, login):
    theirs = world["other"]
    client = login(world["limited"])  # a marketer of Brand A2 only
    on_a = MessageFactory(conversation=ConversationFactory(channel=world["channels"][0]))
    on_theirs = MessageFactory(conversation=ConversationFactory(channel=world["channels"][2]))
    assert client.get(reverse("reader:conversation", args=[on_a.conversation_id])).status_code == 404
    assert client.get(reverse("reader:conversation", args=[on_theirs.conversation_id])).status_code == 200
    listing = client.get(reverse("reader:conversations"), {"brand": world["brand"].pk})
    assert all(c.brand_id == theirs.pk for c in listing.context["page"].conversations)
    only_on_a = IdentityFactory(customer__organization=world["org"])
    MessageFactory(conversation=on_a.conversation, author_identity=only_on_a)
    assert client.get(reverse("reader:author", args=[only_on_a.customer_id])).status_code == 404
    outsider = login(world["outsider"])
    assert outsider.get(reverse("reader:conversation", args=[on_theirs.conversation_id])).status_code == 404


def test_a_marketer_searches_and_opens_hits_read_only_without_notes(org_a, brand_a, make_membership, login):
    channel = ChannelFactory(brand=brand_a, kind=ChannelKind.X)
    conversation = ConversationFactory(channel=channel)
    said = MessageFactory(conversation=conversation, text="The zephyrine battery dies fast")
    MessageFactory(conversation=conversation, direction=Message.Direction.NOTE, text="zephyrine escalate")
    client = login(make_membership(org_a, Role.MARKETER))
    nav = client.get(reverse("analytics:dashboard")).content.decode()
    assert f'href="{reverse("search:index")}"' in nav
    page = client.get(reverse("search:index"), {"q": "zephyrine"})
    hits = page.context["results"].hits
    assert [hit.message_id for hit in hits] == [said.pk]
    link = f"{reverse('reader:conversation', args=[conversation.pk])}#message-{said.pk}"
    assert link in page.content.decode() and "/inbox/" not in page.content.decode().split("<main")[1]
    agent = login(membership_create(org_a, Role.COMMUNITY_MANAGER))
    assert len(agent.get(reverse("search:index"), {"q": "zephyrine"}).context["results"].hits) == 2
