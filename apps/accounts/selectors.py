from django.db.models import Count, QuerySet

from apps.accounts.tenancy import scoped

from .models import Brand, Membership, Team


def brand_list(*, membership: Membership) -> QuerySet[Brand]:
    return scoped(Brand, membership).order_by("name")


def team_list(*, membership: Membership) -> QuerySet[Team]:
    return scoped(Team, membership).annotate(member_count=Count("members")).order_by("name")


def member_list(*, membership: Membership) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(organization_id=membership.organization_id)
        .select_related("user")
        .prefetch_related("brands")
        .order_by("role", "user__username")
    )
