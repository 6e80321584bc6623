"""Routing in the Django admin: viewed there, scoped like everything else (TenantAdmin). Agents, teams'
routing, SLA policies and business hours are set on /org/routing/ and over the API, where they are checked
(brand reach, calendars), audited and the workers' cached configuration reloaded: read-only here."""

from django.contrib import admin

from apps.accounts.admin_base import ReadOnlyTenantAdmin

from .models import AgentProfile, BusinessHours, ConversationSLA, Holiday, SLAOutcome, SLAPolicy, TeamRouting


@admin.register(AgentProfile)
class AgentProfileAdmin(ReadOnlyTenantAdmin):
    list_display = ["user", "status", "capacity", "last_seen_at", "last_assigned_at"]
    list_filter = ["status"]


@admin.register(TeamRouting)
class TeamRoutingAdmin(ReadOnlyTenantAdmin):
    list_display = ["team", "strategy", "position", "business_hours"]


@admin.register(SLAPolicy)
class SLAPolicyAdmin(ReadOnlyTenantAdmin):
    list_display = ["name", "brand", "channel_kind", "priority_level", "first_response_minutes"]
    list_filter = ["brand", "priority_level"]


@admin.register(BusinessHours)
class BusinessHoursAdmin(ReadOnlyTenantAdmin):
    list_display = ["name", "brand", "team", "timezone"]


@admin.register(Holiday)
class HolidayAdmin(ReadOnlyTenantAdmin):
    list_display = ["date", "name", "calendar"]


@admin.register(ConversationSLA)
class ConversationSLAAdmin(ReadOnlyTenantAdmin):
    list_display = ["conversation", "policy", "resolution_due_at", "paused_at"]


@admin.register(SLAOutcome)
class SLAOutcomeAdmin(ReadOnlyTenantAdmin):
    list_display = ["conversation", "target", "due_at", "done_at", "met"]
    list_filter = ["target", "met"]
