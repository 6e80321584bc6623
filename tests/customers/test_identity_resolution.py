"""Identity resolution joins profiles only on strong evidence; weak evidence becomes a suggestion."""

import pytest

from apps.connectors.kinds import ChannelKind
from apps.customers.models import Customer, MergeSuggestion
from apps.customers.services import StrongLink, identity_resolve

pytestmark = pytest.mark.django_db


def test_new_identity_gets_its_own_profile(org_a):
    identity = identity_resolve(
        organization=org_a,
        kind=ChannelKind.X,
        external_id="1",
        handle="@ana",
        display_name="Ana Lima",
        followers=120,
    )
    assert identity.customer.display_name == "Ana Lima"
    assert identity.followers == 120


def test_same_identity_twice_is_one_identity_with_fresh_facts(org_a):
    first = identity_resolve(
        organization=org_a, kind=ChannelKind.X, external_id="1", handle="@ana", followers=10
    )
    again = identity_resolve(organization=org_a, kind=ChannelKind.X, external_id="1", followers=99)
    assert first.pk == again.pk and again.followers == 99 and again.handle == "@ana"


def test_same_verified_email_joins_automatically(org_a):
    email = identity_resolve(
        organization=org_a,
        kind=ChannelKind.EMAIL,
        external_id="ana@example.com",
        email="Ana@Example.com",
        email_verified=True,
    )
    chat = identity_resolve(
        organization=org_a,
        kind=ChannelKind.LIVECHAT,
        external_id="visitor-9",
        email="ana@example.com",
        email_verified=True,
    )
    assert chat.customer_id == email.customer_id


def test_same_verified_phone_joins_automatically(org_a):
    wa = identity_resolve(
        organization=org_a,
        kind=ChannelKind.WHATSAPP,
        external_id="34600111222",
        phone="+34 600 111 222",
        phone_verified=True,
    )
    tg = identity_resolve(
        organization=org_a,
        kind=ChannelKind.TELEGRAM,
        external_id="tg-5",
        phone="+34600111222",
        phone_verified=True,
    )
    assert wa.customer_id == tg.customer_id


def test_website_login_is_strong_evidence(org_a):
    site = identity_resolve(organization=org_a, kind="website", external_id="user-42")
    chat = identity_resolve(
        organization=org_a,
        kind=ChannelKind.LIVECHAT,
        external_id="visitor-1",
        links=[StrongLink("website", "user-42", "logged in on the brand's website")],
    )
    assert chat.customer_id == site.customer_id


def test_late_strong_evidence_merges_two_existing_profiles(org_a):
    email = identity_resolve(
        organization=org_a,
        kind=ChannelKind.EMAIL,
        external_id="bo@example.com",
        email="bo@example.com",
        email_verified=True,
    )
    x = identity_resolve(organization=org_a, kind=ChannelKind.X, external_id="77", handle="@bo")
    assert email.customer_id != x.customer_id
    # Later the X account proves the same verified email (e.g. through a CRM import): one profile.
    x = identity_resolve(
        organization=org_a, kind=ChannelKind.X, external_id="77", email="bo@example.com", email_verified=True
    )
    assert x.customer_id == email.customer_id
    merged_away = Customer.objects.exclude(pk=email.customer_id).get(organization=org_a)
    assert merged_away.merged_into_id == email.customer_id


@pytest.mark.parametrize(
    "first, second, reason",
    [
        ({"email": "cy@example.com"}, {"email": "cy@example.com"}, "same email (not verified)"),
        ({"handle": "@cyrus_k"}, {"handle": "cyrus_k"}, "same handle on another channel"),
        ({"display_name": "Cyrus Kent"}, {"display_name": "cyrus kent"}, "same full name"),
    ],
)
def test_weak_evidence_only_suggests(org_a, first, second, reason):
    a = identity_resolve(organization=org_a, kind=ChannelKind.X, external_id="a", **first)
    b = identity_resolve(organization=org_a, kind=ChannelKind.INSTAGRAM, external_id="b", **second)
    assert a.customer_id != b.customer_id
    suggestion = MergeSuggestion.objects.get()
    assert suggestion.reason == reason
    assert {suggestion.customer_id, suggestion.candidate_id} == {a.customer_id, b.customer_id}


def test_verified_email_in_another_organisation_is_not_evidence(org_a, org_b):
    a = identity_resolve(
        organization=org_a,
        kind=ChannelKind.EMAIL,
        external_id="d@example.com",
        email="d@example.com",
        email_verified=True,
    )
    b = identity_resolve(
        organization=org_b,
        kind=ChannelKind.EMAIL,
        external_id="d@example.com",
        email="d@example.com",
        email_verified=True,
    )
    assert a.customer_id != b.customer_id
    assert b.customer.organization_id == org_b.pk
