from django.contrib import admin

from .permissions import current_membership, is_platform_operator


def _is_platform_operator(request) -> bool:
    return is_platform_operator(request.user)


def _scoped_filter(model, entry):
    if isinstance(entry, str) and "__" not in entry:
        field = model._meta.get_field(entry)
        if field.is_relation:
            return (entry, admin.RelatedOnlyFieldListFilter)
    return entry


class OrganisationAdminOnly(admin.ModelAdmin):
    """The Django admin pages of CXM's models are for platform operators (superusers) and for whoever is an
    admin of the organisation they work in now. Django's model permissions are global (the organisation
    admins' group), so they alone would let an admin of another organisation in."""

    def _membership(self, request):
        return current_membership(request)

    def _may_use(self, request) -> bool:
        if _is_platform_operator(request):
            return True
        membership = self._membership(request)
        return membership is not None and membership.is_admin

    def has_module_permission(self, request):
        return self._may_use(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._may_use(request) and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return self._may_use(request) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return self._may_use(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._may_use(request) and super().has_delete_permission(request, obj)


class TenantAdmin(OrganisationAdminOnly):
    """Django admin for a tenant model: an organisation admin sees and edits only their organisation.

    Superusers (platform operators) see every tenant.
    """

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if _is_platform_operator(request):
            return queryset
        return queryset.visible_to(self._membership(request))

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        if _is_platform_operator(request):
            return filters
        # Django's filter on a related field lists every row of the related model (every organisation's
        # brands, teams...); offer only the values found among the rows this admin may see.
        return [_scoped_filter(self.model, entry) for entry in filters]

    def get_exclude(self, request, obj=None):
        form_meta = getattr(self.form, "_meta", None)
        exclude = list(super().get_exclude(request, obj) or getattr(form_meta, "exclude", None) or [])
        if not _is_platform_operator(request):
            exclude.append("organization")
        return exclude

    def _scope_choices(self, db_field, request, kwargs):
        if _is_platform_operator(request):
            return
        manager = db_field.related_model._default_manager
        if hasattr(manager, "visible_to"):
            kwargs["queryset"] = manager.visible_to(self._membership(request))
        elif db_field.related_model._meta.label_lower == "accounts.user":
            kwargs["queryset"] = manager.filter(
                memberships__organization_id=self._membership(request).organization_id
            )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        self._scope_choices(db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        self._scope_choices(db_field, request, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not change and not getattr(obj, "organization_id", None):
            obj.organization = self._membership(request).organization
        super().save_model(request, obj, form, change)


class ReadOnlyTenantAdmin(TenantAdmin):
    """Made and changed on the app's own pages, where each is checked and audited; only viewed here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
