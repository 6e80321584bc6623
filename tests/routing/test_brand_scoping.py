"""Routing's and automation's settings for an admin limited to some brands, on the pages and over the API:
a brand's SLA policies, business hours and holidays, rules, acknowledgements and surveys are seen and
changed only by admins who work on that brand; the organisation-wide ones (no brand), team routing and
channel weights by admins of every brand; an agent's routing by an admin of every brand the agent works on.
"""

import pytest
from rest_framework.test import APIClient

from apps.accounts.models import Role
from apps.api.services import api_token_create
from apps.automation.models import Rule, Trigger
from apps.routing.models import AgentProfile, BusinessHours, Holiday, SLAPolicy, TeamRouting
from apps.routing.services import agent_profile_get
from tests.factories import BrandFactory, TeamFactory, membership_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(org_a, brand_a):
    other = BrandFactory(organization=org_a, name="Other brand")
    objects = {"own": brand_a, "other": other}
    for key, brand in (("own", brand_a), ("other", other), ("org", None)):
        hours = BusinessHours.objects.create(
            organization=org_a, brand=brand, name=f"{key} hours", weekly={"mon": [["09:00", "17:00"]]}
        )
        objects[f"{key}_hours"] = hours
        objects[f"{key}_holiday"] = Holiday.objects.create(
            organization=org_a, calendar=hours, date="2026-12-25", name=f"{key} holiday"
        )
        objects[f"{key}_policy"] = SLAPolicy.objects.create(
            organization=org_a, brand=brand, name=f"{key} policy", business_hours=hours
        )
        objects[f"{key}_rule"] = Rule.objects.create(
            organization=org_a,
            brand=brand,
            name=f"{key} rule",
            trigger=Trigger.MESSAGE_RECEIVED,
            actions=[{"type": "tag", "value": key}],
        )
    objects["limited_admin"] = membership_create(org_a, Role.ADMIN, brands=[brand_a], username="lim.admin")
    objects["admin"] = membership_create(org_a, Role.ADMIN, username="every.brand.admin")
    objects["own_agent"] = agent_profile_get(
        membership_create(org_a, Role.COMMUNITY_MANAGER, brands=[brand_a], username="own.agent")
    )
    objects["other_agent"] = agent_profile_get(
        membership_create(org_a, Role.COMMUNITY_MANAGER, brands=[other], username="other.agent")
    )
    objects["team"] = TeamFactory(organization=org_a, name="Care")
    return objects


def _api(membership) -> APIClient:
    _, key = api_token_create(membership=membership, name="tests", issuer=membership)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def test_a_brand_limited_admin_sees_and_changes_only_their_brands_settings_on_the_pages(client, world):
    client.force_login(world["limited_admin"].user)
    page = client.get("/org/routing/").content.decode()
    assert "own policy" in page and "own hours" in page and "own holiday" in page
    for key in ("other", "org"):
        assert f"{key} policy" not in page and f"{key} hours" not in page and f"{key} holiday" not in page
        assert client.get(f"/org/routing/policies/{world[f'{key}_policy'].pk}/").status_code == 404
        assert client.get(f"/org/routing/hours/{world[f'{key}_hours'].pk}/").status_code == 404
        assert client.post(f"/org/routing/hours/{world[f'{key}_hours'].pk}/delete/").status_code == 404
        assert client.post(f"/org/routing/holidays/{world[f'{key}_holiday'].pk}/delete/").status_code == 404
        assert (
            client.post(f"/org/routing/hours/{world[f'{key}_hours'].pk}/holidays/", {"date": "2027-01-01"})
        ).status_code == 404
        assert client.get(f"/automation/rules/{world[f'{key}_rule'].pk}/").status_code == 404
    # Team routing and channel weights are the organisation's: shown, not editable.
    assert 'id="teams-read-only"' in page and 'id="channel-weights"' not in page

    policy = {"name": "Mine", "first_response_minutes": 30, "warn_before_minutes": 5}
    # No brand (the organisation's), or another brand: refused, nothing saved.
    assert client.post("/org/routing/policies/new/", policy).status_code == 400
    assert (
        client.post("/org/routing/policies/new/", {**policy, "brand": world["other"].pk}).status_code == 400
    )
    # Their brand, counted in another brand's calendar: refused too.
    with_other_hours = {**policy, "brand": world["own"].pk, "business_hours": world["other_hours"].pk}
    assert client.post("/org/routing/policies/new/", with_other_hours).status_code == 400
    assert not SLAPolicy.objects.filter(name="Mine").exists()
    saved = client.post(
        "/org/routing/policies/new/",
        {**policy, "brand": world["own"].pk, "business_hours": world["own_hours"].pk},
    )
    assert saved.status_code == 302
    assert SLAPolicy.objects.get(name="Mine").brand == world["own"]
    hours = {"name": "Team hours", "timezone": "UTC", "hours": "mon 09:00-17:00"}
    assert client.post("/org/routing/hours/new/", hours).status_code == 400
    assert client.post("/org/routing/hours/new/", {**hours, "brand": world["own"].pk}).status_code == 302
    edited = client.post(
        f"/org/routing/policies/{world['own_policy'].pk}/",
        {**policy, "name": "own policy", "brand": world["other"].pk},
    )
    assert edited.status_code == 400
    assert SLAPolicy.objects.get(pk=world["own_policy"].pk).brand == world["own"]

    client.post(f"/org/routing/teams/{world['team'].pk}/", {"strategy": "round_robin"})
    client.post("/org/routing/weights/", {"weights": "livechat=5"})
    assert not TeamRouting.objects.filter(team=world["team"]).exists()
    world["own"].organization.refresh_from_db()
    assert "routing" not in (world["own"].organization.settings or {})

    client.post(f"/org/routing/agents/{world['other_agent'].pk}/", {"capacity": 3})
    client.post(f"/org/routing/agents/{world['own_agent'].pk}/", {"capacity": 4})
    assert AgentProfile.objects.get(pk=world["other_agent"].pk).capacity == 10
    assert AgentProfile.objects.get(pk=world["own_agent"].pk).capacity == 4

    # A rule of every brand is the organisation's too.
    response = client.post(
        "/automation/rules/new/",
        {"name": "All brands", "trigger": Trigger.MESSAGE_RECEIVED, "act-0-type": "tag", "act-0-value": "x"},
    )
    assert response.status_code == 400 and "admin of every brand" in response.content.decode()
    assert not Rule.objects.filter(name="All brands").exists()


def test_an_admin_of_every_brand_manages_the_organisation_wide_settings(client, world):
    client.force_login(world["admin"].user)
    page = client.get("/org/routing/").content.decode()
    for key in ("own", "other", "org"):
        assert f"{key} policy" in page and f"{key} hours" in page
    assert 'id="channel-weights"' in page
    saved = client.post(
        "/org/routing/policies/new/", {"name": "Org", "first_response_minutes": 30, "warn_before_minutes": 5}
    )
    assert saved.status_code == 302 and SLAPolicy.objects.get(name="Org").brand is None
    assert (
        client.post(f"/org/routing/teams/{world['team'].pk}/", {"strategy": "least_busy"}).status_code == 302
    )
    assert TeamRouting.objects.get(team=world["team"]).strategy == "least_busy"
    client.post(f"/org/routing/agents/{world['other_agent'].pk}/", {"capacity": 3})
    assert AgentProfile.objects.get(pk=world["other_agent"].pk).capacity == 3


def test_the_api_applies_the_same_rule(world):
    limited = _api(world["limited_admin"])
    names = {row["name"] for row in limited.get("/api/v1/sla-policies/").json()["results"]}
    assert names == {"own policy"}
    names = {row["name"] for row in limited.get("/api/v1/business-hours/").json()["results"]}
    assert names == {"own hours"}
    for key in ("other", "org"):
        assert limited.get(f"/api/v1/sla-policies/{world[f'{key}_policy'].pk}/").status_code == 404
        assert limited.delete(f"/api/v1/holidays/{world[f'{key}_holiday'].pk}/").status_code == 404
        assert (
            limited.post(
                f"/api/v1/business-hours/{world[f'{key}_hours'].pk}/holidays/", {"date": "2027-01-01"}
            ).status_code
            == 404
        )

    refused = limited.post("/api/v1/sla-policies/", {"name": "Mine"}, format="json")
    assert refused.status_code == 400 and "admin of every brand" in refused.json()["detail"]
    refused = limited.post(
        "/api/v1/sla-policies/",
        {"name": "Mine", "brand": world["own"].pk, "business_hours": world["org_hours"].pk},
        format="json",
    )
    assert refused.status_code == 400
    moved = limited.patch(f"/api/v1/sla-policies/{world['own_policy'].pk}/", {"brand": None}, format="json")
    assert moved.status_code == 400
    assert SLAPolicy.objects.get(pk=world["own_policy"].pk).brand == world["own"]
    created = limited.post("/api/v1/sla-policies/", {"name": "Mine", "brand": world["own"].pk}, format="json")
    assert created.status_code == 201, created.content

    refused = limited.patch(
        f"/api/v1/team-routing/{world['team'].pk}/", {"strategy": "least_busy"}, format="json"
    )
    assert refused.status_code == 403 and "admin of every brand" in refused.json()["detail"]
    assert (
        limited.patch(
            f"/api/v1/agents/{world['other_agent'].pk}/", {"capacity": 2}, format="json"
        ).status_code
        == 403
    )
    assert (
        limited.patch(f"/api/v1/agents/{world['own_agent'].pk}/", {"capacity": 2}, format="json").status_code
        == 200
    )
    refused = limited.post(
        "/api/v1/automation-rules/",
        {
            "name": "Every brand",
            "trigger": Trigger.MESSAGE_RECEIVED,
            "actions": [{"type": "tag", "value": "x"}],
        },
        format="json",
    )
    assert refused.status_code == 400 and "admin of every brand" in refused.json()["detail"]

    admin = _api(world["admin"])
    assert len(admin.get("/api/v1/sla-policies/").json()["results"]) == 4
    assert admin.post("/api/v1/sla-policies/", {"name": "Org-wide"}, format="json").status_code == 201
    assert (
        admin.patch(f"/api/v1/team-routing/{world['team'].pk}/", {"strategy": "least_busy"}, format="json")
    ).status_code == 200


def test_channel_weights_and_survey_settings_over_the_api(world):
    from apps.automation.models import SurveySettings
    from apps.core.models import AuditEvent

    admin, limited = _api(world["admin"]), _api(world["limited_admin"])
    weights = admin.get("/api/v1/channel-weights/").json()["weights"]
    assert weights["livechat"] == 2.0 and weights["email"] == 1.0
    saved = admin.post("/api/v1/channel-weights/", {"weights": {"email": 1.5}}, format="json")
    assert saved.status_code == 200 and saved.json()["weights"]["email"] == 1.5
    assert AuditEvent.objects.filter(action="routing.channel_weights").count() == 1
    assert admin.post("/api/v1/channel-weights/", {"weights": {"fax": 2}}, format="json").status_code == 400
    assert (
        admin.post("/api/v1/channel-weights/", {"weights": {"email": 50}}, format="json").status_code == 400
    )
    refused = limited.post("/api/v1/channel-weights/", {"weights": {"email": 3}}, format="json")
    assert refused.status_code == 403 and "admin of every brand" in refused.json()["detail"]
    assert limited.get("/api/v1/channel-weights/").json()["weights"]["email"] == 1.5

    question = {"questions": {"en": "How did we do?", "es": "¿Qué tal lo hicimos?"}, "default_language": "en"}
    created = limited.post("/api/v1/survey-settings/", {**question, "brand": world["own"].pk}, format="json")
    assert created.status_code == 201, created.content
    assert (
        limited.post(
            "/api/v1/survey-settings/", {**question, "brand": world["other"].pk}, format="json"
        ).status_code
        == 400
    )
    again = admin.post("/api/v1/survey-settings/", {**question, "brand": world["own"].pk}, format="json")
    assert again.status_code == 400
    other = admin.post("/api/v1/survey-settings/", {**question, "brand": world["other"].pk}, format="json")
    assert other.status_code == 201
    assert [row["brand"] for row in limited.get("/api/v1/survey-settings/").json()["results"]] == [
        world["own"].pk
    ]
    assert limited.get(f"/api/v1/survey-settings/{other.json()['id']}/").status_code == 404
    missing_default = limited.patch(
        f"/api/v1/survey-settings/{created.json()['id']}/",
        {"questions": {"es": "¿Qué tal?"}},
        format="json",
    )
    assert missing_default.status_code == 400 and "default language" in missing_default.json()["detail"]
    paused = limited.patch(
        f"/api/v1/survey-settings/{created.json()['id']}/", {"active": False}, format="json"
    )
    assert paused.status_code == 200 and SurveySettings.objects.get(brand=world["own"]).active is False
    assert AuditEvent.objects.filter(action="automation.survey_settings_saved").count() == 3
