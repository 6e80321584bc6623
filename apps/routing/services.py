"""State changes of routing: availability, auto-assignment, SLA clocks and their escalations, and the
settings (team routing, business hours, SLA policies). Pages, the API, tasks and receivers all call these."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.accounts.models import Membership
from apps.accounts.permissions import brands_within
from apps.accounts.tenancy import brand_visible_to
from apps.conversations.models import Conversation, Message
from apps.conversations.services import _announce, conversation_assign_to, conversations_bulk_set_status
from apps.core.audit import audit_record

from . import hooks
from .hooks import FIRST_RESPONSE, NEXT_RESPONSE, RESOLUTION
from .models import (
    AgentProfile,
    Availability,
    ConversationSLA,
    Holiday,
    SLAOutcome,
    SLAPolicy,
    TeamRouting,
)
from .selectors import (
    agent_loads,
    channel_weights,
    eligible_agents,
    routing_config,
    routing_config_changed,
    team_for,
)

logger = logging.getLogger(__name__)

#: The priority an escalation raises a breached conversation to (the "urgent" level).
ESCALATED_PRIORITY = 75.0
#: A deadline found breached longer ago than this (the first check after an outage, or data imported with
#: old deadlines) is recorded as missed without escalating or notifying anyone.
BREACH_LOOKBACK = timedelta(hours=6)
SLA_CHECK_BATCH = 500
#: The reason given when a new message routes a conversation.
NEW_MESSAGE = "new message"
#: An agent whose app has not been seen this long is set offline (the open app asks every 5 minutes).
GONE_AFTER = timedelta(minutes=15)


def activity_record(*, conversation: Conversation, actor, action: str, explanation: str, **data) -> None:
    """One line of the conversation's activity (the audit log of the conversation, shown on its page):
    `explanation` says in words what happened and why."""
    audit_record(
        organization=conversation.organization,
        actor=actor,
        action=action,
        target=conversation,
        data={"explanation": explanation, **data},
    )


# ------------------------------------------------------------------------------------------ availability


def agent_profile_get(membership: Membership) -> AgentProfile:
    profile, _ = AgentProfile.objects.get_or_create(
        membership=membership,
        defaults={"organization_id": membership.organization_id, "user_id": membership.user_id},
    )
    return profile


def availability_set(*, membership: Membership, status: str, actor, auto: bool = False) -> AgentProfile:
    """Set the agent online, away, busy or offline. `auto`: the browser saw them idle (away) or active again
    (online) — an idle away never overrides one the agent chose. Going offline puts their open
    conversations back in the queue (each auto-assigned again where its team assigns automatically)."""
    if status not in Availability.values:
        raise ValueError(f"“{status}” is not an availability")
    with transaction.atomic():
        profile = AgentProfile.objects.select_for_update().get(pk=agent_profile_get(membership).pk)
        if auto:
            if status == Availability.AWAY and profile.status != Availability.ONLINE:
                return profile  # only an online agent goes idle
            if status == Availability.ONLINE and not (
                profile.status == Availability.AWAY and profile.auto_away
            ):
                return profile  # activity ends an idle away, not one the agent chose
        if profile.status == status:
            return profile
        previous = profile.status
        profile.status = status
        profile.auto_away = auto and status == Availability.AWAY
        profile.status_changed_at = timezone.now()
        profile.save(update_fields=["status", "auto_away", "status_changed_at"])
        audit_record(
            organization=membership.organization,
            actor=actor,
            action="routing.availability",
            target=profile,
            data={"user": membership.user_id, "from": previous, "to": status, "auto": auto},
        )
    if status == Availability.OFFLINE:
        conversations_requeue(user=membership.user, organization_id=membership.organization_id, actor=actor)
    return profile


def agent_seen(membership: Membership) -> AgentProfile:
    """The agent's app is open (it asked for the header's control): one UPDATE."""
    profile = agent_profile_get(membership)
    profile.last_seen_at = timezone.now()
    AgentProfile.objects.filter(pk=profile.pk).update(last_seen_at=profile.last_seen_at)
    return profile


def agents_gone_offline(*, now: datetime | None = None) -> int:
    """Set offline the agents whose app has not been seen for GONE_AFTER (a closed laptop, a crashed
    browser), which puts their conversations back in the queue (beat)."""
    now = now or timezone.now()
    gone = (
        AgentProfile.objects.exclude(status=Availability.OFFLINE)
        .filter(last_seen_at__lt=now - GONE_AFTER)
        .select_related("membership__organization", "membership__user")
    )
    count = 0
    for profile in gone:
        availability_set(membership=profile.membership, status=Availability.OFFLINE, actor=None)
        count += 1
    return count


def agent_profile_update(
    *, profile: AgentProfile, actor, capacity: int | None = None, languages=None, channel_kinds=None
) -> AgentProfile:
    changed = {}
    if capacity is not None:
        changed["capacity"] = capacity
    if languages is not None:
        changed["languages"] = sorted({code.strip().lower() for code in languages if code.strip()})
    if channel_kinds is not None:
        changed["channel_kinds"] = sorted(set(channel_kinds))
    for name, value in changed.items():
        setattr(profile, name, value)
    profile.full_clean(exclude=["membership", "user", "organization"])
    profile.save(update_fields=list(changed) or None)
    audit_record(
        organization=profile.membership.organization,
        actor=actor,
        action="routing.agent_updated",
        target=profile,
        data={"user": profile.user_id, **changed},
    )
    return profile


def conversations_requeue(*, user, organization_id: int, actor) -> int:
    """Put the user's open conversations back in the queue: unassigned, then auto-assigned again to
    someone else where their team assigns automatically. Returns how many went back."""
    conversations = list(
        Conversation.objects.filter(
            organization_id=organization_id, assignee=user, status__in=Conversation.ACTIVE_STATUSES
        ).select_related("channel", "brand", "organization")
    )
    for conversation in conversations:
        with transaction.atomic():
            conversation_assign_to(conversation=conversation, assignee=None, actor=actor)
            activity_record(
                conversation=conversation,
                actor=actor,
                action="routing.requeued",
                explanation=f"Back in the queue: {user.username} went offline.",
                previous=user.pk,
            )
        conversation.assignee = None
        conversation_auto_assign(conversation, actor=actor, reason=f"{user.username} went offline")
    return len(conversations)


# ------------------------------------------------------------------------------------- auto-assignment


def conversation_auto_assign(
    conversation: Conversation, *, actor=None, reason: str = "", exclude_user_ids=()
) -> Membership | None:
    """Give the conversation to an agent by its team's strategy: round-robin (the eligible agent given a
    conversation longest ago) or least busy (the lowest load for their capacity), among the team's online
    agents who may work on its brand, have its channel kind and language among their skills, and have
    capacity left for its channel's weight. Its team is the one it has, else the first whose brands,
    channel kinds and languages take it. Explains the choice, or why nobody got it, in the conversation's
    activity. Returns the agent's membership, or None (left in the queue)."""
    with transaction.atomic():
        conversation = (
            Conversation.objects.select_for_update(of=("self",))
            .select_related("channel", "brand", "organization")
            .get(pk=conversation.pk)
        )
        if conversation.status == Conversation.Status.CLOSED or conversation.assignee_id is not None:
            return None
        routing = (
            TeamRouting.objects.filter(team_id=conversation.team_id).select_related("team").first()
            if conversation.team_id
            else team_for(conversation)
        )
        if routing is None or routing.strategy == TeamRouting.Strategy.MANUAL:
            return None
        # One assignment at a time per team: two conversations arriving together must not both go to the
        # agent who had the last free slot.
        routing = TeamRouting.objects.select_for_update().select_related("team").get(pk=routing.pk)
        team = routing.team
        already_queued = conversation.team_id == team.pk
        if conversation.team_id != team.pk:
            # A change the open pages must see (and a stale action must not overwrite): a new version.
            Conversation.objects.filter(pk=conversation.pk).update(team=team, version=F("version") + 1)
            conversation.team = team
            _announce([conversation])
        weight = channel_weights(conversation.organization).get(conversation.channel.kind, 1.0)
        profiles = [
            p
            for p in eligible_agents(conversation=conversation, team=team)
            if p.user_id not in exclude_user_ids
        ]
        loads = agent_loads(organization=conversation.organization, user_ids=[p.user_id for p in profiles])
        free = [p for p in profiles if loads[p.user_id] + weight <= p.capacity]
        why = f" ({reason})" if reason else ""
        if not free:
            if already_queued and reason == NEW_MESSAGE:
                return None  # another message of a conversation in the queue: its activity said why already
            explanation = f"Waiting in {team.name}'s queue{why}: " + (
                "no agent of the team is online with the skills for it."
                if not profiles
                else "every online agent with the skills for it is at capacity."
            )
            activity_record(
                conversation=conversation,
                actor=actor,
                action="routing.queued",
                explanation=explanation,
                team=team.pk,
            )
            return None
        never = datetime.min.replace(tzinfo=timezone.get_current_timezone())
        if routing.strategy == TeamRouting.Strategy.ROUND_ROBIN:
            chosen = min(free, key=lambda p: (p.last_assigned_at or never, p.user_id))
            how = "round-robin: the available agent who waited longest for a conversation"
        else:
            chosen = min(
                free,
                key=lambda p: (loads[p.user_id] / max(p.capacity, 1), p.last_assigned_at or never, p.user_id),
            )
            how = "least busy: the lowest load for their capacity"
        load = loads[chosen.user_id]
        conversation_assign_to(conversation=conversation, assignee=chosen.user, actor=actor)
        AgentProfile.objects.filter(pk=chosen.pk).update(last_assigned_at=timezone.now())
        activity_record(
            conversation=conversation,
            actor=actor,
            action="routing.assigned",
            explanation=(
                f"Assigned to {chosen.user.username} by {team.name}'s {how}{why}; online, load "
                f"{load:g} + {weight:g} of {chosen.capacity}, among {len(free)} available of "
                f"{len(profiles)} online with the skills."
            ),
            team=team.pk,
            assignee=chosen.user_id,
            strategy=routing.strategy,
            load=load,
            capacity=chosen.capacity,
        )
        return chosen.membership


def conversations_customer_answered(*, conversation_ids) -> int:
    """The customer wrote in conversations that were waiting on them (pending): they are open again, and
    their SLA clocks run again (through the status change)."""
    waiting = list(
        Conversation.objects.filter(pk__in=list(conversation_ids), status=Conversation.Status.PENDING)
        .select_related("organization")
        .order_by("pk")
    )
    for conversation in waiting:
        with transaction.atomic():
            conversations_bulk_set_status(
                conversations=[conversation], status=Conversation.Status.OPEN, actor=None
            )
            activity_record(
                conversation=conversation,
                actor=None,
                action="routing.customer_answered",
                explanation="The customer answered: open again, and its SLA clocks run again.",
            )
    return len(waiting)


def conversations_route_new(*, conversation_ids) -> int:
    """Auto-assign the unassigned ones of these conversations (new messages were stored in them)."""
    assigned = 0
    for conversation in Conversation.objects.filter(
        pk__in=list(conversation_ids), assignee__isnull=True, status__in=Conversation.ACTIVE_STATUSES
    ).order_by("pk"):
        if conversation_auto_assign(conversation, reason=NEW_MESSAGE) is not None:
            assigned += 1
    return assigned


def channel_weights_set(*, organization, weights: dict, actor) -> dict:
    """How much an open conversation of each channel kind weighs in an agent's load (kinds not given: the
    defaults). Raises ValueError for an unknown kind or a weight outside 0.1–10."""
    from apps.connectors.kinds import ChannelKind

    clean = {}
    for kind, weight in weights.items():
        if kind not in ChannelKind.values:
            raise ValueError(f"“{kind}” is not a channel kind")
        try:
            value = float(weight)
        except (TypeError, ValueError):
            raise ValueError(f"{kind}: “{weight}” is not a number") from None
        if not 0.1 <= value <= 10:
            raise ValueError(f"{kind}: a weight is from 0.1 to 10")
        clean[kind] = value
    settings = dict(organization.settings or {})
    settings["routing"] = {**settings.get("routing", {}), "channel_weights": clean}
    organization.settings = settings
    organization.save(update_fields=["settings"])
    audit_record(
        organization=organization,
        actor=actor,
        action="routing.channel_weights",
        target=organization,
        data={"channel_weights": clean},
    )
    return clean


def team_routing_save(
    *,
    team,
    actor,
    strategy: str,
    position: int = 0,
    brands=(),
    channel_kinds=(),
    languages=(),
    business_hours=None,
) -> TeamRouting:
    routing, _ = TeamRouting.objects.get_or_create(
        team=team, defaults={"organization_id": team.organization_id}
    )
    routing.strategy = strategy
    routing.position = position
    routing.channel_kinds = sorted(set(channel_kinds))
    routing.languages = sorted({code.strip().lower() for code in languages if code.strip()})
    routing.business_hours = business_hours
    routing.full_clean(exclude=["team", "organization"])
    routing.save()
    routing.brands.set(brands)
    routing_config_changed(team.organization_id)
    audit_record(
        organization=team.organization,
        actor=actor,
        action="routing.team_updated",
        target=routing,
        data={
            "team": team.pk,
            "strategy": strategy,
            "brands": [b.pk for b in brands],
            "channel_kinds": routing.channel_kinds,
            "languages": routing.languages,
        },
    )
    return routing


# ------------------------------------------------------------------------------- SLA policies, calendars


class SettingOutOfReach(ValidationError):
    """A brand-limited admin asked to change a setting of a brand they do not work on, or one of the whole
    organisation."""


def setting_reach_check(membership, brand_id: int | None) -> None:
    """Who changes a routing or automation setting, for the pages and the API alike: a setting of one brand,
    an admin who works on that brand; an organisation-wide one (no brand: the organisation's SLA policies and
    calendars, team routing, channel weights, rules of every brand), an admin of every brand. What a
    brand-limited admin may see follows the same rule (the models' TENANT_BRAND_PATH: a row of no brand is
    not theirs); this check keeps them from creating one outside their brands or moving one there.
    `membership` None is CXM itself (demo data, tasks)."""
    if membership is None or brand_visible_to(membership, brand_id):
        return
    if brand_id is None:
        raise SettingOutOfReach(
            "Settings of the whole organisation are changed by an admin of every brand: choose one of your "
            "brands."
        )
    raise SettingOutOfReach("You do not work on that brand.")


def agent_reach_check(membership, profile: AgentProfile) -> None:
    """An agent's routing is changed by an admin who works on every brand the agent does (the rule of their
    membership's changes, apps.accounts.services)."""
    if membership is not None and not brands_within(profile.membership.brand_ids, membership):
        raise SettingOutOfReach(f"{profile.user} works on brands you do not: ask an admin of every brand.")


def _setting_brand_ids(instance) -> list[int | None]:
    """The brands a routing setting belongs to: its own (a holiday, its calendar's), and the calendar an SLA
    policy counts in."""
    if isinstance(instance, Holiday):
        return [instance.calendar.brand_id]
    brand_ids = [instance.brand_id]
    if isinstance(instance, SLAPolicy) and instance.business_hours_id:
        brand_ids.append(instance.business_hours.brand_id)
    return brand_ids


def routing_setting_save(*, instance, actor, membership=None):
    """Save an SLA policy, business hours or a holiday (checked first: its values, and that `membership`,
    the admin saving it, may: setting_reach_check); every process reloads them."""
    for brand_id in _setting_brand_ids(instance):
        setting_reach_check(membership, brand_id)
    created = instance.pk is None
    instance.full_clean()
    instance.save()
    routing_config_changed(instance.organization_id)
    kind = instance._meta.model_name
    audit_record(
        organization=instance.organization,
        actor=actor,
        action=f"routing.{kind}_{'created' if created else 'updated'}",
        target=instance,
        data={"name": str(instance)},
    )
    return instance


def routing_setting_delete(*, instance, actor, membership=None) -> None:
    setting_reach_check(membership, _setting_brand_ids(instance)[0])
    routing_config_changed(instance.organization_id)
    audit_record(
        organization=instance.organization,
        actor=actor,
        action=f"routing.{instance._meta.model_name}_deleted",
        target=instance,
        data={"name": str(instance)},
    )
    instance.delete()


# ----------------------------------------------------------------------------------------- SLA clocks


def sla_deadlines_fill(messages: list[Message]) -> None:
    """Before ingestion writes a batch (ingestion.before_insert): each inbound message's response deadline
    from its conversation's SLA policy and business hours, as `message.sla_due_at` (ingestion writes the
    earliest into Conversation.sla_due_at with the counters). One cache read per organisation and batch."""
    configs = {}
    for message in messages:
        if message.direction != Message.Direction.INBOUND:
            continue
        conversation = message.conversation
        config = configs.get(message.organization_id) or configs.setdefault(
            message.organization_id, routing_config(message.organization_id)
        )
        policy = config.policy(
            brand_id=conversation.brand_id,
            channel_kind=message.channel.kind,
            priority_level=conversation.priority_level,
        )
        if policy is None:
            continue  # ingestion's default targets
        minutes = policy.first_response_minutes
        if conversation.first_response_at is not None and policy.next_response_minutes:
            minutes = policy.next_response_minutes
        calendar = config.policy_calendar(
            policy, brand_id=conversation.brand_id, team_id=conversation.team_id
        )
        message.sla_due_at = calendar.add(message.sent_at, minutes)


def sla_priority_changed(*, conversation_ids) -> int:
    """The classifier set the conversations' priority: the SLA policy of their new priority level applies
    (sla_policy_reapply); each conversation whose deadline moved gets a new version and the open pages hear
    of it. Returns how many moved."""
    changed = []
    conversations = Conversation.objects.filter(
        pk__in=list(conversation_ids), status__in=Conversation.ACTIVE_STATUSES
    ).select_related("channel", "organization")
    for conversation in conversations:
        with transaction.atomic():
            if sla_policy_reapply(conversation):
                Conversation.objects.filter(pk=conversation.pk).update(version=F("version") + 1)
                changed.append(conversation)
    if changed:
        _announce(changed)
    return len(changed)


def sla_priority_set(*, conversation: Conversation, previous: float, **_) -> None:
    """A priority set by hand, a macro or a rule (inside its transaction, under its new version): the
    policy of the new level applies."""
    if previous != conversation.priority:
        sla_policy_reapply(conversation)


def sla_policy_reapply(conversation: Conversation) -> bool:
    """The conversation's priority level changed: where another SLA policy now applies, a shorter response
    target brings the running response deadline forward (never back: the customer was told nothing else),
    and the resolution deadline is recomputed with the new policy's target (keeping the open time its
    clock was paused). Explained in the activity. True when a deadline of the conversation moved."""
    row = ConversationSLA.objects.filter(conversation_id=conversation.pk).select_related("policy").first()
    config = routing_config(conversation.organization_id)
    current = Conversation.objects.select_related("channel").get(pk=conversation.pk)
    policy = config.policy(
        brand_id=current.brand_id, channel_kind=current.channel.kind, priority_level=current.priority_level
    )
    if policy is None or (row is not None and row.policy_id == policy.pk):
        return False
    calendar = config.policy_calendar(policy, brand_id=current.brand_id, team_id=current.team_id)
    said = []
    due = _response_due_for(current, policy, calendar)
    moved = due is not None and current.sla_due_at is not None and due < current.sla_due_at
    if moved:
        Conversation.objects.filter(pk=current.pk).update(sla_due_at=due)
        said.append(f"the response is now due at {due:%Y-%m-%d %H:%M} UTC")
    if row is not None:
        resolution_due = row.resolution_due_at
        if not row.resolution_breached and current.status != Conversation.Status.CLOSED:
            resolution_due = _resolution_due_for(current, row, policy, calendar, config)
            if resolution_due != row.resolution_due_at:
                said.append(
                    f"resolution due at {resolution_due:%Y-%m-%d %H:%M} UTC"
                    if resolution_due
                    else "no resolution target"
                )
        ConversationSLA.objects.filter(pk=row.pk).update(
            policy=policy, resolution_due_at=resolution_due, resolution_warned=False
        )
    if said:
        activity_record(
            conversation=current,
            actor=None,
            action="routing.sla_policy",
            explanation=f"Priority {current.priority_level}: “{policy.name}” applies; {', '.join(said)}.",
            policy=policy.pk,
        )
    return moved or len(said) > 0


def _response_due_for(conversation: Conversation, policy, calendar) -> datetime | None:
    """The response deadline under `policy`: from the customer's first message since the brand last
    answered."""
    last_answer = (
        conversation.messages.filter(direction=Message.Direction.OUTBOUND).order_by("-sent_at").first()
    )
    waiting = conversation.messages.filter(direction=Message.Direction.INBOUND)
    if last_answer is not None:
        waiting = waiting.filter(sent_at__gt=last_answer.sent_at)
    first_waiting = waiting.order_by("sent_at").first()
    if first_waiting is None:
        return None
    minutes = policy.first_response_minutes
    if last_answer is not None and policy.next_response_minutes:
        minutes = policy.next_response_minutes
    return calendar.add(first_waiting.sent_at, minutes)


def _resolution_due_for(conversation: Conversation, row: ConversationSLA, policy, calendar, config):
    """The resolution deadline under `policy`, from the customer's first message, plus the open time the
    clock was paused so far (the old deadline's distance past its own target)."""
    if not policy.resolution_minutes:
        return None
    first = conversation.messages.filter(direction=Message.Direction.INBOUND).order_by("sent_at").first()
    started = first.sent_at if first else conversation.created_at
    paused_minutes = 0.0
    old = row.policy
    if old is not None and old.resolution_minutes and row.resolution_due_at:
        old_calendar = config.policy_calendar(
            old, brand_id=conversation.brand_id, team_id=conversation.team_id
        )
        unpaused = old_calendar.add(started, old.resolution_minutes)
        if row.resolution_due_at > unpaused:
            paused_minutes = old_calendar.between(unpaused, row.resolution_due_at).total_seconds() / 60
    return calendar.add(started, policy.resolution_minutes + paused_minutes)


def sla_row_ensure(conversation: Conversation, config=None) -> ConversationSLA:
    """The conversation's SLA row, made with its resolution deadline the first time."""
    row = ConversationSLA.objects.filter(conversation=conversation).first()
    if row is not None:
        return row
    config = config or routing_config(conversation.organization_id)
    policy = config.policy(
        brand_id=conversation.brand_id,
        channel_kind=conversation.channel.kind,
        priority_level=conversation.priority_level,
    )
    resolution_due = None
    if policy is not None and policy.resolution_minutes:
        calendar = config.policy_calendar(
            policy, brand_id=conversation.brand_id, team_id=conversation.team_id
        )
        # The clock starts with the customer's first message, not with when CXM stored it (a poll, an import).
        first = conversation.messages.filter(direction=Message.Direction.INBOUND).order_by("sent_at").first()
        started = first.sent_at if first else conversation.created_at
        resolution_due = calendar.add(started, policy.resolution_minutes)
    row, _ = ConversationSLA.objects.get_or_create(
        conversation=conversation,
        defaults={
            "organization_id": conversation.organization_id,
            "policy": policy,
            "resolution_due_at": resolution_due,
        },
    )
    return row


def sla_response_sent(message: Message) -> None:
    """A brand's reply: the pending response deadline (first or next) is met or missed, and the clock stops
    until the customer writes again."""
    with transaction.atomic():
        conversation = (
            Conversation.objects.select_for_update(of=("self",))
            .select_related("channel")
            .get(pk=message.conversation_id)
        )
        due = conversation.sla_due_at
        if due is None:
            return
        first = not SLAOutcome.objects.filter(conversation=conversation, target=FIRST_RESPONSE).exists()
        _outcome(conversation, FIRST_RESPONSE if first else NEXT_RESPONSE, due, message.sent_at)
        Conversation.objects.filter(pk=conversation.pk).update(sla_due_at=None)


def _outcome(conversation: Conversation, target: str, due: datetime, done: datetime, met: bool | None = None):
    SLAOutcome.objects.bulk_create(
        [
            SLAOutcome(
                organization_id=conversation.organization_id,
                conversation=conversation,
                brand_id=conversation.brand_id,
                channel_id=conversation.channel_id,
                team_id=conversation.team_id,
                agent_id=conversation.assignee_id,
                target=target,
                due_at=due,
                done_at=done,
                met=done <= due if met is None else met,
            )
        ],
        ignore_conflicts=True,  # a breach recorded it as missed already
    )


def sla_conversations_changed(conversations) -> None:
    """Status changes: the clocks pause while the conversation waits on the customer (pending) and go on,
    shifted by the open time paused, when it is open again; a resolution meets or misses its deadline."""
    now = timezone.now()
    for conversation in conversations:
        row = ConversationSLA.objects.filter(conversation_id=conversation.pk).first()
        if row is None:
            continue
        current = Conversation.objects.filter(pk=conversation.pk).select_related("channel").first()
        if current is None:
            continue
        if current.status == Conversation.Status.PENDING and row.paused_at is None:
            ConversationSLA.objects.filter(pk=row.pk).update(paused_at=now, paused_due_at=current.sla_due_at)
            Conversation.objects.filter(pk=current.pk).update(sla_due_at=None)
        elif current.status != Conversation.Status.PENDING and row.paused_at is not None:
            sla_resume(conversation=current, row=row, now=now)
        if (
            current.status == Conversation.Status.CLOSED
            and row.resolution_due_at
            and not row.resolution_breached
        ):
            _outcome(current, RESOLUTION, row.resolution_due_at, current.resolved_at or now)


def sla_resume(*, conversation: Conversation, row: ConversationSLA, now: datetime) -> None:
    """The clock goes on after a pause: every pending deadline moves by the open time the pause lasted."""
    config = routing_config(conversation.organization_id)
    policy = row.policy
    calendar = config.policy_calendar(policy, brand_id=conversation.brand_id, team_id=conversation.team_id)
    paused = calendar.between(row.paused_at, now)
    minutes = paused.total_seconds() / 60

    def shifted(due):
        if due is None:
            return None
        left = calendar.between(row.paused_at, due).total_seconds() / 60
        return calendar.add(now, left) if due > row.paused_at else due

    # A deadline set during the pause (the customer wrote: a new response target) stands as it is.
    due = min(
        (d for d in (shifted(row.paused_due_at), conversation.sla_due_at) if d is not None), default=None
    )
    with transaction.atomic():
        Conversation.objects.filter(pk=conversation.pk).update(sla_due_at=due)
        ConversationSLA.objects.filter(pk=row.pk).update(
            paused_at=None, paused_due_at=None, resolution_due_at=shifted(row.resolution_due_at)
        )
    logger.info("SLA clock of conversation %s resumed after %.0f open minutes", conversation.pk, minutes)


def sla_check(*, now: datetime | None = None) -> dict:
    """Warn of deadlines near and escalate those passed (beat). Each deadline is warned of and breached
    once; hooks go out after commit. Pending conversations' clocks are paused, so they are left alone."""
    from apps.notifications.models import Notification

    now = now or timezone.now()
    sent: list[tuple] = []
    counts = {"warned": 0, "breached": 0}
    configs: dict[int, object] = {}
    with transaction.atomic():
        # Response deadlines (Conversation.sla_due_at); a warning window is at most a day.
        candidates = (
            Conversation.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("channel", "organization", "brand", "assignee")
            .filter(
                status=Conversation.Status.OPEN,
                sla_due_at__isnull=False,
                sla_due_at__lte=now + timedelta(days=1),
                sla_due_at__gte=now - BREACH_LOOKBACK,
            )
            .order_by("sla_due_at", "pk")[:SLA_CHECK_BATCH]
        )
        for conversation in candidates:
            config = configs.setdefault(
                conversation.organization_id, routing_config(conversation.organization_id)
            )
            row = sla_row_ensure(conversation, config)
            policy = row.policy
            warn = timedelta(minutes=policy.warn_before_minutes if policy else 30)
            due = conversation.sla_due_at
            target = NEXT_RESPONSE if conversation.first_response_at else FIRST_RESPONSE
            if due <= now and row.response_breached_due != due:
                ConversationSLA.objects.filter(pk=row.pk).update(
                    response_breached_due=due, response_warned_due=due
                )
                _outcome(conversation, target, due, now, met=False)
                _escalate(conversation, policy, target, due, Notification)
                sent.append((hooks.sla_breached, conversation, target))
                counts["breached"] += 1
            elif now < due <= now + warn and row.response_warned_due != due:
                ConversationSLA.objects.filter(pk=row.pk).update(response_warned_due=due)
                _warn(conversation, target, due, Notification)
                sent.append((hooks.sla_warning, conversation, target))
                counts["warned"] += 1
        # Resolution deadlines.
        rows = (
            ConversationSLA.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related(
                "conversation__channel",
                "conversation__organization",
                "conversation__brand",
                "conversation__assignee",
                "policy",
            )
            .filter(
                conversation__status=Conversation.Status.OPEN,
                paused_at__isnull=True,
                resolution_due_at__isnull=False,
                resolution_breached=False,
                resolution_due_at__lte=now + timedelta(days=1),
            )
            .order_by("resolution_due_at")[:SLA_CHECK_BATCH]
        )
        for row in rows:
            conversation, policy, due = row.conversation, row.policy, row.resolution_due_at
            warn = timedelta(minutes=policy.warn_before_minutes if policy else 30)
            if due <= now:
                ConversationSLA.objects.filter(pk=row.pk).update(
                    resolution_breached=True, resolution_warned=True
                )
                _outcome(conversation, RESOLUTION, due, now, met=False)
                if due >= now - BREACH_LOOKBACK:
                    _escalate(conversation, policy, RESOLUTION, due, Notification)
                    sent.append((hooks.sla_breached, conversation, RESOLUTION))
                    counts["breached"] += 1
            elif due <= now + warn and not row.resolution_warned:
                ConversationSLA.objects.filter(pk=row.pk).update(resolution_warned=True)
                _warn(conversation, RESOLUTION, due, Notification)
                sent.append((hooks.sla_warning, conversation, RESOLUTION))
                counts["warned"] += 1
        transaction.on_commit(lambda: [hook.send(c, t) for hook, c, t in sent])
    return counts


def _label(target: str) -> str:
    return target.replace("_", " ")


def _team_and_assignee(conversation: Conversation) -> list:
    """Who hears of a deadline: its assignee; unassigned, its team's members; in no team, the admins who
    work on its brand (someone must: nobody would pick it otherwise). Only members who may work on it."""
    from apps.accounts.models import Role
    from apps.conversations.selectors import conversation_members

    if conversation.assignee:
        return [conversation.assignee]
    members = conversation_members(conversation=conversation)
    if conversation.team_id:
        members = members.filter(user__teams=conversation.team_id)
    else:
        members = members.filter(role=Role.ADMIN)
    return [membership.user for membership in members.select_related("user").distinct()]


def _notify(conversation: Conversation, kind: str, *, target: str, due, breached: bool) -> None:
    """The one way an SLA deadline is told: the notifications app (each recipient's list and bell, live on
    their open pages: the only delivery it has), and the organisation's webhook endpoints subscribed to
    the SLA events (the path admins set up to reach their own paging, chat or email tools)."""
    from apps.notifications.services import notifications_send
    from apps.webhooks.events import conversation_sla

    recipients = _team_and_assignee(conversation)
    notifications_send(recipients=recipients, kind=kind, conversation=conversation, actor=None)
    conversation_sla(conversation, target=target, due=due, breached=breached, recipients=recipients)


def _warn(conversation, target, due, Notification) -> None:
    _notify(conversation, Notification.Kind.SLA_WARNING, target=target, due=due, breached=False)
    activity_record(
        conversation=conversation,
        actor=None,
        action="routing.sla_warning",
        explanation=f"The {_label(target)} is due at {due:%Y-%m-%d %H:%M} UTC.",
        target=target,
        due=due.isoformat(),
    )


def _escalate(conversation: Conversation, policy, target: str, due, Notification) -> None:
    """A deadline passed: the policy's escalations, each in the conversation's activity."""
    done = []
    if policy is None or policy.escalate_notify:
        _notify(conversation, Notification.Kind.SLA_BREACHED, target=target, due=due, breached=True)
        done.append("notified the agent or team")
    if policy is not None and policy.escalate_raise_priority and conversation.priority < ESCALATED_PRIORITY:
        Conversation.objects.filter(pk=conversation.pk).update(
            priority=ESCALATED_PRIORITY, version=F("version") + 1
        )
        conversation.priority = ESCALATED_PRIORITY
        sla_policy_reapply(conversation)
        done.append("raised the priority to urgent")
    if policy is not None and policy.escalate_reassign and conversation.assignee_id:
        previous = conversation.assignee
        conversation_assign_to(conversation=conversation, assignee=None, actor=None)
        conversation.assignee = None
        transaction.on_commit(
            lambda: conversation_auto_assign(
                conversation, reason=f"the {_label(target)} was missed", exclude_user_ids=(previous.pk,)
            )
        )
        done.append(f"took it from {previous.username} to reassign it")
    activity_record(
        conversation=conversation,
        actor=None,
        action="routing.sla_breached",
        explanation=f"The {_label(target)} deadline passed; " + (", ".join(done) or "no escalation") + ".",
        target=target,
    )
    _announce([conversation])
