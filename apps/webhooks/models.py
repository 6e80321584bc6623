import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from apps.core.fields import EncryptedJSONField
from apps.core.models import TenantModel


class Event(models.TextChoices):
    """What an endpoint can subscribe to (the payload of each: apps/webhooks/events.py)."""

    ALERT_RAISED = "alert.raised", "An alert was raised"
    MESSAGE_CREATED = "message.created", "Messages arrived"
    CONVERSATION_CREATED = "conversation.created", "A conversation started"
    CONVERSATION_STATUS_CHANGED = "conversation.status_changed", "A conversation changed status"
    REPLY_SENT = "reply.sent", "A reply went out"
    NOTE_CREATED = "note.created", "An internal note was written"
    SLA_WARNING = "conversation.sla_warning", "An SLA deadline is near"
    SLA_BREACHED = "conversation.sla_breached", "An SLA deadline was missed"
    # Sent by the "Send a test event" button only; every endpoint receives it.
    PING = "ping", "Test event"


class WebhookEndpoint(TenantModel):
    """A URL of the organisation's own systems that receives the events it subscribed to, signed."""

    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    # {"secret": "whsec_…"}: encrypted at rest like channel credentials, shown in full once, at creation.
    credentials = EncryptedJSONField(default=dict, blank=True)
    events = ArrayField(models.CharField(max_length=60, choices=Event.choices), default=list)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["url", "id"]

    def __str__(self):
        return self.description or self.url

    @property
    def secret(self) -> str:
        return self.credentials.get("secret", "")


class WebhookDelivery(TenantModel):
    """One event sent (or to be sent) to one endpoint: the delivery log, with its attempts' outcome."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    # The event id receivers see (X-CXM-Event-Id, and "id" in the body): theirs to deduplicate retries.
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event = models.CharField(max_length=60)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True, help_text="The first characters of the last response.")
    error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    redelivery_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="redeliveries"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_log"),
            # The beat's sweep of deliveries whose retry is due (a lost task, a restarted broker).
            models.Index(
                fields=["next_attempt_at"], condition=Q(status="pending"), name="webhook_delivery_due"
            ),
        ]

    def __str__(self):
        return f"{self.event} → {self.endpoint_id} ({self.status})"
