"""Automation in the Django admin: viewed there, scoped like everything else (TenantAdmin: the admin's
organisation and brands). Rules, acknowledgements and surveys are made on /automation/ and over the API,
where their conditions, actions and texts are checked and every change audited; so they are read-only here,
like macros."""

from django.contrib import admin

from apps.accounts.admin_base import ReadOnlyTenantAdmin

from .models import AutoReply, AutoReplySent, Rule, RuleRun, Survey, SurveySettings


@admin.register(Rule)
class RuleAdmin(ReadOnlyTenantAdmin):
    list_display = ["name", "brand", "trigger", "position", "stop_processing", "active", "updated_at"]
    list_filter = ["trigger", "active", "brand"]
    search_fields = ["name"]


@admin.register(RuleRun)
class RuleRunAdmin(ReadOnlyTenantAdmin):
    list_display = ["rule", "conversation", "event", "created_at"]
    list_filter = ["event"]


@admin.register(AutoReply)
class AutoReplyAdmin(ReadOnlyTenantAdmin):
    list_display = ["brand", "kind", "default_language", "window_hours", "active"]
    list_filter = ["kind", "active", "brand"]


@admin.register(AutoReplySent)
class AutoReplySentAdmin(ReadOnlyTenantAdmin):
    list_display = ["auto_reply", "conversation", "refused", "created_at"]


@admin.register(SurveySettings)
class SurveySettingsAdmin(ReadOnlyTenantAdmin):
    list_display = ["brand", "active", "default_language", "updated_at"]


@admin.register(Survey)
class SurveyAdmin(ReadOnlyTenantAdmin):
    list_display = ["conversation", "brand", "channel", "agent", "rating", "via", "sent_at", "answered_at"]
    list_filter = ["rating", "via", "brand"]
