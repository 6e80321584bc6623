"""Notifications: written for mentions and assignments, pushed live to the recipient's open pages (the
inbox's socket and the conversation page's), counted in the header, listed on their page, marked read."""

import pytest
from asgiref.sync import sync_to_async
from django.urls import reverse

from apps.accounts.models import Role
from apps.conversations.services import conversation_assign_to, note_add
from apps.notifications.models import Notification
from apps.notifications.selectors import notification_unread_count
from tests.factories import BrandFactory, ChannelFactory, membership_create
from tests.inbox.conftest import conversation_with

from .sockets import next_event, socket_as

HTMX = {"HX-Request": "true"}


@pytest.fixture
def team(org_a, brand_a, org_b):
    """Organisation A: a brand with a conversation, Alice and Bob who work it, Nina limited to another brand;
    Olga works in organisation B."""
    other_brand = BrandFactory(organization=org_a)
    return {
        "conversation": conversation_with(ChannelFactory(brand=brand_a), subject="Late delivery"),
        "alice": membership_create(org_a, Role.COMMUNITY_MANAGER, username="alice"),
        "bob": membership_create(org_a, Role.COMMUNITY_MANAGER, username="bob"),
        "nina": membership_create(org_a, Role.COMMUNITY_MANAGER, username="nina", brands=[other_brand]),
        "olga": membership_create(org_b, Role.COMMUNITY_MANAGER, username="olga"),
    }


def mention(team, text="@bob @nina @olga please look", author="alice"):
    return note_add(conversation=team["conversation"], author=team[author].user, text=text)


@pytest.mark.django_db
def test_mentions_notify_members_of_the_same_organisation_who_may_see_the_brand_only(team):
    note = mention(team)

    notified = list(Notification.objects.all())
    assert [(n.recipient.username, n.kind, n.message, n.actor) for n in notified] == [
        ("bob", Notification.Kind.MENTION, note, team["alice"].user)
    ]
    assert notified[0].organization_id == team["conversation"].organization_id
    assert note.metadata == {"mentioned": [team["bob"].user_id]}


@pytest.mark.django_db
def test_the_header_counts_unread_and_the_page_lists_them_inertly(team, login):
    mention(team, text='@bob <script>window.hacked=1</script> see "this"')
    client = login(team["bob"])

    home = client.get(reverse("notifications:list")).content.decode()
    assert f'hx-get="{reverse("notifications:menu")}"' in home  # the header's link loads its count
    assert "1 unread" in client.get(reverse("notifications:menu"), headers=HTMX).content.decode()
    assert "<strong>alice</strong>" in home and "mentioned you in a note" in home and "Late delivery" in home
    assert "&lt;script&gt;window.hacked=1&lt;/script&gt;" in home and "<script>window" not in home
    marketer = login(membership_create(team["conversation"].organization, Role.MARKETER))
    assert marketer.get(reverse("notifications:menu")).status_code == 403
    assert "notifications-menu" not in marketer.get(reverse("analytics:dashboard")).content.decode()


@pytest.mark.django_db
def test_mark_one_or_all_read_and_opening_the_conversation_reads_its_own(team, login):
    first, second = mention(team), mention(team, text="@bob again")
    conversation_assign_to(
        conversation=team["conversation"], assignee=team["bob"].user, actor=team["alice"].user
    )
    one = Notification.objects.get(message=first)
    client = login(team["bob"])

    read = client.post(reverse("notifications:read", args=[one.pk]), headers=HTMX)
    assert read.status_code == 200 and read["HX-Trigger"] == "notifications-changed"
    assert "autofocus" in read.content.decode() and "Mark as read" not in read.content.decode()
    assert notification_unread_count(membership=team["bob"]) == 2

    client.get(reverse("inbox:conversation", args=[team["conversation"].pk]))
    assert notification_unread_count(membership=team["bob"]) == 0
    assert Notification.objects.get(message=second).read_at is not None

    mention(team, text="@bob and once more")
    assert client.post(reverse("notifications:read_all")).status_code == 302
    assert notification_unread_count(membership=team["bob"]) == 0


@pytest.mark.django_db
def test_nobody_reads_or_marks_someone_elses_notifications(team, login):
    mention(team)
    bobs = Notification.objects.get()
    alice = login(team["alice"])

    assert alice.post(reverse("notifications:read", args=[bobs.pk])).status_code == 404
    assert "Late delivery" not in alice.get(reverse("notifications:list")).content.decode()
    bobs.refresh_from_db()
    assert bobs.read_at is None


@pytest.mark.django_db
def test_a_member_later_limited_to_other_brands_no_longer_sees_those_notifications(team, login):
    mention(team)
    other_brand = BrandFactory(organization=team["conversation"].organization)
    team["bob"].brands.set([other_brand])
    bob = team["bob"].__class__.objects.get(pk=team["bob"].pk)

    assert notification_unread_count(membership=bob) == 0
    assert "Late delivery" not in login(bob).get(reverse("notifications:list")).content.decode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_recipient_hears_of_it_live_on_the_inbox_and_conversation_sockets_and_nobody_else(team):
    conversation_path = f"/ws/conversation/{team['conversation'].pk}/"
    bob_inbox, connected, _ = await socket_as(team["bob"].user, "/ws/inbox/")
    assert connected
    bob_page, connected, _ = await socket_as(team["bob"].user, conversation_path)
    assert connected
    alice_inbox, _, _ = await socket_as(team["alice"].user, "/ws/inbox/")
    olga_inbox, _, _ = await socket_as(team["olga"].user, "/ws/inbox/")

    await sync_to_async(mention)(team)

    expected = {"event": "notification.created", "kind": "mention", "conversation": team["conversation"].pk}
    assert await next_event(bob_inbox, "notification.created") == expected
    assert await next_event(bob_page, "notification.created") == expected
    assert await alice_inbox.receive_nothing(timeout=0.3)  # the author
    assert await olga_inbox.receive_nothing(timeout=0.3)  # another organisation
    for socket in (bob_inbox, bob_page, alice_inbox, olga_inbox):
        await socket.disconnect()
