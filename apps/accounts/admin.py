from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .admin_base import TenantAdmin, _is_platform_operator
from .models import Brand, Membership, Organization, Team, User
from .permissions import current_membership


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if _is_platform_operator(request):
            return queryset
        membership = current_membership(request)
        return queryset.filter(pk=membership.organization_id) if membership else queryset.none()

    def has_add_permission(self, request):
        return _is_platform_operator(request)

    def has_delete_permission(self, request, obj=None):
        return _is_platform_operator(request)


@admin.register(Brand)
class BrandAdmin(TenantAdmin):
    list_display = ["name", "organization", "slug", "created_at"]
    search_fields = ["name", "keywords"]
    prepopulated_fields = {"slug": ["name"]}

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            from apps.listening.services import listening_queries_create_defaults

            listening_queries_create_defaults(brand=obj)


@admin.register(Team)
class TeamAdmin(TenantAdmin):
    list_display = ["name", "organization"]
    search_fields = ["name"]
    filter_horizontal = ["members"]


@admin.register(Membership)
class MembershipAdmin(TenantAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__email"]
    filter_horizontal = ["brands"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = [*DjangoUserAdmin.fieldsets, ("CXM", {"fields": ["signature"]})]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if _is_platform_operator(request):
            return queryset
        membership = current_membership(request)
        if membership is None or not membership.is_admin:
            return queryset.none()
        return queryset.filter(memberships__organization_id=membership.organization_id)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if _is_platform_operator(request):
            return fieldsets
        # Organisation admins manage people, not platform-wide privileges.
        return [(name, opts) for name, opts in fieldsets if name != "Permissions"]
