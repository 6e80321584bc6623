"""Notifications: written here, for mentions in notes and assignments (apps.conversations.services), and
pushed live to the recipient's open pages."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import Notification

logger = logging.getLogger(__name__)

LIVE_EVENT = "notification.created"


@transaction.atomic
def notifications_send(
    *, recipients: Iterable, kind: str, conversation=None, channel=None, actor, message=None, link: str = ""
) -> list[Notification]:
    """Notify each recipient (never the actor themself) about the conversation, or the channel; each of
    them hears of it on their open pages once the transaction commits. The caller decides who may be
    notified."""
    about = conversation if conversation is not None else channel
    actor_id = getattr(actor, "pk", None)
    recipient_ids = sorted({user.pk for user in recipients} - {actor_id})
    notifications = Notification.objects.bulk_create(
        [
            Notification(
                organization_id=about.organization_id,
                brand_id=about.brand_id,
                recipient_id=recipient_id,
                actor_id=actor_id,
                kind=kind,
                conversation=conversation,
                channel=channel,
                message=message,
                link=link,
            )
            for recipient_id in recipient_ids
        ]
    )
    transaction.on_commit(lambda: _push(notifications))
    return notifications


def _push(notifications: list[Notification]) -> None:
    from apps.core.live import live_send, user_group

    for notification in notifications:
        payload = {
            "event": LIVE_EVENT,
            "kind": notification.kind,
            "conversation": notification.conversation_id,
            **({"channel": notification.channel_id} if notification.channel_id else {}),
        }
        live_send(user_group(notification.organization_id, notification.recipient_id), "user.event", payload)


def notifications_mark_read(*, notifications: QuerySet[Notification]) -> int:
    """Mark the unread ones among `notifications` (a queryset the caller scoped to one recipient) as read."""
    return notifications.filter(read_at__isnull=True).update(read_at=timezone.now())


def _admins(channel) -> list:
    from apps.accounts.models import Membership, Role

    memberships = Membership.objects.filter(organization_id=channel.organization_id, role=Role.ADMIN).filter(
        Q(brands__isnull=True) | Q(brands=channel.brand_id)
    )
    return [membership.user for membership in memberships.select_related("user").distinct()]


def channel_failing_notify(channel) -> None:
    """Receiver of ingestion.hooks.channel_failing: the channel's admins hear of it once."""
    notifications_send(
        recipients=_admins(channel), kind=Notification.Kind.CHANNEL_FAILING, channel=channel, actor=None
    )


def channel_recovered_notify(channel) -> None:
    """Receiver of ingestion.hooks.channel_recovered."""
    notifications_send(
        recipients=_admins(channel), kind=Notification.Kind.CHANNEL_RECOVERED, channel=channel, actor=None
    )


# Receivers of the conversations' hooks (connected in NotificationsConfig.ready()).


def note_mentions_notify(*, conversation, note, author, mentioned, **_) -> None:
    """conversations.hooks.note_added: the members the note mentions."""
    notifications_send(
        recipients=mentioned,
        kind=Notification.Kind.MENTION,
        conversation=conversation,
        actor=author,
        message=note,
    )


def assignee_notify(*, conversation, assignee, actor, **_) -> None:
    """conversations.hooks.assigned: the new assignee."""
    if assignee is not None:
        notifications_send(
            recipients=[assignee], kind=Notification.Kind.ASSIGNED, conversation=conversation, actor=actor
        )


def unsnoozed_notify(*, conversation, **_) -> None:
    """conversations.hooks.unsnoozed: the assignee of the conversation that woke up."""
    if conversation.assignee is not None:
        notifications_send(
            recipients=[conversation.assignee],
            kind=Notification.Kind.UNSNOOZED,
            conversation=conversation,
            actor=None,
        )
