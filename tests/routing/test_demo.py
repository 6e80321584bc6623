"""The demo's routing: what seed_demo gives a new user to look at."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import Organization
from apps.demo.generate import generate_demo
from apps.routing.models import AgentProfile, BusinessHours, Holiday, SLAOutcome, SLAPolicy, TeamRouting
from apps.routing.selectors import sla_met_rates

pytestmark = pytest.mark.django_db


def test_the_demo_has_office_hours_policies_auto_assigning_teams_and_sla_outcomes():
    generate_demo(messages=300, seed=5)
    acme = Organization.objects.get(slug="acme")
    assert BusinessHours.objects.filter(organization=acme).count() == 3
    assert Holiday.objects.filter(organization=acme).exists()
    assert SLAPolicy.objects.filter(organization=acme, channel_kind="livechat").exists()
    assert set(TeamRouting.objects.values_list("strategy", flat=True)) == {"round_robin", "least_busy"}
    assert AgentProfile.objects.filter(organization=acme, status="online").count() == 2
    assert SLAOutcome.objects.filter(organization=acme, met=True).exists()
    assert SLAOutcome.objects.filter(organization=acme, met=False).exists()
    since = timezone.now() - timedelta(days=120)
    by_team = sla_met_rates(organization=acme, since=since, by="team")
    assert {row["name"] for row in by_team} == {"Care", "Social"}
    assert all(0 <= row["rate"] <= 100 for row in by_team)
