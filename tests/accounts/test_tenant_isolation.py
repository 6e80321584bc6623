"""A user of one organisation can read or change nothing of another, by URL or by queryset."""

import pytest
from django.urls import reverse

from apps.accounts.models import Role
from apps.accounts.tenancy import scoped
from apps.conversations.models import Conversation, Message
from apps.customers.models import Customer, CustomerMerge, Identity, MergeSuggestion
from apps.customers.services import customer_merge
from tests.factories import (
    BrandFactory,
    ChannelFactory,
    ConversationFactory,
    CustomerFactory,
    IdentityFactory,
    MessageFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(org_a, org_b, brand_a, brand_b, make_membership):
    """Two organisations with the same shape of data."""
    data = {}
    for key, org, brand in (("a", org_a, brand_a), ("b", org_b, brand_b)):
        channel = ChannelFactory(brand=brand, credentials={"token": f"secret-{key}"})
        customer = CustomerFactory(organization=org)
        IdentityFactory(customer=customer)
        other = CustomerFactory(organization=org)
        conversation = ConversationFactory(channel=channel, customer=customer)
        MessageFactory(conversation=conversation, text=f"hello from {key}")
        suggestion = MergeSuggestion.objects.create(
            organization=org, customer=customer, candidate=other, reason="same full name"
        )
        merge_source = CustomerFactory(organization=org)
        merge = customer_merge(source=merge_source, target=other, actor=None, reason="test")
        data[key] = {
            "org": org,
            "channel": channel,
            "customer": customer,
            "conversation": conversation,
            "suggestion": suggestion,
            "merge": merge,
            "admin": make_membership(org, Role.ADMIN),
            "agent": make_membership(org, Role.COMMUNITY_MANAGER),
        }
    return data


@pytest.mark.parametrize("model", [Conversation, Message, Customer, Identity, MergeSuggestion, CustomerMerge])
def test_querysets_show_only_the_members_organisation(world, model):
    visible = scoped(model, world["a"]["agent"])
    assert visible.exists()
    assert not visible.filter(organization=world["b"]["org"]).exists()
    assert visible.count() == model.objects.filter(organization=world["a"]["org"]).count()


def test_brand_limited_membership_sees_only_its_brands(world, org_a, brand_a, make_membership):
    other_brand = BrandFactory(organization=org_a)
    hidden = ConversationFactory(channel=ChannelFactory(brand=other_brand))
    limited = make_membership(org_a, Role.COMMUNITY_MANAGER, brands=[brand_a])
    assert world["a"]["conversation"] in scoped(Conversation, limited)
    assert hidden not in scoped(Conversation, limited)
    assert not scoped(Message, limited).filter(conversation=hidden).exists()


def test_no_membership_sees_nothing(world):
    assert not scoped(Conversation, None).exists()


def test_pages_of_another_organisation_are_not_found(world, login):
    client = login(world["a"]["admin"])
    b = world["b"]
    for url in [
        reverse("inbox:conversation", args=[b["conversation"].pk]),
        reverse("customers:detail", args=[b["customer"].pk]),
        reverse("customers:export", args=[b["customer"].pk]),
    ]:
        assert client.get(url).status_code == 404, url
    # Own objects are reachable through the same URLs.
    assert client.get(reverse("inbox:conversation", args=[world["a"]["conversation"].pk])).status_code == 200


def test_actions_on_another_organisation_change_nothing(world, login):
    client = login(world["a"]["admin"])
    b = world["b"]
    posts = [
        (reverse("inbox:conversation_action", args=[b["conversation"].pk]), {"action": "closed"}),
        (reverse("inbox:conversation_action", args=[b["conversation"].pk]), {"action": "assign_me"}),
        (reverse("customers:erase", args=[b["customer"].pk]), {}),
        (reverse("customers:suggestion_decide", args=[b["suggestion"].pk]), {"decision": "accept"}),
        (reverse("customers:unmerge", args=[b["merge"].pk]), {}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 404, url
    b["conversation"].refresh_from_db()
    b["customer"].refresh_from_db()
    b["suggestion"].refresh_from_db()
    b["merge"].refresh_from_db()
    assert b["conversation"].status == Conversation.Status.OPEN and b["conversation"].assignee is None
    assert b["customer"].erased_at is None
    assert b["suggestion"].status == MergeSuggestion.Status.PENDING
    assert b["merge"].undone_at is None


def test_lists_show_only_own_organisation(world, login):
    client = login(world["a"]["agent"])
    page = client.get(reverse("inbox:index")).content.decode()
    assert world["a"]["conversation"].subject in page
    assert world["b"]["conversation"].subject not in page
    customers = client.get(reverse("customers:list")).content.decode()
    assert world["b"]["customer"].display_name not in customers


def test_django_admin_is_scoped_to_the_admins_organisation(world, login):
    client = login(world["a"]["admin"])
    changelist = client.get(reverse("admin:conversations_conversation_changelist")).content.decode()
    assert world["a"]["conversation"].subject in changelist
    assert world["b"]["conversation"].subject not in changelist
    change_b = client.get(
        reverse("admin:conversations_conversation_change", args=[world["b"]["conversation"].pk])
    )
    assert change_b.status_code == 302  # Django admin's "does not exist" redirect, nothing shown
    delete_b = client.post(
        reverse("admin:customers_customer_delete", args=[world["b"]["customer"].pk]), {"post": "yes"}
    )
    assert delete_b.status_code == 302
    assert Customer.objects.filter(pk=world["b"]["customer"].pk).exists()
    channels = client.get(reverse("admin:connectors_channel_changelist")).content.decode()
    assert world["b"]["channel"].name not in channels
    # Credentials are never shown in full, not even to the owning admin.
    own_channel = client.get(reverse("admin:connectors_channel_change", args=[world["a"]["channel"].pk]))
    assert own_channel.status_code == 200
    assert "secret-a" not in own_channel.content.decode()


def test_community_manager_and_marketer_cannot_use_django_admin(world, login, make_membership):
    for role in (Role.COMMUNITY_MANAGER, Role.MARKETER):
        client = login(make_membership(world["a"]["org"], role))
        response = client.get(reverse("admin:conversations_conversation_changelist"))
        assert response.status_code in (302, 403)
