"""Reads of an agent's notifications, scoped like everything else (`scoped()`): their organisation, and
their brands when they are limited to some."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.accounts.models import Membership
from apps.accounts.tenancy import scoped

from .models import Notification


def notification_list(*, membership: Membership) -> QuerySet[Notification]:
    """The membership's own notifications, newest first."""
    return (
        scoped(Notification, membership)
        .filter(recipient_id=membership.user_id)
        .select_related("actor", "brand", "conversation", "channel", "message")
    )


def notification_unread_count(*, membership: Membership) -> int:
    return notification_list(membership=membership).filter(read_at__isnull=True).count()
