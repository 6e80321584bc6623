from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.models import TenantModel


class Notification(TenantModel):
    """Something one agent should look at: a mention in an internal note, a conversation assigned to them."""

    # A member limited to some brands sees only the notifications of their brands' conversations and
    # channels.
    TENANT_BRAND_PATH = "brand"

    class Kind(models.TextChoices):
        MENTION = "mention", "Mentioned you in a note"
        ASSIGNED = "assigned", "Assigned you a conversation"
        ALERT = "alert", "Raised an alert on"
        CHANNEL_FAILING = "channel_failing", "Reports a channel failing"
        CHANNEL_RECOVERED = "channel_recovered", "Reports a channel working again"
        UNSNOOZED = "unsnoozed", "Brought back from snooze"
        SLA_WARNING = "sla_warning", "Has an SLA deadline near on"
        SLA_BREACHED = "sla_breached", "Missed an SLA deadline on"
        AUTOMATION = "automation", "An automation rule asks you to look at"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    brand = models.ForeignKey("accounts.Brand", on_delete=models.CASCADE, related_name="+")
    # What it is about: a conversation, or a channel (its health).
    conversation = models.ForeignKey(
        "conversations.Conversation",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    channel = models.ForeignKey(
        "connectors.Channel", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    message = models.ForeignKey(
        "conversations.Message", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # Where the notification leads when that is not the conversation: an alert's page (apps.alerts), whose
    # conversation and message are the alert's top sample, so that brand scoping holds for alerts too.
    link = models.CharField(max_length=300, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "organization", "-created_at"], name="notification_list"),
            # The header's unread count on every page.
            models.Index(
                fields=["recipient", "organization"],
                condition=Q(read_at__isnull=True),
                name="notification_unread",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} → {self.recipient_id}"
