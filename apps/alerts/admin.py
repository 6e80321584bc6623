from django.contrib import admin

from apps.accounts.admin_base import TenantAdmin

from .models import Alert, AlertRule


@admin.register(AlertRule)
class AlertRuleAdmin(TenantAdmin):
    list_display = ["name", "brand", "kind", "active", "last_evaluated_at"]
    list_filter = ["kind", "active"]


@admin.register(Alert)
class AlertAdmin(TenantAdmin):
    list_display = ["rule", "brand", "kind", "observed", "score", "status", "created_at"]
    list_filter = ["status", "kind"]
