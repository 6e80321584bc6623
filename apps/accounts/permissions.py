from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied


def current_membership(request):
    membership = getattr(request, "membership", None)
    return membership if membership is not None and getattr(membership, "pk", None) else None


def membership_required(test=None):
    """Login, an active membership, and optionally a role test such as `lambda m: m.can_work_inbox`."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            membership = current_membership(request)
            if membership is None or (test is not None and not test(membership)):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def role_required(rule: str):
    """A page that needs a role rule: the name of a Membership property (`can_work_inbox`...). The API
    tests the same properties (apps.api.permissions), so a page and its endpoint cannot disagree."""
    return membership_required(lambda membership: bool(getattr(membership, rule)))


admin_required = role_required("is_admin")
inbox_required = role_required("can_work_inbox")
dashboards_required = role_required("can_view_dashboards")
personal_data_required = role_required("can_handle_personal_data")


def is_platform_operator(user) -> bool:
    return user.is_active and user.is_superuser


def account_manageable_by(membership, user) -> bool:
    """Whether an organisation admin may change a person's account itself: email, names, active flag, its
    existence. Accounts are not owned by one tenant: a person who also belongs to another organisation (or
    runs the platform) is theirs as much as this one's, so this admin manages only their membership here
    (invite, role, brands, removal). Passwords are nobody's but the person's (password reset by email)."""
    if membership is None or not membership.is_admin or user is None or user.is_superuser:
        return False
    organizations = set(user.memberships.values_list("organization_id", flat=True))
    return organizations == {membership.organization_id}


def brands_within(brand_ids, issuer) -> bool:
    """Whether a membership limited to `brand_ids` (empty: every brand) sees nothing that `issuer` does not:
    an admin limited to some brands cannot hand out (to others, or to themselves) the brands they lack."""
    if issuer is None or not issuer.limited_to_brands:
        return True
    return bool(brand_ids) and set(brand_ids) <= set(issuer.brand_ids)
