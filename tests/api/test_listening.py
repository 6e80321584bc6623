"""Listening queries: admins create, change and delete them; a syntax error says where; a preview shows what
a query would match before it is saved."""

import pytest

from apps.listening.models import ListeningQuery

from .conftest import ids

pytestmark = pytest.mark.django_db


def test_admins_create_change_and_delete_queries(world, api):
    client = api(world["admin"])
    brand = world["a"]["brand"]
    created = client.post(
        "/api/v1/listening-queries/",
        {"brand": brand.pk, "name": "Delays", "level": "about_brand", "query": '"late delivery" OR delayed'},
        format="json",
    )
    assert created.status_code == 201, created.content
    query = ListeningQuery.objects.get(pk=created.json()["id"])
    assert query.organization_id == brand.organization_id

    changed = client.patch(f"/api/v1/listening-queries/{query.pk}/", {"is_active": False}, format="json")
    assert changed.json()["is_active"] is False
    assert ids(client.get("/api/v1/listening-queries/", {"is_active": "false"})) == {query.pk}
    assert client.delete(f"/api/v1/listening-queries/{query.pk}/").status_code == 204
    assert not ListeningQuery.objects.filter(pk=query.pk).exists()


def test_a_syntax_error_says_its_position_and_what_is_wrong(world, api):
    response = api(world["admin"]).post(
        "/api/v1/listening-queries/",
        {
            "brand": world["a"]["brand"].pk,
            "name": "Broken",
            "level": "about_brand",
            "query": "late AND (delivery",
        },
        format="json",
    )
    assert response.status_code == 400
    error = response.json()["query"]
    assert error["position"] == 9 and error["message"]


def test_a_query_for_a_brand_of_another_organisation_is_refused(world, api):
    response = api(world["admin"]).post(
        "/api/v1/listening-queries/",
        {"brand": world["b"]["brand"].pk, "name": "Theirs", "level": "about_brand", "query": "x"},
        format="json",
    )
    assert response.status_code == 400 and "brand" in response.json()
    assert not ListeningQuery.objects.filter(name="Theirs").exists()


def test_preview_matches_stored_messages_the_member_may_see(world, api):
    client = api(world["admin"])
    preview = client.post("/api/v1/listening-queries/preview/", {"query": "order"}, format="json").json()
    assert preview["count"] == 2  # organisation A's two inbound messages; B's is not counted
    assert {m["id"] for m in preview["sample"]} == {world["a"]["message"].pk, world["a2"]["message"].pk}
    broken = client.post("/api/v1/listening-queries/preview/", {"query": "(order"}, format="json")
    assert broken.status_code == 400 and broken.json()["query"]["position"] == 0


def test_agents_and_marketers_read_queries_but_cannot_change_them(world, api):
    query = world["a"]["query"]
    for who in ("agent", "marketer"):
        client = api(world[who])
        assert query.pk in ids(client.get("/api/v1/listening-queries/"))
        assert (
            client.patch(f"/api/v1/listening-queries/{query.pk}/", {"name": "x"}, format="json").status_code
            == 403
        )
        assert client.delete(f"/api/v1/listening-queries/{query.pk}/").status_code == 403
        assert (
            client.post("/api/v1/listening-queries/preview/", {"query": "x"}, format="json").status_code
            == 403
        )
