"""Reads of routing: an organisation's SLA policies and calendars (cached per process: ingestion asks for
each batch of messages), who may take a conversation, agents' load."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

from django.core.cache import cache
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from apps.accounts.models import Membership
from apps.conversations.models import Conversation

from .calendar import ALWAYS_OPEN, Calendar
from .models import AgentProfile, Availability, BusinessHours, Holiday, SLAPolicy, TeamRouting

# Weight of an open conversation in an agent's load, by channel kind: a live chat needs the agent now, an
# email or a public post can wait between replies. The organisation's settings["routing"]["channel_weights"]
# overrides them.
DEFAULT_CHANNEL_WEIGHTS = {
    "livechat": 2.0,
    "whatsapp": 1.5,
    "messenger": 1.5,
    "telegram": 1.5,
    "line": 1.5,
    "instagram": 1.5,
}


def _version_key(organization_id: int) -> str:
    return f"routing:config-version:{organization_id}"


def routing_config_version(organization_id: int) -> int:
    return cache.get(_version_key(organization_id)) or 0


def routing_config_changed(organization_id: int) -> None:
    """Every process reloads the organisation's policies and calendars (this one at its next use, the others
    within VERSION_CHECK_SECONDS)."""
    _configs.pop(organization_id, None)
    try:
        cache.incr(_version_key(organization_id))
    except ValueError:
        cache.set(_version_key(organization_id), 1, timeout=None)


@dataclass
class RoutingConfig:
    """An organisation's SLA policies (most specific first) and calendars, as plain objects."""

    version: int
    checked_at: float = 0.0
    policies: list[SLAPolicy] = field(default_factory=list)
    calendars: dict[int, Calendar] = field(default_factory=dict)
    brand_calendar: dict[int, int] = field(default_factory=dict)  # brand id → its calendar
    team_calendar: dict[int, int] = field(default_factory=dict)  # team id → its calendar
    _matches: dict = field(default_factory=dict)  # (brand, kind, priority level) → the policy

    def calendar(self, *, brand_id: int | None, team_id: int | None = None, calendar_id: int | None = None):
        for chosen in (calendar_id, self.team_calendar.get(team_id), self.brand_calendar.get(brand_id)):
            if chosen in self.calendars:
                return self.calendars[chosen]
        return ALWAYS_OPEN

    def policy(self, *, brand_id: int, channel_kind: str, priority_level: str) -> SLAPolicy | None:
        key = (brand_id, channel_kind, priority_level)
        if key not in self._matches:
            self._matches[key] = next(
                (
                    policy
                    for policy in self.policies
                    if policy.brand_id in (None, brand_id)
                    and policy.channel_kind in ("", channel_kind)
                    and policy.priority_level in ("", priority_level)
                ),
                None,
            )
        return self._matches[key]

    def policy_calendar(self, policy: SLAPolicy | None, *, brand_id: int, team_id: int | None = None):
        return self.calendar(
            brand_id=brand_id, team_id=team_id, calendar_id=policy.business_hours_id if policy else None
        )


_configs: dict[int, RoutingConfig] = {}
# How long a process uses the policies it loaded before it asks the cache whether they changed: a change
# reaches every worker within this time, and ingestion makes no round trip to Redis a batch
# (bench/routing.py).
VERSION_CHECK_SECONDS = 5.0


def routing_config(organization_id: int) -> RoutingConfig:
    """The organisation's policies and calendars: from this process's memory when it checked them less than
    VERSION_CHECK_SECONDS ago, else one cache read when nothing changed since it loaded them, a few queries
    when something did."""
    config = _configs.get(organization_id)
    now = time.monotonic()
    if config is not None and now - config.checked_at < VERSION_CHECK_SECONDS:
        return config
    version = routing_config_version(organization_id)
    if config is not None and config.version == version:
        config.checked_at = now
        return config
    config = RoutingConfig(version=version, checked_at=now)
    config.policies = sorted(
        SLAPolicy.objects.filter(organization_id=organization_id),
        key=lambda policy: (-policy.specificity, policy.pk),
    )
    holidays: dict[int, list] = {}
    for calendar_id, day in Holiday.objects.filter(organization_id=organization_id).values_list(
        "calendar_id", "date"
    ):
        holidays.setdefault(calendar_id, []).append(day)
    for hours in BusinessHours.objects.filter(organization_id=organization_id).order_by("pk"):
        config.calendars[hours.pk] = Calendar.build(
            timezone=hours.timezone, weekly=hours.weekly, holidays=holidays.get(hours.pk, ())
        )
        if hours.team_id:
            config.team_calendar.setdefault(hours.team_id, hours.pk)
        elif hours.brand_id:
            config.brand_calendar.setdefault(hours.brand_id, hours.pk)
    for team_id, calendar_id in TeamRouting.objects.filter(
        organization_id=organization_id, business_hours__isnull=False
    ).values_list("team_id", "business_hours_id"):
        config.team_calendar[team_id] = calendar_id
    _configs[organization_id] = config
    return config


def within_business_hours(brand, at: datetime | None = None, team=None) -> bool:
    """Whether the brand (or the team, when it has its own hours) is open at `at` (now by default). A brand
    without business hours is always open."""
    config = routing_config(brand.organization_id)
    calendar = config.calendar(brand_id=brand.pk, team_id=getattr(team, "pk", None))
    return calendar.is_open(at or timezone.now())


def sla_policy_for(conversation: Conversation) -> SLAPolicy | None:
    config = routing_config(conversation.organization_id)
    return config.policy(
        brand_id=conversation.brand_id,
        channel_kind=conversation.channel.kind,
        priority_level=conversation.priority_level,
    )


def channel_weights(organization) -> dict[str, float]:
    custom = (organization.settings or {}).get("routing", {}).get("channel_weights", {})
    return {**DEFAULT_CHANNEL_WEIGHTS, **{k: float(v) for k, v in custom.items()}}


def agent_loads(*, organization, user_ids) -> dict[int, float]:
    """Each agent's load: their open (and pending) conversations, weighted by channel kind."""
    weights = channel_weights(organization)
    loads = {user_id: 0.0 for user_id in user_ids}
    rows = (
        Conversation.objects.filter(
            organization=organization, assignee_id__in=list(loads), status__in=Conversation.ACTIVE_STATUSES
        )
        .values("assignee_id", "channel__kind")
        .annotate(n=Count("id"))
    )
    for row in rows:
        loads[row["assignee_id"]] += row["n"] * weights.get(row["channel__kind"], 1.0)
    return loads


def team_for(conversation: Conversation) -> TeamRouting | None:
    """The first team (by position) whose brands, channel kinds and languages take the conversation."""
    routings = (
        TeamRouting.objects.filter(organization_id=conversation.organization_id)
        .filter(Q(brands__isnull=True) | Q(brands=conversation.brand_id))
        .select_related("team")
        .distinct()
        .order_by("position", "id")
    )
    for routing in routings:
        if routing.channel_kinds and conversation.channel.kind not in routing.channel_kinds:
            continue
        if routing.languages and conversation.language and conversation.language not in routing.languages:
            continue
        return routing
    return None


def eligible_agents(*, conversation: Conversation, team) -> QuerySet[AgentProfile]:
    """Online agents of the team who may work on the conversation's brand (their membership's brand limits)
    and have its channel kind and language among their skills; capacity is checked by the caller."""
    from apps.conversations.selectors import conversation_members

    members = conversation_members(conversation=conversation).filter(user__teams=team)
    profiles = AgentProfile.objects.filter(
        membership__in=members.values("pk"), status=Availability.ONLINE
    ).select_related("user")
    kind = conversation.channel.kind
    profiles = profiles.filter(Q(channel_kinds=[]) | Q(channel_kinds__contains=[kind]))
    if conversation.language:
        profiles = profiles.filter(Q(languages=[]) | Q(languages__contains=[conversation.language]))
    return profiles


def agent_profiles(*, organization) -> QuerySet[AgentProfile]:
    return AgentProfile.objects.filter(organization=organization).select_related("user", "membership")


def sla_met_rates(
    *, organization, since: datetime, by: str, brand_ids=None, until: datetime | None = None
) -> list[dict]:
    """SLA met % per `by` (team, agent, channel, brand) over the deadlines met or missed from `since` (to
    `until`), of the brands `brand_ids` (None: every brand)."""
    from .models import SLAOutcome

    column = {
        "team": "team__name",
        "agent": "agent__username",
        "channel": "channel__name",
        "brand": "brand__name",
    }[by]
    outcomes = SLAOutcome.objects.filter(organization=organization, done_at__gte=since)
    if until is not None:
        outcomes = outcomes.filter(done_at__lt=until)
    if brand_ids is not None:
        outcomes = outcomes.filter(brand_id__in=brand_ids)
    rows = (
        outcomes.values(name=F(column))
        .annotate(total=Count("pk"), met=Count("pk", filter=Q(met=True)))
        .order_by("name")
    )
    return [
        {
            "name": row["name"] or "—",
            "total": row["total"],
            "met": row["met"],
            "rate": round(100.0 * row["met"] / row["total"], 1) if row["total"] else None,
        }
        for row in rows
    ]


def membership_profile(membership: Membership) -> AgentProfile | None:
    return AgentProfile.objects.filter(membership=membership).first()
