from django.contrib import admin

from apps.accounts.admin_base import TenantAdmin

from .models import Notification


@admin.register(Notification)
class NotificationAdmin(TenantAdmin):
    """Written by the services (mentions, assignments), never by hand: admins look them up or delete them."""

    list_display = ["__str__", "kind", "recipient", "actor", "conversation", "created_at", "read_at"]
    list_filter = ["kind"]
    raw_id_fields = ["recipient", "actor", "conversation", "message"]
    readonly_fields = ["created_at"]

    def has_add_permission(self, request):
        return False
