from django.db.models import QuerySet

from apps.accounts.models import Membership
from apps.accounts.tenancy import scoped

from .models import ApiToken


def api_tokens(*, membership: Membership) -> QuerySet[ApiToken]:
    """The organisation's API tokens, newest first (an admin's view: every member's)."""
    return (
        scoped(ApiToken, membership).select_related("membership__user", "created_by").order_by("-created_at")
    )
