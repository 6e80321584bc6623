from django.db import models
from django.db.models import Q

from apps.core.models import TenantModel


class RawPayload(TenantModel):
    """Exactly what a platform sent or returned, stored before anything else is done with it.

    Nothing is lost, and every payload ends in exactly one outcome: *processed* (it carried messages, now
    stored), *applied* (it carried only updates of stored messages: receipts, edits, deletions,
    reactions), *ignored* (only events CXM does not store, each named with its reason), or *rejected* (it
    cannot be processed as it is; kept with the reason, and can be replayed after a fix).
    """

    TENANT_BRAND_PATH = "channel__brand"

    class Source(models.TextChoices):
        WEBHOOK = "webhook", "Webhook"
        POLL = "poll", "Polling"
        IMPORT = "import", "Bulk import"
        WIDGET = "widget", "Live-chat widget"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        APPLIED = "applied", "Applied to stored messages"
        IGNORED = "ignored", "Ignored"
        REJECTED = "rejected", "Rejected"

    channel = models.ForeignKey("connectors.Channel", on_delete=models.PROTECT, related_name="raw_payloads")
    source = models.CharField(max_length=10, choices=Source.choices)
    external_id = models.CharField(max_length=500, null=True, blank=True)
    # Bytes, not text: a payload with invalid UTF-8 is kept exactly as it came.
    body = models.BinaryField()
    content_type = models.CharField(max_length=200, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    rejection_reason = models.TextField(blank=True)
    # An ignored payload: the platform's name for its event and why CXM does not store it.
    # (Database defaults too: payloads are also inserted by SQL of their own, in services.)
    event_type = models.CharField(max_length=100, blank=True, default="", db_default="")
    ignored_reason = models.TextField(blank=True, default="", db_default="")
    # What processing made of it: {"stored": n, "applied": n, "ignored": [{"event": …, "reason": …}]}.
    outcome = models.JSONField(default=dict, blank=True, db_default=models.Value({}, models.JSONField()))
    attempts = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                condition=Q(external_id__isnull=False),
                name="payload_once_per_channel",
            )
        ]
        indexes = [
            models.Index(fields=["organization", "status", "-received_at"], name="payload_status"),
            # The few payloads still waiting, which the relay looks at every few seconds (relay.py).
            models.Index(fields=["id"], condition=Q(status="received"), name="payload_waiting"),
        ]

    def __str__(self):
        return f"{self.get_source_display()} payload #{self.pk} ({self.status})"


class ImportJob(TenantModel):
    """A bulk import started from the channel page; its counters drive the progress bar."""

    TENANT_BRAND_PATH = "channel__brand"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    channel = models.ForeignKey("connectors.Channel", on_delete=models.CASCADE, related_name="import_jobs")
    filename = models.CharField(max_length=255)
    format = models.CharField(max_length=8, choices=[("csv", "CSV"), ("jsonl", "JSON lines")])
    # The encoding the file is read with: named by the user, or detected when the import was started.
    encoding = models.CharField(max_length=40, blank=True, default="utf-8", db_default="utf-8")
    # The uploaded file, kept in the database so that any worker can read it; emptied once imported.
    source = models.BinaryField(default=bytes)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    total_rows = models.PositiveIntegerField(default=0)
    rows_read = models.PositiveIntegerField(default=0)
    stored = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    errors = models.JSONField(
        default=list, blank=True, help_text="The first rejected rows with their reasons."
    )
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Import of {self.filename} ({self.status})"

    @property
    def percent(self) -> int:
        return 100 if self.status == self.Status.DONE else int(100 * self.rows_read / max(self.total_rows, 1))
