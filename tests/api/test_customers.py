"""Customers and identities through the API: search, the profile, the 360° timeline; export and erasure
for admins only."""

import pytest

from apps.customers.models import Customer

from .conftest import ids

pytestmark = pytest.mark.django_db


def test_list_and_search(world, api):
    client = api(world["agent"])
    assert ids(client.get("/api/v1/customers/")) == {world["a"]["customer"].pk, world["a2"]["customer"].pk}
    found = client.get("/api/v1/customers/", {"q": "OrgA2"}).json()["results"]
    assert [(c["id"], c["identity_count"]) for c in found] == [(world["a2"]["customer"].pk, 1)]
    assert ids(client.get("/api/v1/customers/", {"q": "orga@example.com"})) == {world["a"]["customer"].pk}
    assert client.get("/api/v1/customers/", {"q": "x" * 500}).status_code == 400


def test_retrieve_with_identities_and_attributes(world, api):
    customer = world["a"]["customer"]
    Customer.objects.filter(pk=customer.pk).update(attributes={"plan": "gold"})
    body = api(world["agent"]).get(f"/api/v1/customers/{customer.pk}/").json()
    assert body["attributes"] == {"plan": "gold"}
    assert [identity["id"] for identity in body["identities"]] == [world["a"]["identity"].pk]


def test_the_timeline_interleaves_messages_newest_first(world, api):
    customer = world["a"]["customer"]
    timeline = api(world["agent"]).get(f"/api/v1/customers/{customer.pk}/timeline/").json()
    messages = [entry["message"]["id"] for entry in timeline if entry["kind"] == "message"]
    assert set(messages) == {world["a"]["message"].pk, world["a"]["note"].pk}


def test_identities(world, api):
    client = api(world["agent"])
    identity = world["a"]["identity"]
    assert ids(client.get("/api/v1/identities/", {"customer": world["a"]["customer"].pk})) == {identity.pk}
    assert ids(client.get("/api/v1/identities/", {"email": "ORGA@example.com"})) == {identity.pk}
    assert client.get(f"/api/v1/identities/{identity.pk}/").json()["email"] == "orga@example.com"


def test_export_and_erase_are_for_admins(world, api):
    customer = world["a"]["customer"]
    agent, admin = api(world["agent"]), api(world["admin"])
    assert agent.get(f"/api/v1/customers/{customer.pk}/export/").status_code == 403
    assert agent.post(f"/api/v1/customers/{customer.pk}/erase/").status_code == 403

    exported = admin.get(f"/api/v1/customers/{customer.pk}/export/").json()
    assert exported["customer"]["display_name"] == "OrgA customer"
    assert [m["text"] for m in exported["messages"]] == ["OrgA my order never arrived"]

    summary = admin.post(f"/api/v1/customers/{customer.pk}/erase/").json()
    assert summary["identities_removed"] == 1 and summary["messages_redacted"] == 1
    customer.refresh_from_db()
    assert customer.erased_at is not None
    assert customer.pk not in ids(admin.get("/api/v1/customers/"))
