from django import forms
from django.contrib import admin

from apps.accounts.admin_base import TenantAdmin
from apps.core.crypto import mask_secret

from .models import Channel
from .services import channel_set_status


class ChannelAdminForm(forms.ModelForm):
    """Credentials are write-only: the form shows masked values and keeps them unless new JSON is typed."""

    new_credentials = forms.JSONField(
        required=False,
        help_text="Leave empty to keep the stored credentials. Stored encrypted.",
    )

    class Meta:
        model = Channel
        exclude = ["credentials"]  # noqa: DJ006 - write-only: never rendered back

    def save(self, commit=True):
        if self.cleaned_data.get("new_credentials"):
            self.instance.credentials = self.cleaned_data["new_credentials"]
        return super().save(commit)


@admin.register(Channel)
class ChannelAdmin(TenantAdmin):
    form = ChannelAdminForm
    list_display = ["name", "kind", "brand", "status", "last_fetch_at", "error_count"]
    list_filter = ["kind", "status"]
    search_fields = ["name"]
    actions = ["pause", "resume"]
    readonly_fields = ["stored_credentials", "last_fetch_at", "last_error", "error_count", "created_at"]

    @admin.display(description="Stored credentials")
    def stored_credentials(self, obj):
        return {key: mask_secret(value) for key, value in (obj.credentials or {}).items()} or "—"

    @admin.action(description="Pause the selected channels")
    def pause(self, request, queryset):
        for channel in queryset:
            channel_set_status(channel=channel, status=Channel.Status.PAUSED, actor=request.user)

    @admin.action(description="Resume the selected channels")
    def resume(self, request, queryset):
        for channel in queryset:
            channel_set_status(channel=channel, status=Channel.Status.ACTIVE, actor=request.user)
