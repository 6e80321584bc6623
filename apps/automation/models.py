"""Automation: rules that act on conversations when something happens, acknowledgements sent on the customer's
channel, and satisfaction surveys after a resolution."""

from django.conf import settings
from django.db import models

from apps.core.models import TenantModel


class Trigger(models.TextChoices):
    MESSAGE_RECEIVED = "message.received", "A message is received"
    MESSAGE_CLASSIFIED = "message.classified", "A message is classified"
    CONVERSATION_CREATED = "conversation.created", "A conversation is created"
    CONVERSATION_CHANGED = "conversation.changed", "A conversation changes (status, assignee, tags, priority)"
    STATUS_CHANGED = "status.changed", "A conversation's status changes"
    SLA_WARNING = "sla.warning", "An SLA target is about to be breached"
    SLA_BREACHED = "sla.breached", "An SLA target is breached"
    NO_REPLY = "no_reply", "The customer waits for a reply for a time"
    CUSTOMER_CHANGED = "customer.changed", "A customer attribute changes"


class Rule(TenantModel):
    """When `trigger` happens to a conversation of the brand (every brand when empty) and every condition
    holds, the actions run in order. Rules run by `position`; a matching rule with `stop_processing` keeps
    the later ones from running for that event. The registry of conditions and actions is apps/automation/
    registry.py; both lists are JSON: `[{"field", "op", "value", "key"}]` and `[{"type", "value"}]`."""

    TENANT_BRAND_PATH = "brand"

    brand = models.ForeignKey(
        "accounts.Brand", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField(max_length=200)
    trigger = models.CharField(max_length=32, choices=Trigger.choices)
    conditions = models.JSONField(default=list, blank=True)
    actions = models.JSONField(default=list)
    position = models.PositiveIntegerField(default=100)
    stop_processing = models.BooleanField(default=False, help_text="A match stops the later rules.")
    # NO_REPLY: how long the customer's last message has waited for the brand.
    wait_minutes = models.PositiveIntegerField(default=60)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "pk"]
        indexes = [models.Index(fields=["organization", "trigger", "active"], name="rule_trigger")]

    def __str__(self):
        return self.name


class RuleRun(TenantModel):
    """A rule that matched a conversation, and what each of its actions did: the rate cap counts these, the
    no-reply sweep looks for them, the rule's page lists them."""

    TENANT_BRAND_PATH = "conversation__brand"

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="runs")
    conversation = models.ForeignKey("conversations.Conversation", on_delete=models.CASCADE, related_name="+")
    event = models.CharField(max_length=32)
    outcomes = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["rule", "conversation", "-created_at"], name="rulerun_recent")]


class AutoReply(TenantModel):
    """An acknowledgement the brand sends on the customer's channel: when a conversation starts, or when a
    message arrives outside business hours; in the customer's language; once per conversation per window."""

    TENANT_BRAND_PATH = "brand"

    class Kind(models.TextChoices):
        FIRST_CONTACT = "first_contact", "First contact"
        OUT_OF_HOURS = "out_of_hours", "Outside business hours"

    brand = models.ForeignKey("accounts.Brand", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # {"en": "Thanks, we got it…", "es": "Gracias…"}: the customer's language, else `default_language`'s.
    texts = models.JSONField(default=dict)
    default_language = models.CharField(max_length=16, default="en")
    window_hours = models.PositiveIntegerField(
        default=24, help_text="At most one per conversation this long."
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["brand__name", "kind"]
        verbose_name_plural = "auto-replies"
        constraints = [models.UniqueConstraint(fields=["brand", "kind"], name="autoreply_once_per_brand")]

    def __str__(self):
        return f"{self.brand}: {self.get_kind_display()}"

    def text_for(self, language: str) -> str:
        base = (language or "").split("-")[0].lower()
        return (
            self.texts.get(base)
            or self.texts.get(self.default_language)
            or next(iter(self.texts.values()), "")
        )


class AutoReplySent(TenantModel):
    """An acknowledgement sent (or refused by the channel's rules, with the reason) in a conversation."""

    TENANT_BRAND_PATH = "conversation__brand"

    auto_reply = models.ForeignKey(AutoReply, on_delete=models.CASCADE, related_name="sent")
    conversation = models.ForeignKey("conversations.Conversation", on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(
        "conversations.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    refused = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["conversation", "auto_reply", "-created_at"], name="autoreply_recent")
        ]


class SurveySettings(TenantModel):
    """A brand's satisfaction survey, sent when a conversation is resolved."""

    TENANT_BRAND_PATH = "brand"

    brand = models.OneToOneField("accounts.Brand", on_delete=models.CASCADE, related_name="+")
    active = models.BooleanField(default=True)
    # {"en": "How did we do?"}: the customer's language, else `default_language`'s.
    questions = models.JSONField(default=dict)
    thanks = models.JSONField(default=dict)
    # Asked on the channel after a rating given with its buttons; empty: the built-in question.
    comment_prompts = models.JSONField(default=dict, blank=True)
    default_language = models.CharField(max_length=16, default="en")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "survey settings"

    def __str__(self):
        return f"Survey of {self.brand}"

    def text(self, texts: dict, language: str) -> str:
        base = (language or "").split("-")[0].lower()
        return texts.get(base) or texts.get(self.default_language) or next(iter(texts.values()), "")


class Survey(TenantModel):
    """One satisfaction survey of a resolved conversation, and its answer: a rating from 1 to 5 given with the
    channel's buttons or on the survey's page (its signed link), and an optional comment."""

    TENANT_BRAND_PATH = "brand"

    class Via(models.TextChoices):
        CHANNEL = "channel", "Channel buttons"
        LINK = "link", "Survey page"

    brand = models.ForeignKey("accounts.Brand", on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey("conversations.Conversation", on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey("connectors.Channel", on_delete=models.CASCADE, related_name="+")
    # Who and which team resolved it: what the dashboards group by.
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    token = models.CharField(max_length=32, unique=True)
    language = models.CharField(max_length=16, blank=True)
    message = models.ForeignKey(
        "conversations.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    refused = models.TextField(blank=True, help_text="Why the channel could not take the survey.")
    sent_at = models.DateTimeField(auto_now_add=True)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)
    # When CXM asked on the channel for an optional comment, after a rating given with its buttons: the
    # customer's next text within the window is the comment (apps.automation.services.survey_comments_record).
    comment_asked_at = models.DateTimeField(null=True, blank=True)
    via = models.CharField(max_length=8, choices=Via.choices, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    RATINGS = ((1, "Very bad"), (2, "Bad"), (3, "OK"), (4, "Good"), (5, "Excellent"))

    class Meta:
        ordering = ["-sent_at"]
        indexes = [
            models.Index(fields=["organization", "brand", "-sent_at"], name="survey_brand_recent"),
            models.Index(fields=["conversation", "-sent_at"], name="survey_conversation"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__isnull=True) | models.Q(rating__gte=1, rating__lte=5),
                name="survey_rating_1_to_5",
            )
        ]

    def __str__(self):
        return f"Survey of conversation #{self.conversation_id}"
