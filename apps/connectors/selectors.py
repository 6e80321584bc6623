from django.db.models import QuerySet

from apps.accounts.tenancy import scoped

from .models import Channel


def channel_list(*, membership) -> QuerySet[Channel]:
    return scoped(Channel, membership).select_related("brand").order_by("brand__name", "kind", "name")
