from django.conf import settings
from django.db import models

from apps.core.models import TenantModel


class ApiToken(TenantModel):
    """A key for the REST API, pinned to one membership: a call made with it acts as that member, in that
    organisation, with that role and those brands, whichever other organisations the user belongs to.

    Only a hash of the key is stored: the key itself is shown once, when it is made."""

    membership = models.ForeignKey("accounts.Membership", on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=120, help_text="What the token is for: “CRM sync”, “BI export”.")
    # The key's first characters, to tell tokens apart in lists; not enough to use it.
    prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
