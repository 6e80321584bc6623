from django.contrib import admin

from apps.accounts.admin_base import TenantAdmin

from .models import WebhookDelivery, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(TenantAdmin):
    list_display = ["url", "organization", "active", "created_at"]
    list_filter = ["active"]
    # The secret is set and shown by the webhook pages (/org/webhooks/), never here.
    exclude = ["credentials"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(TenantAdmin):
    list_display = ["event", "endpoint", "status", "attempts", "response_status", "created_at"]
    list_filter = ["status", "event"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
