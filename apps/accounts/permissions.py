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
