"""Who may call what: the same role tests as the pages (apps.accounts.permissions), on the membership that
the token pins, or the one the session chose (apps.accounts.middleware.TenantMiddleware)."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from apps.accounts.models import Membership
from apps.accounts.permissions import current_membership

from .models import ApiToken


def api_membership(request) -> Membership | None:
    """The membership an API call acts as: its token's, else the session's current organisation."""
    if isinstance(request.auth, ApiToken):
        return request.auth.membership
    return current_membership(request._request)


class RolePermission(BasePermission):
    """A view names `read_role` and `write_role`: a property of the membership such as `can_work_inbox`, or
    None for any member. Without a membership nothing is allowed."""

    message = "your role in this organisation does not allow this"

    def has_permission(self, request, view) -> bool:
        membership = api_membership(request)
        if membership is None:
            return False
        role = view.read_role if request.method in SAFE_METHODS else view.write_role
        return role is None or bool(getattr(membership, role))


class AdminActionPermission(BasePermission):
    """For actions that only an organisation admin may take (erase, pause a channel, edit a brand)."""

    message = "only an organisation admin can do this"

    def has_permission(self, request, view) -> bool:
        membership = api_membership(request)
        return membership is not None and membership.is_admin


def role_permission(rule: str) -> type[BasePermission]:
    """A DRF permission for one action from a role rule (a Membership property), the same one the page
    decorators test (apps.accounts.permissions.role_required)."""

    class RulePermission(BasePermission):
        message = "your role in this organisation does not allow this"

        def has_permission(self, request, view) -> bool:
            membership = api_membership(request)
            return membership is not None and bool(getattr(membership, rule))

    RulePermission.__name__ = f"RolePermission_{rule}"
    return RulePermission
