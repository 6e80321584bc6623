from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from apps.conversations.labels import Sentiment  # noqa: F401 (its home is the domain's vocabulary)
from apps.conversations.models import NeedsReply  # noqa: F401 (the triage's labels: the domain's column)
from apps.core.models import TenantModel

#: The intent labels an organisation starts with; each organisation may set its own.
DEFAULT_INTENT_LABELS = [
    "complaint",
    "question",
    "praise",
    "purchase_intent",
    "feature_request",
    "churn_risk",
    "spam",
    "other",
]


class Task(models.TextChoices):
    SENTIMENT = "sentiment", "Sentiment"
    INTENT = "intent", "Intent"
    RELEVANCE = "relevance", "Relevance"
    # Whether the brand must answer (apps.classification.triage); it is also a Message field of that name.
    NEEDS_REPLY = "needs_reply", "Needs reply"


RELEVANCE_LABELS = ["relevant", "irrelevant"]


class ClassificationSettings(TenantModel):
    """An organisation's label set and learning schedule (made on first use, with the defaults)."""

    intent_labels = ArrayField(models.CharField(max_length=40), default=list)
    min_examples_to_train = models.PositiveIntegerField(
        default=5, help_text="Corrections a brand needs before its own model is trained."
    )
    retrain_automatically = models.BooleanField(
        default=True, help_text="Retrain on the nightly schedule when there are new corrections."
    )

    class Meta:
        verbose_name_plural = "classification settings"
        constraints = [models.UniqueConstraint(fields=["organization"], name="classification_settings_once")]

    def __str__(self):
        return f"Classification settings of {self.organization}"


class TrainingExample(TenantModel):
    """A labelled text a brand's model learns from: an agent's correction, or an imported example."""

    TENANT_BRAND_PATH = "brand"

    class Source(models.TextChoices):
        CORRECTION = "correction", "Agent correction"
        IMPORTED = "imported", "Imported"
        # What the brand's agents did: a conversation answered, or closed (or marked spam) without a reply.
        BEHAVIOUR = "behaviour", "Agents' behaviour"

    brand = models.ForeignKey(
        "accounts.Brand", null=True, blank=True, on_delete=models.CASCADE, related_name="training_examples"
    )
    task = models.CharField(max_length=16, choices=Task.choices)
    text = models.TextField()
    label = models.CharField(max_length=40)
    language = models.CharField(max_length=16, blank=True)
    message = models.ForeignKey(
        "conversations.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # For per-brand sentiment and relevance: which brand the label is about (None: the message as a whole).
    about_brand = models.ForeignKey(
        "accounts.Brand", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.CORRECTION)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Correcting the same label again replaces the earlier correction.
            models.UniqueConstraint(
                fields=["message", "task", "about_brand"],
                condition=Q(message__isnull=False),
                nulls_distinct=False,
                name="one_correction_per_label",
            )
        ]
        indexes = [
            models.Index(fields=["organization", "brand", "task", "-created_at"], name="example_scope")
        ]

    def __str__(self):
        return f"{self.task}={self.label}: {self.text[:50]}"


class ClassifierVersion(TenantModel):
    """One trained model of an organisation (or one of its brands) for one task, kept for rollback."""

    TENANT_BRAND_PATH = "brand"

    class Status(models.TextChoices):
        TRAINING = "training", "Training"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    brand = models.ForeignKey(
        "accounts.Brand", null=True, blank=True, on_delete=models.CASCADE, related_name="classifier_versions"
    )
    task = models.CharField(max_length=16, choices=Task.choices)
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.TRAINING)
    is_active = models.BooleanField(default=False)
    feature_spec = models.CharField(max_length=300, blank=True)
    labels = ArrayField(models.CharField(max_length=40), default=list)
    # The trained head (apps.classification.heads.Head.to_bytes); empty until training finishes.
    artifact = models.BinaryField(blank=True, default=b"")
    examples_count = models.PositiveIntegerField(default=0)
    # Evaluation on held-out examples, next to the model it replaces: accuracy, macro-F1, per label.
    metrics = models.JSONField(default=dict, blank=True)
    progress = models.PositiveSmallIntegerField(default=0, help_text="0–100 while training.")
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "brand", "task", "version"],
                nulls_distinct=False,
                name="classifier_version_once",
            ),
            models.UniqueConstraint(
                fields=["organization", "brand", "task"],
                condition=Q(is_active=True),
                nulls_distinct=False,
                name="one_active_classifier",
            ),
        ]

    def __str__(self):
        scope = self.brand.name if self.brand_id else "organisation"
        return f"{self.get_task_display()} v{self.version} ({scope})"
