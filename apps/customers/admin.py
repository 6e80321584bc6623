from django.contrib import admin

from apps.accounts.admin_base import TenantAdmin

from .models import Customer, CustomerMerge, Identity, MergeSuggestion


class IdentityInline(admin.TabularInline):
    model = Identity
    extra = 0
    fields = ["kind", "external_id", "handle", "display_name", "followers", "verified", "email", "phone"]
    show_change_link = True


@admin.register(Customer)
class CustomerAdmin(TenantAdmin):
    list_display = ["__str__", "organization", "lifetime_value", "merged_into", "erased_at", "created_at"]
    list_filter = ["erased_at"]
    search_fields = ["display_name", "identities__handle", "identities__email"]
    raw_id_fields = ["merged_into"]
    inlines = [IdentityInline]

    def get_inline_instances(self, request, obj=None):
        # New identities take their organisation from the customer they are added to.
        return super().get_inline_instances(request, obj) if obj else []

    def save_formset(self, request, form, formset, change):
        for instance in formset.save(commit=False):
            instance.organization_id = form.instance.organization_id
            instance.save()
        formset.save_m2m()
        for obj in formset.deleted_objects:
            obj.delete()


@admin.register(Identity)
class IdentityAdmin(TenantAdmin):
    list_display = [
        "__str__",
        "kind",
        "customer",
        "followers",
        "verified",
        "email_verified",
        "phone_verified",
    ]
    list_filter = ["kind", "verified"]
    search_fields = ["handle", "display_name", "external_id", "email", "phone"]
    raw_id_fields = ["customer"]


@admin.register(MergeSuggestion)
class MergeSuggestionAdmin(TenantAdmin):
    list_display = ["customer", "candidate", "reason", "score", "status", "created_at"]
    list_filter = ["status"]
    raw_id_fields = ["customer", "candidate", "decided_by"]


@admin.register(CustomerMerge)
class CustomerMergeAdmin(TenantAdmin):
    list_display = ["source", "target", "reason", "automatic", "actor", "created_at", "undone_at"]
    list_filter = ["automatic"]
    raw_id_fields = ["source", "target", "actor", "undone_by"]
