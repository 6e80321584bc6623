"""The composer's pages and partials: what they show, what they refuse, and to whom."""

import re

import pytest
from django.urls import reverse

from apps.accounts.models import Role
from apps.connectors.kinds import ChannelKind
from apps.conversations.models import Message
from tests.factories import BrandFactory, ChannelFactory, IdentityFactory, MessageFactory, membership_create

from .conftest import conversation_on, hours_ago, outbound_reply
from .factories import SavedReplyFactory

pytestmark = pytest.mark.django_db

HOSTILE = '<img src=x onerror="alert(1)"><script>alert(2)</script>'


def test_the_conversation_page_loads_the_composer(agent, login, telegram_conversation):
    client = login(agent)
    page = client.get(reverse("inbox:conversation", args=[telegram_conversation.pk])).content.decode()
    composer = reverse("replies:composer", args=[telegram_conversation.pk])
    assert f'hx-get="{composer}" hx-trigger="load"' in page
    assert f'<a href="{composer}">' in page  # the same composer as a page, without JavaScript

    full = client.get(composer).content.decode()
    assert "<!doctype html>" in full and 'id="reply-composer"' in full


def test_the_composer_offers_the_customers_channel_first_then_others_where_they_have_an_identity(
    brand_a, agent, login, telegram_conversation
):
    email = ChannelFactory(brand=brand_a, kind=ChannelKind.EMAIL, name="Support mail")
    ChannelFactory(brand=brand_a, kind=ChannelKind.WHATSAPP, name="WhatsApp line")  # no identity there
    IdentityFactory(customer=telegram_conversation.customer, kind=ChannelKind.EMAIL, email="ana@example.com")
    SavedReplyFactory(organization=brand_a.organization, title="Shipping times")
    response = login(agent).get(
        reverse("replies:composer", args=[telegram_conversation.pk]), HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert "<!doctype html>" not in html  # the partial alone
    options = re.findall(r'<option value="(\d+)"', html.split('name="channel"')[1].split("</select>")[0])
    assert options == [str(telegram_conversation.channel_id), str(email.pk)]
    assert "where the customer wrote" in html and "WhatsApp line" not in html
    assert '<label for="reply-text">Your reply</label>' in html and 'aria-describedby="reply-limits"' in html
    assert 'ws-connect="/ws/inbox/"' in html and "Shipping times" in html
    for action in ("send", "schedule", "insert"):
        assert f'name="action" value="{action}"' in html
    assert 'type="datetime-local" name="send_at"' in html and "Suggest replies" in html
    assert 'tabindex="1' not in html and "onclick" not in html  # keyboard order is the page's order


def test_the_live_check_shows_the_length_and_the_window(brand_a, agent, login):
    whatsapp = ChannelFactory(brand=brand_a, kind=ChannelKind.WHATSAPP)
    conversation = conversation_on(whatsapp, sent_at=hours_ago(23))
    response = login(agent).post(
        reverse("replies:check", args=[conversation.pk]),
        {"channel": whatsapp.pk, "text": "Hello {first_name}"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert html.strip().startswith('<p class="muted">')  # the content of #reply-limits
    assert "18 / 4096 characters" in html and "within 24 h of the customer" in html
    assert 'data-issue="window"' in html and "window closes in" in html
    assert 'data-issue="variables"' in html


def test_a_refused_reply_keeps_the_text_and_says_why(
    brand_a, agent, login, django_capture_on_commit_callbacks
):
    whatsapp = ChannelFactory(brand=brand_a, kind=ChannelKind.WHATSAPP)
    conversation = conversation_on(whatsapp, sent_at=hours_ago(26))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = login(agent).post(
            reverse("replies:compose", args=[conversation.pk]),
            {"action": "send", "channel": whatsapp.pk, "text": "Still there?"},
            HTTP_HX_REQUEST="true",
        )
    html = response.content.decode()
    assert ">Still there?</textarea>" in html and "Cannot send: Outside the 24-hour window now" in html
    assert not Message.objects.filter(direction=Message.Direction.OUTBOUND).exists() and callbacks == []


def test_without_javascript_a_reply_is_sent_and_the_agent_goes_back_to_the_conversation(
    agent, login, telegram_conversation, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = login(agent).post(
            reverse("replies:compose", args=[telegram_conversation.pk]),
            {"action": "send", "text": "On its way."},
        )
    assert response.status_code == 302
    assert response["Location"] == reverse("inbox:conversation", args=[telegram_conversation.pk])
    reply = Message.objects.get(direction=Message.Direction.OUTBOUND)
    assert (reply.text, reply.delivery_status, reply.author_user) == ("On its way.", "queued", agent.user)
    assert len(callbacks) == 2  # the delivery task and the live event, once committed


def test_a_retry_is_refused_once_the_window_has_closed(brand_a, agent, login):
    whatsapp = ChannelFactory(brand=brand_a, kind=ChannelKind.WHATSAPP)
    conversation = conversation_on(whatsapp, sent_at=hours_ago(30))
    failed = MessageFactory(
        conversation=conversation,
        direction=Message.Direction.OUTBOUND,
        delivery_status=Message.Delivery.FAILED,
        delivery_error="(#131047) Re-engagement message",
        text="Hello again",
    )
    html = (
        login(agent).post(reverse("replies:retry", args=[failed.pk]), HTTP_HX_REQUEST="true").content.decode()
    )
    assert "Not retried: Outside the 24-hour window" in html
    failed.refresh_from_db()
    assert failed.delivery_status == Message.Delivery.FAILED


def test_another_organisation_brand_or_role_sees_nothing(org_a, org_b, brand_a, login, telegram_conversation):
    reply = outbound_reply(telegram_conversation, "Org A's reply")
    reply.delivery_status = Message.Delivery.FAILED
    reply.save()
    conversation_urls = [
        reverse(name, args=[telegram_conversation.pk])
        for name in ("replies:composer", "replies:suggestions", "replies:deliveries")
    ]
    post_urls = [
        reverse("replies:check", args=[telegram_conversation.pk]),
        reverse("replies:compose", args=[telegram_conversation.pk]),
        reverse("replies:retry", args=[reply.pk]),
    ]
    for membership, status in (
        (membership_create(org_b, Role.ADMIN), 404),
        (
            membership_create(org_a, Role.COMMUNITY_MANAGER, brands=[BrandFactory(organization=org_a)]),
            404,
        ),
        (membership_create(org_a, Role.MARKETER), 403),
    ):
        client = login(membership)
        for url in conversation_urls:
            assert client.get(url).status_code == status, url
        for url in post_urls:
            assert client.post(url, {"action": "send", "text": "x"}).status_code == status, url
    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.FAILED
    assert Message.objects.filter(direction=Message.Direction.OUTBOUND).count() == 1


def test_a_channel_that_is_not_the_conversations_is_refused(
    org_b, brand_b, agent, login, telegram_conversation
):
    foreign = ChannelFactory(brand=brand_b, kind=ChannelKind.TELEGRAM)
    response = login(agent).post(
        reverse("replies:compose", args=[telegram_conversation.pk]),
        {"action": "send", "channel": foreign.pk, "text": "x"},
    )
    assert response.status_code == 404


def test_hostile_html_in_replies_and_saved_replies_is_rendered_as_text(
    org_a, agent, login, telegram_conversation
):
    outbound_reply(telegram_conversation, HOSTILE)
    failed = outbound_reply(telegram_conversation, "second")
    Message.objects.filter(pk=failed.pk).update(delivery_status="failed", delivery_error=HOSTILE)
    saved = SavedReplyFactory(organization=org_a, title=HOSTILE, body=f"Hi {{first_name}} {HOSTILE}")
    client = login(agent)
    html = client.get(reverse("replies:composer", args=[telegram_conversation.pk])).content.decode()
    inserted = client.post(
        reverse("replies:compose", args=[telegram_conversation.pk]),
        {"action": "insert", "saved_reply": saved.pk, "text": HOSTILE},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    for page in (html, inserted):
        assert "<script>alert(2)" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page
