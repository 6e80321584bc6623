"""Reads of the organisation's webhook endpoints and their delivery log, scoped like everything else."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from apps.accounts.models import Membership
from apps.accounts.tenancy import scoped

from .models import WebhookDelivery, WebhookEndpoint

LOG_LIMIT = 100


def endpoint_list(*, membership: Membership) -> QuerySet[WebhookEndpoint]:
    return scoped(WebhookEndpoint, membership).annotate(
        failed_count=Count("deliveries", filter=Q(deliveries__status=WebhookDelivery.Status.FAILED)),
        pending_count=Count("deliveries", filter=Q(deliveries__status=WebhookDelivery.Status.PENDING)),
    )


def delivery_log(*, endpoint: WebhookEndpoint, status: str = "") -> QuerySet[WebhookDelivery]:
    """The endpoint's deliveries, newest first (the page shows the latest LOG_LIMIT)."""
    deliveries = WebhookDelivery.objects.filter(endpoint=endpoint)
    if status in WebhookDelivery.Status.values:
        deliveries = deliveries.filter(status=status)
    return deliveries
