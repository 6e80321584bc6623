from django.contrib import admin

from apps.accounts.admin_base import TenantAdmin

from .models import RawPayload


@admin.register(RawPayload)
class RawPayloadAdmin(TenantAdmin):
    list_display = ["pk", "channel", "source", "status", "external_id", "attempts", "received_at"]
    list_filter = ["status", "source"]
    search_fields = ["external_id", "rejection_reason"]
    raw_id_fields = ["channel"]
    readonly_fields = ["body_preview", "received_at", "processed_at"]
    exclude = ["body"]

    @admin.display(description="Body (first 4 KB)")
    def body_preview(self, obj):
        return bytes(obj.body[:4096]).decode("utf-8", errors="replace")
