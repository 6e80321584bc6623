"""Routing's pages and API, as an admin and an agent use them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import Role
from apps.api.services import api_token_create
from apps.core.models import AuditEvent
from apps.routing.models import AgentProfile, BusinessHours, Holiday, SLAOutcome, SLAPolicy, TeamRouting
from tests.factories import ConversationFactory, TeamFactory, membership_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(org_a):
    return membership_create(org_a, Role.ADMIN, username="boss")


def test_an_admin_sets_up_policies_hours_holidays_teams_and_agents_on_the_page(client, org_a, brand_a, admin):
    agent = membership_create(org_a, Role.COMMUNITY_MANAGER, username="ann")
    team = TeamFactory(organization=org_a, name="Care")
    client.force_login(agent.user)
    assert client.get("/org/routing/availability/").status_code == 200  # the agent appears once seen
    client.force_login(admin.user)

    response = client.post(
        "/org/routing/hours/new/",
        {
            "name": "Paris",
            "brand": brand_a.pk,
            "timezone": "Europe/Paris",
            "hours": "mon 09:00-17:00\nfri 9:00-12:00",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    hours = BusinessHours.objects.get()
    assert hours.weekly == {"mon": [["09:00", "17:00"]], "fri": [["9:00", "12:00"]]}
    bad = client.post(
        "/org/routing/hours/new/", {"name": "x", "timezone": "Mars/Base", "hours": "mon 17:00-09:00"}
    )
    assert bad.status_code == 400 and "ends before it starts" in bad.content.decode()

    assert (
        client.post(
            f"/org/routing/hours/{hours.pk}/holidays/", {"date": "2026-12-25", "name": "Xmas"}
        ).status_code
        == 302
    )
    assert Holiday.objects.get().name == "Xmas"

    response = client.post(
        "/org/routing/policies/new/",
        {
            "name": "Chat",
            "brand": brand_a.pk,
            "channel_kind": "livechat",
            "first_response_minutes": 5,
            "warn_before_minutes": 1,
            "business_hours": hours.pk,
            "escalate_notify": "on",
        },
    )
    assert response.status_code == 302
    assert SLAPolicy.objects.get().business_hours == hours

    response = client.post(
        f"/org/routing/teams/{team.pk}/",
        {
            "strategy": "least_busy",
            "position": 2,
            "brands": [brand_a.pk],
            "channel_kinds": ["livechat"],
            "languages": "en, fr",
        },
    )
    assert response.status_code == 302
    routing = TeamRouting.objects.get()
    assert (routing.strategy, routing.languages, list(routing.brands.all())) == (
        "least_busy",
        ["en", "fr"],
        [brand_a],
    )

    profile = AgentProfile.objects.get()
    response = client.post(
        f"/org/routing/agents/{profile.pk}/",
        {"capacity": 7, "languages": "de", "status": "online", "channel_kinds": ["email"]},
    )
    assert response.status_code == 302
    profile.refresh_from_db()
    assert (profile.capacity, profile.languages, profile.status, profile.channel_kinds) == (
        7,
        ["de"],
        "online",
        ["email"],
    )

    assert client.post("/org/routing/weights/", {"weights": "livechat=3 email=0.5"}).status_code == 302
    org_a.refresh_from_db()
    assert org_a.settings["routing"]["channel_weights"] == {"livechat": 3.0, "email": 0.5}
    client.post("/org/routing/weights/", {"weights": "pigeon=2"})
    org_a.refresh_from_db()
    assert "pigeon" not in org_a.settings["routing"]["channel_weights"]

    page = client.get("/org/routing/").content.decode()
    assert "Paris" in page and "Xmas" in page and "Chat" in page and "ann" in page
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "routing.businesshours_created",
        "routing.holiday_created",
        "routing.slapolicy_created",
        "routing.team_updated",
        "routing.agent_updated",
        "routing.availability",
    } <= actions


def test_the_header_control_sets_the_agents_availability_and_idle_never_overrides_a_choice(client, org_a):
    agent = membership_create(org_a, Role.COMMUNITY_MANAGER, username="ann")
    client.force_login(agent.user)
    assert b'value="offline" selected' in client.get("/org/routing/availability/").content
    client.post("/org/routing/availability/", {"status": "online"})
    client.post("/org/routing/availability/", {"status": "away", "auto": "1"})  # idle
    profile = AgentProfile.objects.get()
    assert (profile.status, profile.auto_away) == ("away", True)
    client.post("/org/routing/availability/", {"status": "online", "auto": "1"})  # active again
    client.post("/org/routing/availability/", {"status": "busy"})
    client.post("/org/routing/availability/", {"status": "away", "auto": "1"})  # idle while busy: stays busy
    assert AgentProfile.objects.get().status == "busy"
    assert client.post("/org/routing/availability/", {"status": "napping"}).status_code == 400


def test_the_api_manages_routing_and_reports_sla_met(client, org_a, brand_a, admin):
    token = api_token_create(membership=admin, name="t", issuer=admin)[1]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    response = client.post(
        "/api/v1/business-hours/",
        {
            "name": "NY",
            "brand": brand_a.pk,
            "timezone": "America/New_York",
            "weekly": {"tue": [["08:00", "20:00"]]},
        },
        content_type="application/json",
        **auth,
    )
    assert response.status_code == 201, response.content
    hours_id = response.json()["id"]
    bad = client.post(
        "/api/v1/business-hours/",
        {"name": "x", "weekly": {"tue": [["20:00", "08:00"]]}},
        content_type="application/json",
        **auth,
    )
    assert bad.status_code == 400
    assert (
        client.post(
            f"/api/v1/business-hours/{hours_id}/holidays/",
            {"date": "2026-07-04"},
            content_type="application/json",
            **auth,
        ).status_code
        == 201
    )
    response = client.post(
        "/api/v1/sla-policies/",
        {"name": "Std", "first_response_minutes": 30, "business_hours": hours_id},
        content_type="application/json",
        **auth,
    )
    assert response.status_code == 201, response.content
    team = TeamFactory(organization=org_a, name="Care")
    response = client.patch(
        f"/api/v1/team-routing/{team.pk}/",
        {"strategy": "round_robin"},
        content_type="application/json",
        **auth,
    )
    assert response.status_code == 200 and response.json()["strategy"] == "round_robin"
    response = client.post(
        "/api/v1/agents/me/", {"status": "online"}, content_type="application/json", **auth
    )
    assert response.status_code == 200 and response.json()["status"] == "online"

    conversation = ConversationFactory(brand=brand_a, channel__brand=brand_a, team=team)
    now = timezone.now()
    for met in (True, True, False):
        SLAOutcome.objects.create(
            organization=org_a,
            conversation=conversation,
            brand=brand_a,
            channel=conversation.channel,
            team=team,
            target="first_response",
            due_at=now - timedelta(minutes=len(SLAOutcome.objects.all())),
            done_at=now,
            met=met,
        )
    rows = client.get("/api/v1/sla-report/?by=team", **auth).json()
    assert rows == [{"name": "Care", "total": 3, "met": 2, "rate": 66.7}]
    assert client.get("/api/v1/sla-report/?by=planet", **auth).status_code == 400
    client.force_login(admin.user)
    assert "66.7 %" in client.get("/org/routing/sla/").content.decode()
    # The brand dashboard's card: this brand, the dashboard's dates, the tables alone
    day = now.date().isoformat()
    card = client.get(f"/org/routing/sla/?brand={brand_a.pk}&since={day}&until={day}", HTTP_HX_REQUEST="true")
    assert "66.7 %" in card.content.decode() and "<html" not in card.content.decode()
    other = client.get(f"/org/routing/sla/?brand=999999&since={day}&until={day}", HTTP_HX_REQUEST="true")
    assert "66.7 %" not in other.content.decode()
