"""The demo's routing (apps/demo seed_demo): office hours and holidays per brand, SLA policies, teams that
assign automatically, agents' availability, and the SLA outcomes of the demo's 90 days of conversations."""

from __future__ import annotations

from datetime import date

from django.db import connection

from apps.accounts.models import Membership, Team
from apps.connectors.kinds import PRIVATE_KINDS, ChannelKind

from .models import AgentProfile, Availability, BusinessHours, Holiday, SLAPolicy, TeamRouting
from .selectors import routing_config_changed

OFFICE = {day: [["08:00", "20:00"]] for day in ("mon", "tue", "wed", "thu", "fri")} | {
    "sat": [["10:00", "16:00"]]
}
# Resolution target the demo's outcomes are measured against (the private channels' policy).
RESOLUTION_MINUTES = 2 * 24 * 60


def routing_demo_create(*, organization, brands, now) -> None:
    for brand in brands:
        hours = BusinessHours.objects.create(
            organization=organization,
            brand=brand,
            name=f"{brand.name} office",
            timezone="Europe/Paris",
            weekly=OFFICE,
        )
        for year in (now.year, now.year + 1):
            for month, day, name in ((1, 1, "New Year's Day"), (5, 1, "Labour Day"), (12, 25, "Christmas")):
                Holiday.objects.create(
                    organization=organization, calendar=hours, date=date(year, month, day), name=name
                )
        SLAPolicy.objects.create(
            organization=organization,
            brand=brand,
            name=f"{brand.name}: urgent",
            priority_level="urgent",
            first_response_minutes=60,
            next_response_minutes=60,
            resolution_minutes=8 * 60,
            escalate_raise_priority=False,
            escalate_reassign=True,
        )
    SLAPolicy.objects.create(
        organization=organization,
        name="Private channels",
        first_response_minutes=240,
        next_response_minutes=240,
        resolution_minutes=RESOLUTION_MINUTES,
    )
    SLAPolicy.objects.create(
        organization=organization,
        name="Live chat",
        channel_kind=ChannelKind.LIVECHAT,
        first_response_minutes=5,
        next_response_minutes=10,
        resolution_minutes=8 * 60,
        warn_before_minutes=2,
        escalate_raise_priority=True,
    )
    care, social = (
        Team.objects.get(organization=organization, name="Care"),
        Team.objects.get(organization=organization, name="Social"),
    )
    TeamRouting.objects.create(
        organization=organization,
        team=care,
        strategy=TeamRouting.Strategy.ROUND_ROBIN,
        position=1,
        channel_kinds=sorted(PRIVATE_KINDS),
    )
    TeamRouting.objects.create(
        organization=organization, team=social, strategy=TeamRouting.Strategy.LEAST_BUSY, position=2
    )
    for membership in Membership.objects.filter(
        organization=organization, role__in=("admin", "community_manager")
    ):
        AgentProfile.objects.create(
            organization=organization,
            membership=membership,
            user=membership.user,
            status=Availability.AWAY if membership.role == "admin" else Availability.ONLINE,
            capacity=5 if membership.role == "admin" else 25,
            languages=[] if membership.role == "admin" else ["en", "es", "fr", "de"],
        )
    routing_config_changed(organization.pk)
    with connection.cursor() as cursor:
        # Each conversation in the team that takes its channel; its deadlines met or missed, once each.
        cursor.execute(
            """
            UPDATE conversations_conversation c SET team_id = CASE WHEN ch.kind = ANY(%s) THEN %s ELSE %s END
            FROM connectors_channel ch WHERE ch.id = c.channel_id AND c.organization_id = %s
            """,
            [sorted(PRIVATE_KINDS), care.pk, social.pk, organization.pk],
        )
        cursor.execute(
            """
            INSERT INTO routing_slaoutcome
                (organization_id, conversation_id, brand_id, channel_id, team_id, agent_id, target, due_at,
                 done_at, met)
            SELECT organization_id, id, brand_id, channel_id, team_id, assignee_id, 'first_response',
                   sla_due_at, first_response_at, first_response_at <= sla_due_at
            FROM conversations_conversation
            WHERE organization_id = %s AND first_response_at IS NOT NULL AND sla_due_at IS NOT NULL
            UNION ALL
            SELECT organization_id, id, brand_id, channel_id, team_id, assignee_id, 'resolution',
                   created_at + make_interval(mins => %s), resolved_at,
                   resolved_at <= created_at + make_interval(mins => %s)
            FROM conversations_conversation
            WHERE organization_id = %s AND status = 'closed' AND resolved_at IS NOT NULL
            """,
            [organization.pk, RESOLUTION_MINUTES, RESOLUTION_MINUTES, organization.pk],
        )
        # A conversation whose latest message is the brand's waits for the customer: no response is due.
        cursor.execute(
            """
            UPDATE conversations_conversation c SET sla_due_at = NULL
            WHERE c.organization_id = %s AND (
                SELECT direction FROM conversations_message m
                WHERE m.conversation_id = c.id AND m.direction <> 'note'
                ORDER BY sent_at DESC, id DESC LIMIT 1
            ) = 'outbound'
            """,
            [organization.pk],
        )
