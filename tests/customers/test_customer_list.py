"""The customer list: last contacted first, never contacted last; found by name, handle, email or phone
number however it is typed; filtered by channel, brand and lifetime value; the organisation's only."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Role
from apps.connectors.kinds import ChannelKind
from tests.factories import (
    BrandFactory,
    ChannelFactory,
    ConversationFactory,
    CustomerFactory,
    IdentityFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(org_a, brand_a, org_b):
    now = timezone.now()
    mail = ChannelFactory(brand=brand_a, kind=ChannelKind.EMAIL, name="Mail")
    other_brand = BrandFactory(organization=org_a, name="Second brand")
    chat = ChannelFactory(brand=other_brand, kind=ChannelKind.WHATSAPP, name="WhatsApp")
    never = CustomerFactory(organization=org_a, display_name="Nadia Never", lifetime_value=Decimal("5000"))
    IdentityFactory(customer=never, kind=ChannelKind.X, handle="@nadia")
    old = CustomerFactory(organization=org_a, display_name="Olga Old", lifetime_value=Decimal("20"))
    IdentityFactory(customer=old, kind=ChannelKind.EMAIL, handle="", email="olga.old@example.com")
    ConversationFactory(channel=mail, customer=old, last_message_at=now - timedelta(days=30))
    recent = CustomerFactory(organization=org_a, display_name="Rui Recent", lifetime_value=Decimal("1200.50"))
    IdentityFactory(customer=recent, kind=ChannelKind.WHATSAPP, handle="", phone="+34600123456")
    ConversationFactory(channel=chat, customer=recent, last_message_at=now - timedelta(hours=1))
    ConversationFactory(channel=mail, customer=recent, last_message_at=now - timedelta(days=3))
    CustomerFactory(organization=org_b, display_name="Zed Elsewhere")
    return {
        "never": never,
        "old": old,
        "recent": recent,
        "mail": mail,
        "chat": chat,
        "other_brand": other_brand,
    }


def _names(client, **params) -> list[str]:
    answer = client.get(reverse("customers:list"), params)
    assert answer.status_code == 200
    return [customer.display_name for customer in answer.context["customers"]]


def test_last_contacted_first_and_never_contacted_last(org_a, people, make_membership, login):
    client = login(make_membership(org_a, Role.COMMUNITY_MANAGER))
    assert _names(client) == ["Rui Recent", "Olga Old", "Nadia Never"]
    assert "never" in client.get(reverse("customers:list")).content.decode()


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("olga", ["Olga Old"]),  # a name
        ("@nad", ["Nadia Never"]),  # a handle
        ("OLGA.OLD@", ["Olga Old"]),  # part of an email
        ("+34 600 12 34", ["Rui Recent"]),  # a phone number as people type it
        ("600-123", ["Rui Recent"]),
        ("Zed", []),  # another organisation's
    ],
)
def test_search_by_name_handle_email_and_phone(org_a, people, make_membership, login, query, found):
    client = login(make_membership(org_a, Role.COMMUNITY_MANAGER))
    assert _names(client, q=query) == found


def test_filters_by_channel_brand_and_value(org_a, people, make_membership, login):
    client = login(make_membership(org_a, Role.ADMIN))
    assert _names(client, channel=people["mail"].pk) == ["Rui Recent", "Olga Old"]
    assert _names(client, brand=people["other_brand"].pk) == ["Rui Recent"]
    assert _names(client, value_min="1000") == ["Rui Recent", "Nadia Never"]
    assert _names(client, value_min="100", value_max="1500,00") == ["Rui Recent"]
    assert _names(client, value_min="lots", channel="x") == ["Rui Recent", "Olga Old", "Nadia Never"]
    page = client.get(reverse("customers:list"), {"brand": people["other_brand"].pk}).content.decode()
    assert f'<option value="{people["other_brand"].pk}" selected>Second brand</option>' in page
