from django.contrib import admin

from apps.accounts.admin_base import TenantAdmin

from .models import ListeningQuery, Mention


@admin.register(ListeningQuery)
class ListeningQueryAdmin(TenantAdmin):
    list_display = ["name", "brand", "level", "query", "is_active", "updated_at"]
    list_filter = ["level", "is_active"]
    search_fields = ["name", "query"]


@admin.register(Mention)
class MentionAdmin(TenantAdmin):
    list_display = ["message", "brand", "level", "competitor", "query", "created_at"]
    list_filter = ["level"]
    raw_id_fields = ["message", "query"]
