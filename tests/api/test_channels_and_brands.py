"""Channels and brands: every member reads them; admins pause, resume and edit; credentials never leave."""

import pytest

from apps.connectors.models import Channel
from apps.core.models import AuditEvent

from .conftest import ids

pytestmark = pytest.mark.django_db


def test_channels_never_show_credentials_settings_or_the_webhook_token(world, api):
    channel = world["a"]["channel"]
    client = api(world["admin"])
    listed = client.get("/api/v1/channels/")
    detail = client.get(f"/api/v1/channels/{channel.pk}/")
    for response in (listed, detail):
        text = response.content.decode()
        assert "OrgA-secret-password" not in text and "credentials" not in text
        assert channel.webhook_token not in text and "imap.example" not in text
    assert detail.json()["name"] == "OrgA mail"
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    shown = set(schema["components"]["schemas"]["Channel"]["properties"])
    assert not shown & {"credentials", "settings", "webhook_token", "cursor"}


def test_channel_filters(world, api):
    client = api(world["marketer"])
    assert ids(client.get("/api/v1/channels/", {"brand": world["a2"]["brand"].pk})) == {
        world["a2"]["channel"].pk
    }
    assert ids(client.get("/api/v1/channels/", {"kind": "telegram"})) == set()


def test_admins_pause_and_resume_a_channel(world, api):
    channel = world["a"]["channel"]
    client = api(world["admin"])
    assert client.post(f"/api/v1/channels/{channel.pk}/pause/").json()["status"] == "paused"
    assert Channel.objects.get(pk=channel.pk).status == "paused"
    assert AuditEvent.objects.filter(action="channel.status", target_id=str(channel.pk)).exists()
    assert client.post(f"/api/v1/channels/{channel.pk}/resume/").json()["status"] == "active"


def test_agents_and_marketers_cannot_pause_a_channel(world, api):
    channel = world["a"]["channel"]
    for who in ("agent", "marketer"):
        assert api(world[who]).post(f"/api/v1/channels/{channel.pk}/pause/").status_code == 403
    assert Channel.objects.get(pk=channel.pk).status == "active"


def test_brands_are_read_by_every_member_and_edited_by_admins(world, api):
    brand = world["a"]["brand"]
    assert ids(api(world["marketer"]).get("/api/v1/brands/")) == {brand.pk, world["a2"]["brand"].pk}
    forbidden = api(world["marketer"]).patch(f"/api/v1/brands/{brand.pk}/", {"name": "X"}, format="json")
    assert forbidden.status_code == 403
    changed = api(world["admin"]).patch(
        f"/api/v1/brands/{brand.pk}/", {"name": "Brand A+", "keywords": ["a plus"]}, format="json"
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["name"] == "Brand A+" and changed.json()["keywords"] == ["a plus"]
    assert AuditEvent.objects.filter(action="brand.updated", target_id=str(brand.pk)).exists()
    blank = api(world["admin"]).patch(f"/api/v1/brands/{brand.pk}/", {"name": "  "}, format="json")
    assert blank.status_code == 400
