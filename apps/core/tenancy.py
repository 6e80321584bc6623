"""Tenant scoping, in one place.

Every tenant model carries `organization`; a model whose rows belong to a brand names the path to it
in `TENANT_BRAND_PATH` (e.g. "brand" or "conversation__brand"). Views, the API, tasks and admin get
their querysets through `visible_to(membership)` (or `scoped()` below) and never filter by hand.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol, TypeVar

from django.db import models
from django.http import Http404

M = TypeVar("M", bound=models.Model)


class Membership(Protocol):
    """What the rule reads of a member (apps.accounts.models.Membership): it lives here, under accounts,
    so that core's own models (TenantModel, AuditEvent) are scoped by it too."""

    organization_id: int
    limited_to_brands: bool
    brand_ids: Collection[int]


class TenantQuerySet(models.QuerySet):
    def for_organization(self, organization) -> TenantQuerySet:
        return self.filter(organization=organization)

    def visible_to(self, membership: Membership | None) -> TenantQuerySet:
        """What this membership may see: its organisation's rows, narrowed to its brands if it has a list."""
        if membership is None:
            return self.none()
        queryset = self.filter(organization_id=membership.organization_id)
        brand_path = getattr(self.model, "TENANT_BRAND_PATH", None)
        if brand_path and membership.limited_to_brands:
            queryset = queryset.filter(**{f"{brand_path}__in": membership.brand_ids})
        return queryset


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    pass


def scoped(model_or_queryset, membership: Membership | None) -> TenantQuerySet:
    queryset = (
        model_or_queryset._default_manager.all() if isinstance(model_or_queryset, type) else model_or_queryset
    )
    return queryset.visible_to(membership)


def get_visible_or_404(model_or_queryset, membership: Membership | None, **lookup) -> M:
    """Fetch one object the membership may see; anything else is a 404, never a 403 that leaks existence."""
    try:
        return scoped(model_or_queryset, membership).get(**lookup)
    except (models.ObjectDoesNotExist, ValueError) as error:
        raise Http404("not found") from error


def brand_visible_to(membership: Membership | None, brand_id: int | None) -> bool:
    """The same rule as visible_to() for one row of the membership's organisation known only by its brand
    (a live event): members limited to some brands see only those; a row of no known brand is not theirs."""
    if membership is None:
        return False
    if not membership.limited_to_brands:
        return True
    return brand_id is not None and brand_id in membership.brand_ids
