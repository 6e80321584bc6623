from django.conf import settings
from django.db import models

from apps.core.models import TenantModel


class SavedView(TenantModel):
    """A named inbox list (view, filters, order) an agent comes back to; a shared one shows in the inbox
    of everyone in the organisation."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(max_length=80)
    # The inbox's querystring as InboxQuery.querystring() writes it (validated, defaults left out).
    query = models.CharField(max_length=1000, blank=True)
    shared = models.BooleanField(default=False, help_text="Shown to everyone in the organisation's inbox.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "user", "name"], name="saved_view_name_per_user")
        ]

    def __str__(self):
        return self.name
