from django.contrib import admin

from .models import Alert, AlertRule


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "brand", "kind", "active", "last_evaluated_at"]
    list_filter = ["kind", "active"]


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["rule", "brand", "kind", "observed", "score", "status", "created_at"]
    list_filter = ["status", "kind"]
