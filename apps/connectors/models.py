import secrets

from django.db import models

from apps.core.fields import EncryptedJSONField
from apps.core.models import TenantModel

from .kinds import ChannelKind


def _webhook_token() -> str:
    return secrets.token_urlsafe(24)


class Channel(TenantModel):
    """One connection of a brand to a platform: an inbox address, a page, a bot, a feed, a search."""

    TENANT_BRAND_PATH = "brand"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        ERROR = "error", "Error"

    brand = models.ForeignKey("accounts.Brand", on_delete=models.CASCADE, related_name="channels")
    kind = models.CharField(max_length=20, choices=ChannelKind.choices)
    name = models.CharField(max_length=200)
    # Tokens, passwords, app secrets: encrypted at rest, never shown again in full.
    credentials = EncryptedJSONField(default=dict, blank=True)
    settings = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    # Where polling resumes (since_id, IMAP UID, ETag...), owned by the connector.
    cursor = models.JSONField(default=dict, blank=True)
    last_fetch_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # Failed polls in a row (0 after a success); from POLL_FAILING_AFTER on, the channel is failing since
    # `failing_since` and its organisation's admins were told (apps.ingestion.polling.channel_poll_failed).
    error_count = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)
    # The channel's one poll chain: not polled before this time (a poll under way, or a back-off after
    # failures); null when only the connector's interval counts.
    next_poll_at = models.DateTimeField(null=True, blank=True)
    # The secret part of this channel's webhook URL (/hooks/<token>/); rotating it revokes the old URL.
    webhook_token = models.CharField(max_length=64, unique=True, default=_webhook_token, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["brand__name", "name"]
        indexes = [models.Index(fields=["organization", "kind"])]

    def __str__(self):
        return f"{self.name} ({self.get_kind_display()})"

    @property
    def health(self) -> str:
        """ok, retrying (a failure or two), failing (failures in a row: admins told), error (refused for
        good: needs a fix), paused."""
        if self.status != self.Status.ACTIVE:
            return str(self.status)
        if self.failing_since is not None:
            return "failing"
        return "retrying" if self.error_count else "ok"
