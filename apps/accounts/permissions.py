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


admin_required = membership_required(lambda m: m.is_admin)
inbox_required = membership_required(lambda m: m.can_work_inbox)
dashboards_required = membership_required(lambda m: m.can_view_dashboards)


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
