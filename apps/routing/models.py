"""Who works on what, and by when: agents' availability and capacity, teams' auto-assignment, SLA policies
with business hours and holidays, and each conversation's SLA clock."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models

from apps.connectors.kinds import ChannelKind
from apps.core.models import TenantModel

from .hooks import SLA_TARGETS


def _choices_array(choices=None, max_length=20):
    return ArrayField(models.CharField(max_length=max_length, choices=choices), default=list, blank=True)


class Availability(models.TextChoices):
    ONLINE = "online", "Online"
    AWAY = "away", "Away"
    BUSY = "busy", "Busy"
    OFFLINE = "offline", "Offline"


class AgentProfile(TenantModel):
    """A member's routing settings: whether they take conversations now, how many, and which."""

    membership = models.OneToOneField("accounts.Membership", on_delete=models.CASCADE, related_name="routing")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=Availability.choices, default=Availability.OFFLINE)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    # Set when the browser said the agent went idle: activity brings them back online by itself, unlike an
    # away the agent chose.
    auto_away = models.BooleanField(default=False)
    capacity = models.PositiveIntegerField(
        default=10, help_text="Open conversations at once, each weighted by its channel kind."
    )
    languages = ArrayField(
        models.CharField(max_length=16),
        default=list,
        blank=True,
        help_text="Languages spoken (ISO codes); empty: any.",
    )
    channel_kinds = _choices_array(ChannelKind.choices)  # empty: any
    # When the agent's app last asked for the header's control (each page, and every few minutes while one
    # is open): an agent whose app has been closed for a while is set offline (apps.routing.tasks).
    last_seen_at = models.DateTimeField(null=True, blank=True)
    # Round-robin takes the eligible agent who was given a conversation longest ago.
    last_assigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "status"], name="agent_profile_status")]

    def __str__(self):
        return f"{self.user} ({self.status})"


class TeamRouting(TenantModel):
    """How a team's new conversations find an agent. A new conversation joins the first team (by position)
    whose brands, channel kinds and languages match it."""

    class Strategy(models.TextChoices):
        MANUAL = "manual", "Manual (agents pick)"
        ROUND_ROBIN = "round_robin", "Round-robin"
        LEAST_BUSY = "least_busy", "Least busy"

    team = models.OneToOneField("accounts.Team", on_delete=models.CASCADE, related_name="routing")
    strategy = models.CharField(max_length=12, choices=Strategy.choices, default=Strategy.ROUND_ROBIN)
    position = models.PositiveIntegerField(default=0)
    brands = models.ManyToManyField("accounts.Brand", blank=True, related_name="+")  # empty: any
    channel_kinds = _choices_array(ChannelKind.choices)  # empty: any
    languages = ArrayField(models.CharField(max_length=16), default=list, blank=True)  # empty: any
    business_hours = models.ForeignKey(
        "BusinessHours", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return f"{self.team}: {self.get_strategy_display()}"


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class BusinessHours(TenantModel):
    """Opening hours in a time zone, with holidays: SLA clocks run only inside them. A brand's calendar
    (team empty) serves its policies; a team's serves that team. One of no brand is the organisation's: only
    admins of every brand see and change it (apps.routing.services.setting_reach_check)."""

    TENANT_BRAND_PATH = "brand"

    name = models.CharField(max_length=120)
    brand = models.ForeignKey(
        "accounts.Brand", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    timezone = models.CharField(max_length=64, default="UTC")
    # {"mon": [["09:00", "17:00"]], ...}: intervals of local time per weekday; a missing day is closed.
    weekly = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "business hours"

    def __str__(self):
        return self.name

    def clean(self):
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError({"timezone": f"“{self.timezone}” is not a time zone"}) from None
        from .calendar import weekly_parse

        try:
            weekly_parse(self.weekly)
        except ValueError as error:
            raise ValidationError({"weekly": str(error)}) from None


class Holiday(TenantModel):
    TENANT_BRAND_PATH = "calendar__brand"

    calendar = models.ForeignKey(BusinessHours, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="holiday_once_per_day")]

    def __str__(self):
        return f"{self.date} {self.name}"


PRIORITY_LEVELS = [("urgent", "Urgent"), ("high", "High"), ("normal", "Normal"), ("low", "Low")]


class SLAPolicy(TenantModel):
    """Response and resolution targets for the conversations it matches: a brand (empty: any), a channel
    kind (empty: any) and a priority level (empty: any). The most specific matching policy applies. One of
    no brand is the organisation's: only admins of every brand see and change it."""

    TENANT_BRAND_PATH = "brand"

    name = models.CharField(max_length=120)
    brand = models.ForeignKey(
        "accounts.Brand", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    channel_kind = models.CharField(max_length=20, choices=ChannelKind.choices, blank=True)
    priority_level = models.CharField(max_length=10, choices=PRIORITY_LEVELS, blank=True)
    first_response_minutes = models.PositiveIntegerField(default=240)
    next_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True)
    # Empty: the brand's business hours if it has some, else around the clock.
    business_hours = models.ForeignKey(
        BusinessHours, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    warn_before_minutes = models.PositiveIntegerField(default=30)
    escalate_notify = models.BooleanField(default=True, help_text="On a breach, notify the agent and team.")
    escalate_reassign = models.BooleanField(default=False, help_text="On a breach, give it to another agent.")
    escalate_raise_priority = models.BooleanField(default=False, help_text="On a breach, make it urgent.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"

    def __str__(self):
        return self.name

    @property
    def specificity(self) -> int:
        return (
            (4 if self.brand_id else 0) + (2 if self.channel_kind else 0) + (1 if self.priority_level else 0)
        )


class ConversationSLA(TenantModel):
    """A conversation's SLA clock. The response deadline pending now is Conversation.sla_due_at (written by
    ingestion, so that the inbox sorts by it); this row keeps the rest: the resolution deadline, the pause
    while waiting on the customer, and which deadlines were already warned of or breached."""

    TENANT_BRAND_PATH = "conversation__brand"

    conversation = models.OneToOneField(
        "conversations.Conversation", on_delete=models.CASCADE, primary_key=True, related_name="sla"
    )
    policy = models.ForeignKey(SLAPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    # The response deadline when the clock paused: Conversation.sla_due_at is empty while paused (nothing is
    # due from the brand), and comes back shifted by the open time paused.
    paused_due_at = models.DateTimeField(null=True, blank=True)
    # The response deadline (Conversation.sla_due_at) last warned of / breached, so each is done once.
    response_warned_due = models.DateTimeField(null=True, blank=True)
    response_breached_due = models.DateTimeField(null=True, blank=True)
    resolution_warned = models.BooleanField(default=False)
    resolution_breached = models.BooleanField(default=False)

    def __str__(self):
        return f"SLA of {self.conversation_id}"


class SLAOutcome(TenantModel):
    """One deadline met or missed: what the dashboards' SLA met % counts, by team, agent, channel, brand."""

    TENANT_BRAND_PATH = "brand"

    conversation = models.ForeignKey(
        "conversations.Conversation", on_delete=models.CASCADE, related_name="sla_outcomes"
    )
    brand = models.ForeignKey("accounts.Brand", on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey("connectors.Channel", on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    target = models.CharField(max_length=16, choices=[(t, t.replace("_", " ")) for t in SLA_TARGETS])
    due_at = models.DateTimeField()
    done_at = models.DateTimeField()
    met = models.BooleanField()

    class Meta:
        indexes = [models.Index(fields=["organization", "done_at"], name="sla_outcome_time")]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "target", "due_at"], name="sla_outcome_once")
        ]

    def __str__(self):
        return f"{self.target} {'met' if self.met else 'missed'} on {self.conversation_id}"
