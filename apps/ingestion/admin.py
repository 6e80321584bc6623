from django.contrib import admin

from apps.accounts.admin_base import TenantAdmin

from .models import ImportJob, RawPayload
from .services import payload_replay


@admin.register(RawPayload)
class RawPayloadAdmin(TenantAdmin):
    list_display = ["pk", "channel", "source", "status", "external_id", "attempts", "received_at"]
    list_filter = ["status", "source"]
    search_fields = ["external_id", "rejection_reason"]
    raw_id_fields = ["channel"]
    readonly_fields = ["body_preview", "received_at", "processed_at"]
    exclude = ["body"]
    actions = ["replay"]

    @admin.action(description="Replay the selected rejected payloads")
    def replay(self, request, queryset):
        replayed = 0
        for payload in queryset.filter(status=RawPayload.Status.REJECTED):
            payload_replay(payload=payload)
            replayed += 1
        self.message_user(request, f"{replayed} payload(s) sent through the pipeline again.")

    @admin.display(description="Body (first 4 KB)")
    def body_preview(self, obj):
        return bytes(obj.body[:4096]).decode("utf-8", errors="replace")


@admin.register(ImportJob)
class ImportJobAdmin(TenantAdmin):
    list_display = [
        "filename",
        "channel",
        "status",
        "rows_read",
        "total_rows",
        "stored",
        "rejected",
        "created_at",
    ]
    list_filter = ["status"]
    exclude = ["source"]
    readonly_fields = ["rows_read", "total_rows", "stored", "duplicates", "rejected", "errors", "finished_at"]
