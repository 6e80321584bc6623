from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponseRedirect

from apps.core.models import AuditEvent

from .admin_base import OrganisationAdminOnly, TenantAdmin, _is_platform_operator
from .hooks import brand_created
from .models import Brand, Membership, Organization, Team, User
from .permissions import account_manageable_by, current_membership
from .services import MembershipError, member_invite, membership_remove, membership_update


@admin.register(Organization)
class OrganizationAdmin(OrganisationAdminOnly):
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
            brand_created.send(obj)


@admin.register(Team)
class TeamAdmin(TenantAdmin):
    list_display = ["name", "organization"]
    search_fields = ["name"]
    filter_horizontal = ["members"]


class MembershipInviteForm(forms.ModelForm):
    """An organisation admin adds a person by email (see member_invite), never by picking an account."""

    email = forms.EmailField(help_text="Someone new receives an email to choose their password.")

    class Meta:
        model = Membership
        fields = ["email", "role", "brands"]


@admin.register(Membership)
class MembershipAdmin(TenantAdmin):
    """A person's role and brands in this organisation. Their account (password, email, names) is theirs:
    see UserAdmin and apps.accounts.permissions.account_manageable_by."""

    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__email"]
    filter_horizontal = ["brands"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None and not _is_platform_operator(request):
            kwargs["form"] = MembershipInviteForm
            kwargs["fields"] = ["email", "role", "brands"]
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if _is_platform_operator(request):
            return super().get_fields(request, obj)
        return ["email", "role", "brands"] if obj is None else ["user", "role", "brands"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not _is_platform_operator(request):
            return ["user"]
        return super().get_readonly_fields(request, obj)

    def save_model(self, request, obj, form, change):
        if _is_platform_operator(request):
            return super().save_model(request, obj, form, change)
        data = form.cleaned_data
        if change:
            membership_update(
                membership=obj,
                role=data["role"],
                brands=list(data["brands"]),
                actor=request.user,
                issuer=self._issuer(request),
            )
            return
        invited = member_invite(
            organization=self._membership(request).organization,
            email=data["email"],
            role=data["role"],
            brands=list(data["brands"]),
            actor=request.user,
            issuer=self._issuer(request),
        )
        obj.pk, obj.user, obj.organization = invited.pk, invited.user, invited.organization

    def save_related(self, request, form, formsets, change):
        if _is_platform_operator(request):
            super().save_related(request, form, formsets, change)
        # Otherwise the service wrote the brands with the membership.

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except MembershipError as error:
            return self._refused(request, error)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except MembershipError as error:
            return self._refused(request, error)

    def _refused(self, request, error: MembershipError):
        # The services refuse with a reason (their transaction is rolled back): shown on the same page.
        self.message_user(request, str(error)[:1].upper() + str(error)[1:], level=messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())

    def delete_model(self, request, obj):
        membership_remove(membership=obj, actor=request.user, issuer=self._issuer(request))

    def delete_queryset(self, request, queryset):
        with transaction.atomic():  # all of the selection or none of it
            for membership in queryset:
                membership_remove(membership=membership, actor=request.user, issuer=self._issuer(request))

    def changelist_view(self, request, extra_context=None):
        try:
            return super().changelist_view(request, extra_context)
        except MembershipError as error:  # from the bulk delete action
            return self._refused(request, error)

    def _issuer(self, request):
        return None if _is_platform_operator(request) else self._membership(request)


@admin.register(User)
class UserAdmin(OrganisationAdminOnly, DjangoUserAdmin):
    """Platform operators manage every account. An organisation admin sees the people of their
    organisation and changes the account itself only of someone who belongs to no other organisation
    (account_manageable_by); never a password: people choose their own, through the reset email."""

    fieldsets = [*DjangoUserAdmin.fieldsets, ("CXM", {"fields": ["signature"]})]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if _is_platform_operator(request):
            return queryset
        membership = current_membership(request)
        if membership is None or not membership.is_admin:
            return queryset.none()
        return queryset.filter(memberships__organization_id=membership.organization_id)

    def _manages_account(self, request, user) -> bool:
        return _is_platform_operator(request) or account_manageable_by(current_membership(request), user)

    def has_add_permission(self, request):
        # People join an organisation by invitation (MembershipAdmin), which creates their account if needed.
        return _is_platform_operator(request) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        if obj is not None and not self._manages_account(request, obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and not self._manages_account(request, obj):
            return False
        return super().has_delete_permission(request, obj)

    def user_change_password(self, request, id, form_url=""):
        if not _is_platform_operator(request):
            raise PermissionDenied("people choose their own password, through the reset email")
        return super().user_change_password(request, id, form_url)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not _is_platform_operator(request):
            # Deleting accounts in bulk would reach people who belong to other organisations too.
            actions.pop("delete_selected", None)
        return actions

    def get_readonly_fields(self, request, obj=None):
        if _is_platform_operator(request):
            return super().get_readonly_fields(request, obj)
        return [*super().get_readonly_fields(request, obj), "last_login", "date_joined"]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if _is_platform_operator(request):
            return fieldsets
        # Organisation admins manage people, not platform-wide privileges, and never a password.
        return [
            (name, {**opts, "fields": [f for f in opts["fields"] if f != "password"]})
            for name, opts in fieldsets
            if name != "Permissions"
        ]


# The audit log is core's (apps/core/models.py); its admin needs the tenant admin, which is accounts'.
@admin.register(AuditEvent)
class AuditEventAdmin(TenantAdmin):
    list_display = ["created_at", "action", "target_type", "target_id", "actor", "organization"]
    list_filter = ["action", "target_type"]
    search_fields = ["target_id", "action"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
