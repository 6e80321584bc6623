from django.db.models import Q, QuerySet

from apps.accounts.models import Membership
from apps.accounts.tenancy import scoped

from .models import SavedView


def saved_views(*, membership: Membership) -> QuerySet[SavedView]:
    """The membership's own saved views and those shared in its organisation."""
    return (
        scoped(SavedView, membership)
        .filter(Q(user_id=membership.user_id) | Q(shared=True))
        .select_related("user")
        .order_by("name", "pk")
    )
