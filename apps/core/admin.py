from django.contrib import admin

from apps.accounts.admin_base import TenantAdmin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(TenantAdmin):
    list_display = ["created_at", "action", "target_type", "target_id", "actor", "organization"]
    list_filter = ["action", "target_type"]
    search_fields = ["target_id", "action"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
