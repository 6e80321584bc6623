from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models

from apps.core.models import TenantModel


class AlertRule(TenantModel):
    """What to watch on one brand (a spike of volume or of negative share, or a fixed threshold), and whom
    to tell when it happens."""

    TENANT_BRAND_PATH = "brand"

    class Kind(models.TextChoices):
        VOLUME_ANOMALY = "volume_anomaly", "Unusual message volume"
        NEGATIVE_SHARE_ANOMALY = "negative_share_anomaly", "Unusual share of negative messages"
        VOLUME_THRESHOLD = "volume_threshold", "Message volume above a threshold"
        NEGATIVE_SHARE_THRESHOLD = "negative_share_threshold", "Negative share above a threshold"
        # A term, phrase or hashtag far above its own usual daily level (apps/analytics/trends.py): the
        # sensitivity is its z-score, the minimum volume its messages today; the window is the UTC day.
        TERM_TREND = "term_trend", "Emerging term, phrase or hashtag"

    ANOMALY_KINDS = (Kind.VOLUME_ANOMALY, Kind.NEGATIVE_SHARE_ANOMALY, Kind.TERM_TREND)
    # What people set, on the rules page and through the API alike.
    EDITABLE_FIELDS = [
        "brand",
        "name",
        "kind",
        "sensitivity",
        "threshold",
        "window_hours",
        "min_volume",
        "cooldown_hours",
        "notify_in_app",
        "notify_members",
        "email_recipients",
        "notify_webhook",
        "active",
    ]
    SHARE_KINDS = (Kind.NEGATIVE_SHARE_ANOMALY, Kind.NEGATIVE_SHARE_THRESHOLD)

    brand = models.ForeignKey("accounts.Brand", on_delete=models.CASCADE, related_name="alert_rules")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    sensitivity = models.FloatField(
        default=4.0, help_text="Anomalies: how many spreads above the usual level (robust z-score) raise."
    )
    threshold = models.FloatField(
        null=True, blank=True, help_text="Thresholds: messages in the window, or percent negative."
    )
    window_hours = models.PositiveSmallIntegerField(default=1, help_text="The latest hours compared.")
    min_volume = models.PositiveIntegerField(
        default=10,
        help_text="Fewer messages in the window never raise (2 messages are not a trend).",
    )
    cooldown_hours = models.PositiveSmallIntegerField(
        default=6, help_text="A spike within this time of the last one is the same alert, updated."
    )
    notify_in_app = models.BooleanField(default=True)
    notify_members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="+",
        help_text="Leave empty for the admins and community managers of the brand.",
    )
    email_recipients = ArrayField(models.EmailField(), default=list, blank=True)
    notify_webhook = models.BooleanField(
        default=False, help_text='Publish "alert.raised" to webhook endpoints.'
    )
    active = models.BooleanField(default=True)
    last_evaluated_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["brand__name", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(window_hours__gte=1, window_hours__lte=24), name="alert_rule_window_hours"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=["volume_anomaly", "negative_share_anomaly", "term_trend"])
                | models.Q(threshold__isnull=False),
                name="alert_rule_threshold_given",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_anomaly(self) -> bool:
        return self.kind in self.ANOMALY_KINDS

    @property
    def is_share(self) -> bool:
        return self.kind in self.SHARE_KINDS

    @property
    def is_trend(self) -> bool:
        return self.kind == self.Kind.TERM_TREND


class Alert(TenantModel):
    """One spike of one rule: raised once, then updated while it lasts (the rule's cool-down)."""

    TENANT_BRAND_PATH = "brand"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Resolved"

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    brand = models.ForeignKey("accounts.Brand", on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=30, choices=AlertRule.Kind.choices)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    observed = models.FloatField(help_text="Messages, or percent negative, in the window.")
    expected = models.FloatField(null=True, blank=True, help_text="The baseline (median of previous weeks).")
    score = models.FloatField(null=True, blank=True, help_text="Robust z-score (anomalies).")
    volume = models.PositiveIntegerField(default=0, help_text="Inbound messages in the window.")
    subject = models.CharField(
        max_length=80, blank=True, help_text="Trends: the emerging term, phrase or hashtag, and its language."
    )
    # The highest figure while the spike lasted, and when it was seen.
    peak_observed = models.FloatField()
    peak_at = models.DateTimeField()
    status = models.CharField(max_length=15, choices=Status.choices, default=Status.OPEN)
    sample_message_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    # The latest evaluation that still saw the spike: the cool-down runs from here.
    last_seen_at = models.DateTimeField()
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="alert_list"),
            models.Index(fields=["rule", "-last_seen_at"], name="alert_rule_latest"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.brand_id} · {self.window_start:%Y-%m-%d %H:%M}"

    @property
    def is_share(self) -> bool:
        return self.kind in AlertRule.SHARE_KINDS

    @property
    def is_trend(self) -> bool:
        return self.kind == AlertRule.Kind.TERM_TREND
