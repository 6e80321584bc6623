"""The conversation page: notes with mentions, assignment, status, snooze, tags, the SLA timer, the thread
across channels, the 360° profile panel (merge and unmerge from it), collision detection over the page's
WebSocket, and hostile text kept inert. Real PostgreSQL, Redis and ASGI application throughout."""

import re
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import redis.asyncio
from asgiref.sync import sync_to_async
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Role
from apps.conversations.models import Conversation, Message, Tag
from apps.conversations.services import note_add
from apps.conversations.tasks import unsnooze_due_task
from apps.core.models import AuditEvent
from apps.customers.models import CustomerMerge, MergeSuggestion
from apps.inbox import presence
from apps.notifications.models import Notification
from tests.connectors.livechat.test_widget_browser import CHROMIUM, ROOT, off_loop
from tests.factories import (
    PASSWORD,
    ChannelFactory,
    ConversationFactory,
    CustomerFactory,
    IdentityFactory,
    MessageFactory,
    membership_create,
)
from tests.notifications.sockets import next_event, socket_as

from .conftest import conversation_with, hours_ago

HTMX = {"HX-Request": "true"}
SCREENSHOT = ROOT / "test-artifacts" / "conversation-page.png"
HOSTILE = '<script>window.hacked=1</script><img src=x onerror="window.hacked=1">'


def page_url(conversation, **query) -> str:
    url = reverse("inbox:conversation", args=[conversation.pk])
    return f"{url}?{'&'.join(f'{k}={v}' for k, v in query.items())}" if query else url


def act(client, conversation, action, **fields):
    url = reverse("inbox:conversation_action", args=[conversation.pk])
    return client.post(url, {"action": action, **fields}, headers=HTMX)


def refreshed(conversation) -> Conversation:
    return Conversation.objects.get(pk=conversation.pk)


# ------------------------------------------------------------------------------------------ the page


@pytest.mark.django_db
def test_the_page_shows_controls_thread_and_the_360_profile(desk, login, django_assert_max_num_queries):
    conversation = conversation_with(
        desk["email"], inbound={"text": "My phone is broken"}, sla_due_at=hours_ago(-2)
    )
    customer = conversation.customer
    customer.attributes = {"plan": "gold"}
    customer.save()
    IdentityFactory(customer=customer, handle="@dana", followers=12000, verified=True)
    past = ConversationFactory(
        channel=desk["chat"],
        customer=customer,
        subject="Broken screen last spring",
        status=Conversation.Status.CLOSED,
        sentiment="negative",
        intent="complaint",
    )
    MessageFactory(
        conversation=past,
        direction=Message.Direction.NOTE,
        text="Offered a refund",
        author_user=desk["colleague"].user,
    )
    client = login(desk["agent"])

    # The workspace: the conversation's panes (25 queries) and the list beside them (its page, counts,
    # filters' choices and saved views: about 10 more, whatever the number of rows).
    with django_assert_max_num_queries(38):
        response = client.get(page_url(conversation))

    page = response.content.decode()
    assert response.status_code == 200
    assert f'ws-connect="/ws/conversation/{conversation.pk}/"' in page and "js/conversation.js" in page
    assert 'id="reply-composer"' in page  # the reply composer's hook stays
    assert "My phone is broken" in page and "left</strong>" in page
    assert "@dana" in page and "12000 followers" in page and "✓ verified" in page
    assert '<dt>plan</dt><dd dir="auto">gold</dd>' in page
    assert "Broken screen last spring" in page and "Closed" in page
    assert 'title="sentiment">negative<' in page and 'title="intent">complaint<' in page
    assert "Offered a refund" in page
    assert f'<option value="{desk["colleague"].user_id}">' in page  # assignable colleagues


@pytest.mark.django_db
def test_other_tenants_and_other_brands_stay_out_of_the_page_and_the_panel(desk, login):
    conversation = conversation_with(desk["email"], subject="Brand A thread")
    own_brand = ConversationFactory(
        channel=desk["chat"], customer=conversation.customer, subject="Brand A2 thread"
    )
    limited = login(desk["limited"])

    assert limited.get(page_url(conversation)).status_code == 404
    page = limited.get(page_url(own_brand)).content.decode()
    assert "Brand A2 thread" in page and "Brand A thread" not in page
    assert login(desk["agent"]).get(page_url(desk["elsewhere"])).status_code == 404


def _thread_of(page: str) -> str:
    """The thread region of the workspace (the list beside it previews every conversation too)."""
    return page[page.index('id="thread"') : page.index('id="reply-composer"')]


@pytest.mark.django_db
def test_the_thread_across_channels_interleaves_the_customers_conversations_with_the_brand(desk, login):
    email = conversation_with(desk["email"], inbound={"text": "Asked by email"}, last_message_at=hours_ago(3))
    on_x = ChannelFactory(brand=desk["brand"], kind="x", name="Brand A on X")
    tweet = ConversationFactory(channel=on_x, customer=email.customer, subject="Tweet thread")
    MessageFactory(conversation=tweet, text="Asked again on X", sent_at=hours_ago(1))
    other_brand = ConversationFactory(channel=desk["chat"], customer=email.customer)
    MessageFactory(conversation=other_brand, text="About the other brand")
    client = login(desk["agent"])

    alone = _thread_of(client.get(page_url(email)).content.decode())
    everywhere = _thread_of(client.get(page_url(email, thread="customer")).content.decode())

    assert "Asked by email" in alone and "Asked again on X" not in alone
    assert everywhere.index("Asked by email") < everywhere.index("Asked again on X")
    assert reverse("inbox:conversation", args=[tweet.pk]) in everywhere and "Tweet thread" in everywhere
    assert "About the other brand" not in everywhere


# ------------------------------------------------------------------------------------------ notes


@pytest.mark.django_db
def test_a_note_notifies_the_members_it_mentions_who_may_work_on_the_conversation_only(desk, org_b, login):
    conversation = conversation_with(desk["email"])
    outsider = membership_create(org_b, Role.COMMUNITY_MANAGER, username="outsider")
    limited, marketer = desk["limited"].user.username, desk["marketer"].user.username
    text = (
        f"Refund approved, @Colleague. Cc @outsider @{limited} @{marketer} @agent @nobody; "
        "the customer wrote from bob@example.com"
    )

    response = login(desk["agent"]).post(
        reverse("inbox:note_create", args=[conversation.pk]), {"text": text}, headers=HTMX
    )

    assert response.status_code == 200
    note = Message.objects.get(conversation=conversation, direction=Message.Direction.NOTE)
    assert note.author_user == desk["agent"].user and note.text == text
    assert 'hx-swap-oob="beforeend:#thread"' in response.content.decode()
    assert f'id="message-{note.pk}"' in response.content.decode()
    notified = Notification.objects.filter(message=note)
    assert [(n.recipient, n.kind, n.actor) for n in notified] == [
        (desk["colleague"].user, Notification.Kind.MENTION, desk["agent"].user)
    ]
    assert not Notification.objects.filter(recipient=outsider.user).exists()
    assert AuditEvent.objects.filter(action="conversation.noted", target_id=str(conversation.pk)).exists()


@pytest.mark.django_db
def test_the_open_page_refetches_its_thread_without_reading_the_notifications(desk, org_b, login):
    conversation = conversation_with(desk["email"])
    note = note_add(conversation=conversation, author=desk["agent"].user, text="@colleague call her?")
    thread_url = reverse("inbox:conversation_thread", args=[conversation.pk])
    colleague = login(desk["colleague"])

    response = colleague.get(thread_url, headers=HTMX)

    assert response.status_code == 200
    assert f'id="message-{note.pk}"' in response.content.decode()
    unread = Notification.objects.filter(recipient=desk["colleague"].user, read_at__isnull=True)
    assert unread.count() == 1, "only opening the conversation reads its notifications"
    assert colleague.get(page_url(conversation)).status_code == 200
    assert unread.count() == 0
    outsider = membership_create(org_b, Role.COMMUNITY_MANAGER, username="outsider")
    assert login(outsider).get(thread_url, headers=HTMX).status_code == 404


@pytest.mark.django_db
def test_an_empty_note_is_refused_with_the_reason(desk, login):
    conversation = conversation_with(desk["email"])

    response = login(desk["agent"]).post(
        reverse("inbox:note_create", args=[conversation.pk]), {"text": "   "}, headers=HTMX
    )

    assert response.status_code == 400 and "Write the note first." in response.content.decode()
    assert not conversation.messages.filter(direction=Message.Direction.NOTE).exists()


# ------------------------------------------------------------------------------------------ controls


@pytest.mark.django_db
def test_tags_are_added_and_removed(desk, org_b, login):
    conversation = conversation_with(desk["email"])
    client = login(desk["agent"])

    added = act(client, conversation, "tag", tag_name=" billing ")
    tag = Tag.objects.get(organization=desk["org"], name="billing")
    assert added.status_code == 200 and "Tagged “billing”." in added.content.decode()
    assert list(conversation.tags.all()) == [tag]

    foreign = Tag.objects.create(organization=org_b, name="billing")
    assert act(client, conversation, "untag", tag=foreign.pk).status_code == 404
    removed = act(client, conversation, "untag", tag=tag.pk)
    assert removed.status_code == 200 and "Removed the tag “billing”." in removed.content.decode()
    assert not conversation.tags.exists()
    assert AuditEvent.objects.filter(action="conversation.untagged", target_id=str(conversation.pk)).exists()


@pytest.mark.django_db
def test_snooze_until_a_moment_and_the_beat_task_brings_it_back(desk, login):
    conversation = conversation_with(desk["email"])
    still_asleep = conversation_with(desk["email"], status="snoozed", snoozed_until=hours_ago(-5))
    client = login(desk["agent"])
    until = (timezone.now() + timedelta(hours=2)).replace(microsecond=0)

    assert act(client, conversation, "snooze", until=hours_ago(1).isoformat()).status_code == 400
    snoozed = act(client, conversation, "snooze", until=until.isoformat())

    assert snoozed.status_code == 200 and "Snoozed" in snoozed.content.decode()
    assert (refreshed(conversation).status, refreshed(conversation).snoozed_until) == ("snoozed", until)
    act(client, conversation, "snooze", until="2030-01-01T10:00")  # a datetime-local without JavaScript
    assert refreshed(conversation).snoozed_until.isoformat() == "2030-01-01T10:00:00+00:00"

    Conversation.objects.filter(pk=conversation.pk).update(snoozed_until=hours_ago(0.01))
    assert unsnooze_due_task() == 1
    assert (refreshed(conversation).status, refreshed(conversation).snoozed_until) == ("open", None)
    assert refreshed(still_asleep).status == "snoozed"
    assert settings.CELERY_BEAT_SCHEDULE["unsnooze-due"]["task"] == unsnooze_due_task.name


@pytest.mark.django_db
def test_assignment_to_any_agent_of_the_brand_who_is_then_notified(desk, org_b, login):
    conversation = conversation_with(desk["email"])
    outsider = membership_create(org_b, Role.COMMUNITY_MANAGER)
    client = login(desk["agent"])

    assigned = act(client, conversation, "assign", assignee=desk["colleague"].user_id)
    assert assigned.status_code == 200 and "Assigned to colleague." in assigned.content.decode()
    assert refreshed(conversation).assignee == desk["colleague"].user
    notification = Notification.objects.get(recipient=desk["colleague"].user)
    assert (notification.kind, notification.actor, notification.conversation) == (
        Notification.Kind.ASSIGNED,
        desk["agent"].user,
        conversation,
    )

    refused = act(client, conversation, "assign", assignee=desk["limited"].user_id)
    assert refused.status_code == 400 and "does not work on this brand" in refused.content.decode()
    assert act(client, conversation, "assign", assignee=desk["marketer"].user_id).status_code == 404
    assert act(client, conversation, "assign", assignee=outsider.user_id).status_code == 404
    act(client, conversation, "assign_me")
    assert refreshed(conversation).assignee == desk["agent"].user
    assert not Notification.objects.filter(recipient=desk["agent"].user).exists()  # nobody to tell
    act(client, conversation, "assign", assignee="none")
    assert refreshed(conversation).assignee is None


@pytest.mark.django_db
def test_status_changes_with_and_without_htmx(desk, login):
    conversation = conversation_with(desk["email"])
    client = login(desk["agent"])

    pending = act(client, conversation, "pending")
    assert pending.status_code == 200 and "Status: Pending." in pending.content.decode()
    assert refreshed(conversation).status == "pending"
    plain = client.post(reverse("inbox:conversation_action", args=[conversation.pk]), {"action": "closed"})
    assert plain.status_code == 302 and plain["Location"] == page_url(conversation)
    assert refreshed(conversation).status == "closed"
    assert act(client, conversation, "explode").status_code == 400


@pytest.mark.django_db
def test_the_sla_timer_says_time_left_or_overdue_in_red(desk, login):
    late = conversation_with(desk["email"], sla_due_at=hours_ago(1.5))
    early = conversation_with(desk["email"], sla_due_at=hours_ago(-3))
    closed = conversation_with(desk["email"], sla_due_at=hours_ago(1), status="closed")
    client = login(desk["agent"])

    assert re.search(
        r'<strong class="error" data-sla-due="[^"]+">overdue by 1\xa0hour, (29|30)', _page(client, late)
    )
    assert re.search(r'<strong data-sla-due="[^"]+">2\xa0hours, 59\xa0minutes left', _page(client, early))
    assert "data-sla-due" not in _page(client, closed)


def _page(client, conversation) -> str:
    return client.get(page_url(conversation)).content.decode()


# ------------------------------------------------------------------------------------------ the profile panel


@pytest.mark.django_db
def test_merge_and_unmerge_from_the_profile_panel(desk, login):
    conversation = conversation_with(desk["email"])
    customer = conversation.customer
    duplicate = CustomerFactory(organization=desk["org"], display_name="Dana by email")
    ConversationFactory(channel=desk["email"], customer=duplicate, subject="Her email thread")
    suggestion = MergeSuggestion.objects.create(
        organization=desk["org"], customer=customer, candidate=duplicate, reason="same full name"
    )
    stranger = CustomerFactory(organization=desk["org"])
    unrelated = MergeSuggestion.objects.create(
        organization=desk["org"], customer=stranger, candidate=duplicate, reason="same handle"
    )
    client = login(desk["agent"])
    decide = reverse("inbox:profile_suggestion_decide", args=[conversation.pk, suggestion.pk])
    assert "Dana by email" in _page(client, conversation) and f'action="{decide}"' in _page(
        client, conversation
    )

    not_here = reverse("inbox:profile_suggestion_decide", args=[conversation.pk, unrelated.pk])
    assert client.post(not_here, {"decision": "accept"}, headers=HTMX).status_code == 404
    merged = client.post(decide, {"decision": "accept"}, headers=HTMX)

    merge = CustomerMerge.objects.get(source=duplicate, target=customer)
    assert merged.status_code == 200 and "Profiles merged." in merged.content.decode()
    assert "Her email thread" in merged.content.decode()  # her conversations are his now
    undo = reverse("inbox:profile_unmerge", args=[conversation.pk, merge.pk])
    assert f'action="{undo}"' in merged.content.decode()

    unmerged = client.post(undo, headers=HTMX)
    assert unmerged.status_code == 200 and "is a separate profile again" in unmerged.content.decode()
    merge.refresh_from_db()
    assert merge.undone_at is not None and "Her email thread" not in unmerged.content.decode()
    again = client.post(undo, headers=HTMX)
    assert again.status_code == 400 and "This merge was already undone." in again.content.decode()


@pytest.mark.django_db
def test_a_suggestion_is_rejected_from_the_panel(desk, login):
    conversation = conversation_with(desk["email"])
    other = CustomerFactory(organization=desk["org"])
    suggestion = MergeSuggestion.objects.create(
        organization=desk["org"], customer=other, candidate=conversation.customer, reason="same name"
    )
    url = reverse("inbox:profile_suggestion_decide", args=[conversation.pk, suggestion.pk])

    response = login(desk["agent"]).post(url, {"decision": "reject"}, headers=HTMX)

    suggestion.refresh_from_db()
    assert response.status_code == 200 and suggestion.status == MergeSuggestion.Status.REJECTED
    assert not CustomerMerge.objects.exists()


# ------------------------------------------------------------------------------------------ hostile text


@pytest.mark.django_db
def test_hostile_html_in_messages_notes_tags_and_the_profile_is_inert(desk, login):
    conversation = conversation_with(desk["email"], subject=HOSTILE, inbound={"text": HOSTILE})
    note_add(conversation=conversation, author=desk["colleague"].user, text=f"@agent {HOSTILE}")
    conversation.tags.add(Tag.objects.create(organization=desk["org"], name='<img src=x onerror="x()">'))
    customer = conversation.customer
    customer.display_name, customer.attributes = HOSTILE, {HOSTILE: HOSTILE}
    customer.save()
    IdentityFactory(customer=customer, handle=HOSTILE[:255], display_name=HOSTILE)
    past = ConversationFactory(channel=desk["email"], customer=customer, subject=HOSTILE)
    note_add(conversation=past, author=desk["colleague"].user, text=HOSTILE)
    client = login(desk["agent"])

    page = _page(client, conversation)
    assert "<script>window" not in page and "<img src=" not in page
    assert page.count("&lt;script&gt;window.hacked=1&lt;/script&gt;") >= 6
    added = client.post(reverse("inbox:note_create", args=[conversation.pk]), {"text": HOSTILE}, headers=HTMX)
    assert "<script>" not in added.content.decode() and "&lt;script&gt;" in added.content.decode()


# ------------------------------------------------------------------------------------ collision detection


def _conversation_socket_path(conversation) -> str:
    return f"/ws/conversation/{conversation.pk}/"


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_colleagues_see_who_is_viewing_and_typing_and_nobody_else_can_listen(desk, org_b):
    conversation = await sync_to_async(conversation_with)(desk["email"])
    path = _conversation_socket_path(conversation)
    agent, colleague = desk["agent"].user, desk["colleague"].user
    outsider = await sync_to_async(membership_create)(org_b, Role.COMMUNITY_MANAGER)

    alice, connected, _ = await socket_as(agent, path)
    assert connected
    assert (await next_event(alice, "presence"))["viewers"] == [{"user": agent.pk, "name": "agent"}]
    bob, connected, _ = await socket_as(colleague, path)
    assert connected
    both = [{"user": agent.pk, "name": "agent"}, {"user": colleague.pk, "name": "colleague"}]
    assert (await next_event(alice, "presence"))["viewers"] == both

    await bob.send_json_to({"type": "typing", "field": "note"})
    await bob.send_json_to({"type": "typing", "field": "note"})  # within a second: not passed on again
    typing = await next_event(alice, "typing")
    assert typing == {"event": "typing", "user": colleague.pk, "name": "colleague", "field": "note"}
    assert (await next_event(bob, "typing"))["user"] == colleague.pk  # the page leaves out its own user
    assert await alice.receive_nothing(timeout=0.3)

    for intruder, refusal in (
        (outsider.user, 4404),  # another organisation
        (desk["limited"].user, 4404),  # limited to another brand
        (desk["marketer"].user, 4403),  # no inbox role
        (None, 4401),
    ):
        socket, connected, code = await socket_as(intruder, path)
        assert not connected and code == refusal, intruder

    await bob.disconnect()
    assert (await next_event(alice, "presence"))["viewers"] == [{"user": agent.pk, "name": "agent"}]
    await alice.send_json_to({"type": "heartbeat"})
    assert (await next_event(alice, "presence"))["viewers"] == [{"user": agent.pk, "name": "agent"}]
    await alice.send_to(text_data="not json")  # ignored, the socket stays open
    await alice.send_json_to({"type": "heartbeat"})
    assert await next_event(alice, "presence")
    await alice.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_page_that_vanished_without_closing_its_socket_drops_out_after_the_ttl(desk):
    conversation = await sync_to_async(conversation_with)(desk["email"])
    gone = presence.PageView(conversation.pk, desk["colleague"].user_id, "colleague", "socket-1")
    here = presence.PageView(conversation.pk, desk["agent"].user_id, "agent", "socket-2")
    await presence.presence_touch(gone)
    await presence.presence_touch(here)
    client = redis.asyncio.Redis.from_url(settings.REDIS_URL)
    stale = time.time() - presence.PRESENCE_TTL_SECONDS - 1
    await client.zadd(presence._key(conversation.pk), {gone.member: stale})
    await client.aclose()

    assert await presence.presence_viewers(conversation.pk) == [{"user": here.user_id, "name": "agent"}]
    await presence.presence_leave(here)
    assert await presence.presence_viewers(conversation.pk) == []


# ------------------------------------------------------------------------------------------ in a real browser


def _log_in(page, url: str, username: str, next_url: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{url}{reverse('login')}?next={next_url}")
    # The username field has the focus once the page is ready; keys typed before that would be lost.
    expect(page.get_by_label("Username")).to_be_focused()
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    # The path itself (the login page's own URL ends with ?next=<next_url> too).
    page.wait_for_url(lambda address: urlsplit(address).path == next_url)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium for the browser test")
@pytest.mark.django_db(transaction=True)
def test_two_agents_see_each_other_live_and_work_with_the_keyboard(asgi_server, desk, page):
    from playwright.sync_api import expect

    conversation = off_loop(
        conversation_with,
        desk["email"],
        subject=HOSTILE,
        inbound={"text": HOSTILE},
        sla_due_at=hours_ago(0.5),
    )
    url = page_url(conversation)
    _log_in(page, asgi_server.url, "agent", url)
    # The colleague works from Paris: the moment they snooze to is theirs.
    colleague = page.context.browser.new_context(timezone_id="Europe/Paris").new_page()
    _log_in(colleague, asgi_server.url, "colleague", url)

    presence_line = page.locator("#conversation-presence")
    expect(presence_line).to_have_text("colleague is viewing")
    expect(colleague.locator("#conversation-presence")).to_have_text("agent is viewing")
    colleague.get_by_label("Internal note").press_sequentially("Looking at it")
    expect(presence_line).to_have_text("colleague is writing a note…")
    expect(page.locator("[data-sla-due]")).to_have_class("error")
    expect(page.locator("[data-sla-due]")).to_contain_text("overdue by 30")

    # The keyboard alone: focus the note, write it, Tab to its button, Enter.
    page.get_by_label("Internal note").focus()
    page.keyboard.type("@colleague can you call her?")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#thread .msg.note")).to_contain_text("@colleague can you call her?")
    expect(page.get_by_label("Internal note")).to_be_focused()
    expect(colleague.locator("#notifications-menu")).to_contain_text("1 unread")
    # The note shows on the colleague's open page too, without a reload.
    expect(colleague.locator("#thread .msg.note")).to_contain_text("@colleague can you call her?")

    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    colleague.get_by_label("Snooze until").fill("2030-01-01T10:00")
    colleague.get_by_label("Snooze until").press("Enter")
    expect(colleague.locator("#conversation-controls [role=status]")).to_contain_text("Snoozed")
    expect(colleague.locator("#conversation-controls")).to_be_focused()
    assert off_loop(refreshed, conversation).snoozed_until.isoformat() == "2030-01-01T09:00:00+00:00"
    colleague.close()
    expect(presence_line).to_have_text("")
    assert page.evaluate("window.hacked") is None
