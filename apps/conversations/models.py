from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.models import TenantModel


class Tag(TenantModel):
    name = models.CharField(max_length=60)
    color = models.CharField(max_length=7, default="#64748b")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="tag_name_per_org")]

    def __str__(self):
        return self.name


class NeedsReply(models.TextChoices):
    """The triage decision (set by apps.classification.triage): must the brand answer this message?"""

    REPLY = "reply", "Reply"
    OPTIONAL = "optional", "Optional"
    NO_REPLY = "no_reply", "No reply needed"


# The columns the inbox filters on besides its orders (apps.conversations.selectors.InboxFilters).
_FILTERED = ["brand", "channel", "assignee", "team", "sentiment", "intent", "language", "needs_reply"]


class Conversation(TenantModel):
    """A thread with one customer on one channel, worked in the inbox."""

    TENANT_BRAND_PATH = "brand"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PENDING = "pending", "Pending"
        SNOOZED = "snoozed", "Snoozed"
        CLOSED = "closed", "Closed"

    brand = models.ForeignKey("accounts.Brand", on_delete=models.CASCADE, related_name="conversations")
    channel = models.ForeignKey("connectors.Channel", on_delete=models.PROTECT, related_name="conversations")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="conversations")
    # The platform's thread key (email Message-ID root, chat id, post id...) used to thread new messages.
    external_thread_id = models.CharField(max_length=500, blank=True)
    subject = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    priority = models.FloatField(default=0.0, help_text="0–100; higher is more urgent.")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="conversations",
    )
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="conversations")
    snoozed_until = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    sla_due_at = models.DateTimeField(null=True, blank=True)
    last_message_at = models.DateTimeField(null=True, blank=True)
    message_count = models.PositiveIntegerField(default=0)
    # The labels of the customer's latest inbound message (sentiment and intent: the latest classified
    # one), copied here so that the inbox filters a million conversations without reading their
    # messages. services.conversations_refresh_labels() keeps them current.
    sentiment = models.CharField(max_length=10, blank=True)
    intent = models.CharField(max_length=40, blank=True)
    language = models.CharField(max_length=16, blank=True)
    # The triage decision (apps.classification.triage): the strongest of the inbound messages the brand has
    # not answered yet ("reply" / "optional" / "no_reply"); empty while they wait for the classifier.
    needs_reply = models.CharField(max_length=10, blank=True, choices=NeedsReply.choices)
    # Counts the changes agents see and act on (status, assignee, tags, merges): every action of the inbox
    # and the API carries the version its agent saw, and a change made since is shown to them, never
    # silently overwritten (services.conversations_check_seen).
    version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    #: What an agent works on: the inbox views show these statuses unless a status filter says otherwise.
    ACTIVE_STATUSES = (Status.OPEN, Status.PENDING)
    #: Priority levels, highest first: (name, lowest priority of the level).
    PRIORITY_LEVELS = (("urgent", 75.0), ("high", 50.0), ("normal", 25.0), ("low", 0.0))

    class Meta:
        ordering = ["-priority", "-last_message_at"]
        indexes = [
            models.Index(
                fields=["organization", "status", "-priority", "-last_message_at"], name="conv_inbox"
            ),
            models.Index(fields=["organization", "assignee", "status"], name="conv_assignee"),
            models.Index(fields=["channel", "external_thread_id"], name="conv_thread"),
            models.Index(fields=["customer", "-last_message_at"], name="conv_customer"),
            # The inbox's first page in each sort order is a walk of one of these (bench/inbox.py): the
            # active statuses are partial indexes, because `status IN (...)` cannot return rows in
            # another column's order from a multi-column index; one chosen status has its own. The
            # active ones carry the filtered columns, so that a narrow filter is checked in the index
            # instead of in every row it passes. (The migration adds statistics of status × assignee and
            # status × team for the planner.)
            models.Index(
                fields=["organization", "-priority", "-last_message_at", "-id"],
                include=[*_FILTERED, "sla_due_at"],
                condition=Q(status__in=["open", "pending"]),
                name="conv_active_priority",
            ),
            models.Index(
                fields=["organization", "last_message_at", "id"],
                include=[*_FILTERED, "priority", "sla_due_at"],
                condition=Q(status__in=["open", "pending"]),
                name="conv_active_recent",
            ),
            models.Index(
                fields=["organization", "sla_due_at", "id"],
                include=[*_FILTERED, "priority", "last_message_at"],
                condition=Q(status__in=["open", "pending"]),
                name="conv_active_sla",
            ),
            models.Index(
                fields=["organization", "status", "last_message_at", "id"], name="conv_status_recent"
            ),
            models.Index(fields=["organization", "status", "sla_due_at", "id"], name="conv_status_sla"),
        ]

    def __str__(self):
        return self.subject or f"Conversation #{self.pk}"

    @property
    def priority_level(self) -> str:
        return next((name for name, lowest in self.PRIORITY_LEVELS if self.priority >= lowest), "low")


class Message(TenantModel):
    """One inbound message, outbound reply or internal note."""

    TENANT_BRAND_PATH = "conversation__brand"

    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"
        NOTE = "note", "Internal note"

    class Delivery(models.TextChoices):
        RECEIVED = "received", "Received"
        QUEUED = "queued", "Queued"
        SCHEDULED = "scheduled", "Scheduled"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    channel = models.ForeignKey("connectors.Channel", on_delete=models.PROTECT, related_name="messages")
    direction = models.CharField(max_length=10, choices=Direction.choices)
    # The platform's id; unique per channel, which makes ingestion idempotent.
    external_id = models.CharField(max_length=500, null=True, blank=True)
    text = models.TextField(blank=True)
    html = models.TextField(blank=True, help_text="Sanitised HTML, safe to render.")
    language = models.CharField(max_length=16, blank=True)
    author_identity = models.ForeignKey(
        "customers.Identity", null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField(db_index=True)
    delivery_status = models.CharField(max_length=10, choices=Delivery.choices, default=Delivery.RECEIVED)
    delivery_error = models.TextField(blank=True)
    raw_payload = models.ForeignKey(
        "ingestion.RawPayload", null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    # Updates the platform sent later: the latest edit (earlier texts in metadata["edits"]) and a deletion
    # or revoke, which marks the message but keeps it for audit. Reactions are in metadata["reactions"].
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    # Text read in the message's image attachments (apps.ocr), kept apart from what the author wrote: the
    # thread shows it under the image, while listening, the classifier and search read `searchable_text`.
    # Each image's own text, its thumbnail or why it could not be read are in metadata["images"].
    image_text = models.TextField(blank=True, default="")
    # Classification of inbound messages (apps.classification): the labels the inbox filters on, and
    # in `classification` their scores, the models that gave them and the evidence. `classified_at` is
    # null while the message waits for the classifier.
    sentiment = models.CharField(max_length=10, blank=True)
    sentiment_score = models.FloatField(null=True, blank=True)
    intent = models.CharField(max_length=40, blank=True)
    priority = models.FloatField(null=True, blank=True, help_text="0–100, before waiting time.")
    # Must the brand answer it: "reply" / "optional" / "no_reply" (why: classification["needs_reply"]).
    needs_reply = models.CharField(max_length=10, blank=True, choices=NeedsReply.choices)
    classification = models.JSONField(default=dict, blank=True)
    classified_at = models.DateTimeField(null=True, blank=True)
    classification_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sent_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                condition=Q(external_id__isnull=False),
                name="message_once_per_channel",
            )
        ]
        indexes = [
            models.Index(fields=["conversation", "sent_at"], name="msg_thread"),
            models.Index(fields=["organization", "sent_at"], name="msg_org_time"),
            models.Index(
                fields=["created_at"],
                condition=Q(classified_at__isnull=True, direction="inbound"),
                name="msg_awaiting_classifier",
            ),
        ]

    def __str__(self):
        return f"{self.get_direction_display()}: {self.text[:60]}"

    @property
    def searchable_text(self) -> str:
        """What the author wrote and the text in their images: what listening, classification and search
        read (the search index's generated column joins them the same way, apps/search migration 0005)."""
        return f"{self.text}\n{self.image_text}" if self.image_text else self.text


class ThreadAlias(TenantModel):
    """A platform thread that now lives in another conversation (two conversations were merged): new
    messages of that thread join the conversation they were merged into."""

    TENANT_BRAND_PATH = "conversation__brand"

    channel = models.ForeignKey("connectors.Channel", on_delete=models.CASCADE, related_name="+")
    external_thread_id = models.CharField(max_length=500)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="thread_aliases")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_thread_id"], name="thread_alias_once")
        ]
        verbose_name_plural = "thread aliases"

    def __str__(self):
        return f"{self.external_thread_id} → {self.conversation_id}"
