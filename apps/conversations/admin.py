from django.contrib import admin

from apps.accounts.admin_base import TenantAdmin

from .models import Conversation, Message, Tag, ThreadAlias


@admin.register(Tag)
class TagAdmin(TenantAdmin):
    list_display = ["name", "color", "organization"]
    search_fields = ["name"]


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    fields = ["direction", "sent_at", "text", "language", "delivery_status"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Conversation)
class ConversationAdmin(TenantAdmin):
    list_display = [
        "__str__",
        "brand",
        "channel",
        "customer",
        "status",
        "priority",
        "assignee",
        "last_message_at",
    ]
    list_filter = ["status", "channel__kind"]
    search_fields = ["subject", "customer__display_name"]
    raw_id_fields = ["customer", "channel"]
    filter_horizontal = ["tags"]
    inlines = [MessageInline]
    date_hierarchy = "last_message_at"


@admin.register(Message)
class MessageAdmin(TenantAdmin):
    list_display = ["__str__", "direction", "channel", "language", "delivery_status", "sent_at"]
    list_filter = ["direction", "delivery_status", "language"]
    search_fields = ["text", "external_id"]
    raw_id_fields = ["conversation", "channel", "author_identity", "author_user", "raw_payload"]
    date_hierarchy = "sent_at"


@admin.register(ThreadAlias)
class ThreadAliasAdmin(TenantAdmin):
    list_display = ["external_thread_id", "channel", "conversation", "created_at"]
    raw_id_fields = ["conversation"]
