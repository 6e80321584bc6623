from django.utils.functional import SimpleLazyObject

SESSION_KEY = "cxm_organization_id"


def _active_membership(request):
    user = request.user
    if not user.is_authenticated:
        return None
    memberships = user.memberships.select_related("organization")
    wanted = request.session.get(SESSION_KEY)
    membership = memberships.filter(organization_id=wanted).first() if wanted else None
    return membership or memberships.order_by("created_at").first()


class TenantMiddleware:
    """Sets `request.membership`: the user's role in the organisation they are working in (or None)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = SimpleLazyObject(lambda: _active_membership(request))
        return self.get_response(request)
