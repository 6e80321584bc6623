from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper

from apps.core.models import TenantModel

from .kinds import ChannelKind


class Customer(TenantModel):
    """The 360° profile: one person, whatever channels they use."""

    display_name = models.CharField(max_length=200, blank=True)
    # Custom CRM attributes (plan, city, lifetime value...), as the organisation defines them.
    attributes = models.JSONField(default=dict, blank=True)
    lifetime_value = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from"
    )
    erased_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "display_name"])]

    def __str__(self):
        return self.display_name or f"Customer #{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.merged_into_id is None and self.erased_at is None


class IdentityKind(models.TextChoices):
    """Where an identity lives: any channel kind, plus the brand's own website login and the CRM."""

    WEBSITE = "website", "Brand website login"
    CRM = "crm", "CRM record"
    PHONE = "phone", "Phone"


IDENTITY_KIND_CHOICES = ChannelKind.choices + IdentityKind.choices


class Identity(TenantModel):
    """One account of a customer on one channel. Identity resolution links identities to customers."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(max_length=20, choices=IDENTITY_KIND_CHOICES)
    external_id = models.CharField(max_length=255, help_text="The platform's stable id for this account.")
    handle = models.CharField(max_length=255, blank=True)
    display_name = models.CharField(max_length=255, blank=True)
    profile_url = models.URLField(max_length=500, blank=True)
    avatar_url = models.URLField(max_length=500, blank=True)
    followers = models.PositiveIntegerField(default=0, help_text="Reach of the account: its influence.")
    verified = models.BooleanField(default=False, help_text="The platform verified this account.")
    # Contact points carried by the identity; only verified ones are strong evidence for merging.
    email = models.EmailField(blank=True)
    email_verified = models.BooleanField(default=False)
    phone = models.CharField(max_length=32, blank=True, help_text="E.164")
    phone_verified = models.BooleanField(default=False)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "identities"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "external_id"], name="identity_unique_per_org"
            )
        ]
        indexes = [
            models.Index(
                fields=["organization", "email"], condition=Q(email_verified=True), name="identity_vemail"
            ),
            models.Index(
                fields=["organization", "phone"], condition=Q(phone_verified=True), name="identity_vphone"
            ),
            models.Index(fields=["organization", "handle"]),
            # Weak-evidence matching compares case-insensitively (iexact is UPPER(...) = UPPER(...)).
            models.Index(F("organization"), Upper("handle"), name="identity_handle_ci"),
            models.Index(F("organization"), Upper("display_name"), name="identity_name_ci"),
            models.Index(F("organization"), Upper("email"), name="identity_email_ci"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.handle or self.display_name or self.external_id}"


class MergeSuggestion(TenantModel):
    """Weak evidence that two profiles are one person: an agent confirms or rejects it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    candidate = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=200)
    evidence = models.JSONField(default=dict, blank=True)
    score = models.FloatField(default=0.5)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-score", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "candidate"], name="one_suggestion_per_pair"),
            models.CheckConstraint(condition=~Q(customer=F("candidate")), name="suggestion_not_self"),
        ]

    def __str__(self):
        return f"{self.customer} ≈ {self.candidate} ({self.reason})"


class CustomerMerge(TenantModel):
    """One merge, with what it moved, so that it can be undone exactly."""

    source = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    target = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=200)
    automatic = models.BooleanField(default=False)
    moved_identity_ids = models.JSONField(default=list)
    moved_conversation_ids = models.JSONField(default=list)
    source_snapshot = models.JSONField(
        default=dict, help_text="The source profile's fields before the merge."
    )
    target_snapshot = models.JSONField(
        default=dict, help_text="The target profile's fields before the merge."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.source_id} → {self.target_id}"


@dataclass(frozen=True)
class StrongLink:
    """An explicit statement that an identity belongs with another one, e.g. ("website", "user-42")."""

    kind: str
    external_id: str
    reason: str
