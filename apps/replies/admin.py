from django.contrib import admin

from apps.accounts.admin_base import ReadOnlyTenantAdmin, TenantAdmin

from .models import Macro, MacroRun, ResolutionExample, SavedReply
from .services import saved_reply_save


@admin.register(SavedReply)
class SavedReplyAdmin(TenantAdmin):
    """The organisation's saved replies: the CRUD page of admins (agents pick them in the composer)."""

    list_display = ["title", "scope", "folder", "brand", "team", "language", "usage_count", "updated_at"]
    list_filter = ["scope", "language", "brand", "team"]
    search_fields = ["title", "body"]
    exclude = ["created_by", "owner"]  # personal ones are their owners', on the saved replies page

    def save_model(self, request, obj, form, change):
        if not change and not obj.organization_id:
            obj.organization = self._membership(request).organization
        saved_reply_save(saved_reply=obj, actor=request.user)


@admin.register(ResolutionExample)
class ResolutionExampleAdmin(TenantAdmin):
    """What resolved closed conversations, as suggestions read it; recorded by workers, so only viewed here
    (or deleted, to keep a bad reply out of suggestions)."""

    list_display = ["__str__", "brand", "language", "encoder", "updated_at"]
    list_filter = ["language", "brand"]
    search_fields = ["question_text", "reply_text"]
    fields = ["brand", "conversation", "reply_message", "language", "question_text", "reply_text", "encoder"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Macro)
class MacroAdmin(ReadOnlyTenantAdmin):
    list_display = ["name", "scope", "folder", "brand", "team", "usage_count", "updated_at"]
    list_filter = ["scope", "brand", "team"]
    search_fields = ["name"]


@admin.register(MacroRun)
class MacroRunAdmin(ReadOnlyTenantAdmin):
    list_display = ["__str__", "actor", "created_at", "undone_at"]

    def get_queryset(self, request):
        # A run names conversations of any brand: an admin limited to some brands sees only their own runs
        # (the API's rule, MacroRunViewSet).
        runs = super().get_queryset(request)
        membership = self._membership(request)
        if membership is not None and membership.limited_to_brands:
            return runs.filter(actor=request.user)
        return runs
