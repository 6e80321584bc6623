"""A customer belongs to the organisation, their messages to its brands: a member limited to some brands
sees only those brands' messages on the customer page, the timeline and the export. Exporting (and erasing)
a customer is for admins, on the pages and the API alike (one rule: can_handle_personal_data)."""

import pytest
from django.urls import reverse

from apps.accounts.models import Role
from apps.api.services import api_token_create
from tests.factories import (
    BrandFactory,
    ChannelFactory,
    ConversationFactory,
    CustomerFactory,
    MessageFactory,
    membership_create,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer_on_two_brands(org_a, brand_a):
    other_brand = BrandFactory(organization=org_a, name="Other brand")
    customer = CustomerFactory(organization=org_a, display_name="Two-brand customer")
    for brand, text in ((brand_a, "words said to brand A"), (other_brand, "words said to the other brand")):
        conversation = ConversationFactory(channel=ChannelFactory(brand=brand), customer=customer)
        MessageFactory(conversation=conversation, text=text)
    return {"customer": customer, "brand": brand_a, "other_brand": other_brand}


def _api(membership):
    from rest_framework.test import APIClient

    _, key = api_token_create(membership=membership, name="tests", issuer=membership)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def test_brand_limited_agent_sees_only_their_brands_messages_on_the_customer(
    customer_on_two_brands, org_a, login
):
    data = customer_on_two_brands
    limited = membership_create(org_a, Role.COMMUNITY_MANAGER, brands=[data["brand"]])
    page = login(limited).get(reverse("customers:detail", args=[data["customer"].pk])).content.decode()
    assert "words said to brand A" in page and "words said to the other brand" not in page
    timeline = _api(limited).get(f"/api/v1/customers/{data['customer'].pk}/timeline/").json()
    texts = {entry["message"]["text"] for entry in timeline if entry.get("message")}
    assert texts == {"words said to brand A"}


def test_brand_limited_admin_exports_only_their_brands_messages(customer_on_two_brands, org_a, login):
    data = customer_on_two_brands
    limited_admin = membership_create(org_a, Role.ADMIN, brands=[data["brand"]])
    for exported in (
        login(limited_admin).get(reverse("customers:export", args=[data["customer"].pk])).json(),
        _api(limited_admin).get(f"/api/v1/customers/{data['customer'].pk}/export/").json(),
    ):
        assert [m["text"] for m in exported["messages"]] == ["words said to brand A"]
        assert [c["brand"] for c in exported["conversations"]] == [data["brand"].name]
    # An admin of every brand exports every brand's messages.
    admin = membership_create(org_a, Role.ADMIN)
    exported = login(admin).get(reverse("customers:export", args=[data["customer"].pk])).json()
    assert len(exported["messages"]) == 2


@pytest.mark.parametrize("role", [Role.COMMUNITY_MANAGER, Role.MARKETER])
def test_only_admins_export_customers_on_the_pages_and_the_api_alike(
    customer_on_two_brands, org_a, login, role
):
    customer = customer_on_two_brands["customer"]
    member = membership_create(org_a, role)
    assert login(member).get(reverse("customers:export", args=[customer.pk])).status_code == 403
    assert _api(member).get(f"/api/v1/customers/{customer.pk}/export/").status_code == 403
    if role == Role.COMMUNITY_MANAGER:
        page = login(member).get(reverse("customers:detail", args=[customer.pk])).content.decode()
        assert reverse("customers:export", args=[customer.pk]) not in page
    admin = membership_create(org_a, Role.ADMIN)
    assert login(admin).get(reverse("customers:export", args=[customer.pk])).status_code == 200
    assert _api(admin).get(f"/api/v1/customers/{customer.pk}/export/").status_code == 200
