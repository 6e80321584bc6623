"""Tokens: made by admins on /org/api-tokens/ (the key shown once), stored hashed, revocable; session
authentication for the docs pages; the OpenAPI schema and its docs served without any download."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from apps.api.models import ApiToken
from apps.api.services import api_token_create, key_hash

pytestmark = pytest.mark.django_db


def test_no_token_no_data(world):
    client = APIClient()
    response = client.get("/api/v1/conversations/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    client.credentials(HTTP_AUTHORIZATION="Bearer cxm_not-a-real-token")
    assert client.get("/api/v1/conversations/").status_code == 401
    client.credentials(HTTP_AUTHORIZATION="Bearer")
    assert client.get("/api/v1/conversations/").status_code == 401


def test_a_token_is_stored_hashed_and_stops_working_once_revoked(world):
    from apps.api.services import api_token_revoke

    token, key = api_token_create(membership=world["agent"], name="CRM sync", issuer=world["admin"])
    assert key.startswith("cxm_") and token.prefix == key[:12]
    assert token.key_hash == key_hash(key) and key not in str(ApiToken.objects.filter(pk=token.pk).values())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/conversations/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None
    api_token_revoke(token=token, actor=world["admin"].user)
    assert client.get("/api/v1/conversations/").status_code == 401


def test_the_session_works_for_the_browsable_api_in_the_organisation_the_user_chose(world, login):
    client = login(world["agent"])
    response = client.get("/api/v1/conversations/")
    assert response.status_code == 200
    assert world["b"]["conversation"].pk not in {row["id"] for row in response.json()["results"]}


def test_an_admin_makes_a_token_for_a_member_and_sees_its_key_once(world, login):
    client = login(world["admin"])
    page = client.post("/org/api-tokens/", {"name": "BI export", "membership": world["marketer"].pk})
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    key = re.search(r'id="new-token-key">(cxm_[^<]+)<', page.content.decode()).group(1)
    token = ApiToken.objects.get(name="BI export")
    assert token.membership == world["marketer"] and token.key_hash == key_hash(key)

    again = client.get("/org/api-tokens/").content.decode()
    assert key not in again and token.prefix in again

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api.get("/api/v1/brands/").status_code == 200
    client.post(f"/org/api-tokens/{token.pk}/revoke/")
    assert api.get("/api/v1/brands/").status_code == 401


def test_only_admins_manage_tokens_and_only_for_their_organisation(world, login):
    assert login(world["agent"]).get("/org/api-tokens/").status_code == 403
    admin = login(world["admin"])
    assert admin.post("/org/api-tokens/", {"name": "x", "membership": world["agent_b"].pk}).status_code == 404
    theirs, _ = api_token_create(membership=world["agent_b"], name="theirs", issuer=world["admin_b"])
    assert admin.post(f"/org/api-tokens/{theirs.pk}/revoke/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_active
    nameless = admin.post("/org/api-tokens/", {"name": " ", "membership": world["agent"].pk})
    assert nameless.status_code == 200 and not ApiToken.objects.filter(membership=world["agent"]).exists()


def test_the_schema_and_the_docs_pages_are_served_from_local_assets(world, login):
    client = login(world["marketer"])
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    assert "/api/v1/conversations/{id}/assign/" in schema.json()["paths"]
    for page in ("/api/v1/docs/", "/api/v1/redoc/"):
        html = client.get(page).content.decode()
        assert "/static/drf_spectacular_sidecar/" in html
        assert "cdn.jsdelivr" not in html and "unpkg.com" not in html


def test_api_leads_to_the_docs(world, login):
    client = login(world["marketer"])
    answer = client.get("/api/")
    assert answer.status_code == 302 and answer["Location"] == "/api/v1/docs/"
    assert client.get(answer["Location"]).status_code == 200


def test_the_schema_validates_without_a_warning(tmp_path):
    """What `manage.py spectacular --validate --fail-on-warn` checks: every component names one thing (no
    colliding enum names such as `Kind4beEnum`), every view's serializer is found, the schema is valid."""
    output = tmp_path / "schema.yml"
    errors = StringIO()
    call_command("spectacular", validate=True, fail_on_warn=True, file=str(output), stderr=errors)
    assert errors.getvalue() == ""
    assert "Kind4beEnum" not in output.read_text() and "openapi:" in output.read_text()


def test_the_docs_assets_are_served_by_the_application(world, login):
    client = login(world["marketer"])
    html = client.get("/api/v1/docs/").content.decode()
    bundle = re.search(r'src="(/static/drf_spectacular_sidecar/[^"]+\.js)"', html).group(1)
    response = client.get(bundle)
    assert response.status_code == 200


def test_an_admin_limited_to_some_brands_cannot_make_a_token_that_sees_more(world, login, org_a):
    from apps.accounts.models import Role
    from tests.factories import membership_create

    limited_admin = membership_create(org_a, Role.ADMIN, brands=[world["a2"]["brand"]])
    client = login(limited_admin)
    refused = client.post("/org/api-tokens/", {"name": "all brands", "membership": world["agent"].pk})
    assert "sees brands you do not" in refused.content.decode()
    assert not ApiToken.objects.filter(membership=world["agent"]).exists()
    allowed = client.post("/org/api-tokens/", {"name": "A2 only", "membership": world["limited"].pk})
    assert "new-token-key" in allowed.content.decode()
