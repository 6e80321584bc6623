"""What each product event carries: one call from the place where the thing happens, e.g.
`events.note_created(note)` in apps.conversations.services. Each returns at once when no endpoint of the
organisation listens (a cached check), so the hot paths pay nothing for organisations without webhooks."""

from __future__ import annotations

from collections.abc import Iterable

from .models import Event
from .services import event_publish, is_subscribed


def _message(message) -> dict:
    return {
        "id": message.pk,
        "conversation": message.conversation_id,
        "channel": message.channel_id,
        "direction": message.direction,
        "text": message.text,
        "language": message.language,
        "sent_at": message.sent_at.isoformat() if message.sent_at else None,
    }


def messages_created(messages: Iterable) -> None:
    """One "message.created" event per organisation for a batch of ingested messages."""
    by_organization: dict[int, list] = {}
    for message in messages:
        by_organization.setdefault(message.organization_id, []).append(message)
    for organization_id, batch in by_organization.items():
        if is_subscribed(organization_id=organization_id, event=Event.MESSAGE_CREATED):
            payload = {"messages": [{**_message(m), "brand": m.conversation.brand_id} for m in batch]}
            event_publish(organization_id=organization_id, event=Event.MESSAGE_CREATED, payload=payload)


def conversation_status_changed(conversation, actor) -> None:
    if is_subscribed(organization_id=conversation.organization_id, event=Event.CONVERSATION_STATUS_CHANGED):
        payload = {
            "conversation": conversation.pk,
            "brand": conversation.brand_id,
            "status": conversation.status,
            "actor": getattr(actor, "pk", None),
        }
        event_publish(
            organization_id=conversation.organization_id,
            event=Event.CONVERSATION_STATUS_CHANGED,
            payload=payload,
        )


def note_created(note) -> None:
    if is_subscribed(organization_id=note.organization_id, event=Event.NOTE_CREATED):
        payload = {**_message(note), "author": note.author_user_id}
        event_publish(organization_id=note.organization_id, event=Event.NOTE_CREATED, payload=payload)


def reply_sent(message) -> None:
    if is_subscribed(organization_id=message.organization_id, event=Event.REPLY_SENT):
        payload = {**_message(message), "author": message.author_user_id, "external_id": message.external_id}
        event_publish(organization_id=message.organization_id, event=Event.REPLY_SENT, payload=payload)


def conversations_created(conversations: Iterable) -> None:
    """One "conversation.created" event per organisation for the conversations a batch opened."""
    by_organization: dict[int, list] = {}
    for conversation in conversations:
        by_organization.setdefault(conversation.organization_id, []).append(conversation)
    for organization_id, batch in by_organization.items():
        if is_subscribed(organization_id=organization_id, event=Event.CONVERSATION_CREATED):
            payload = {
                "conversations": [
                    {
                        "id": c.pk,
                        "brand": c.brand_id,
                        "channel": c.channel_id,
                        "customer": c.customer_id,
                        "subject": c.subject,
                    }
                    for c in batch
                ]
            }
            event_publish(organization_id=organization_id, event=Event.CONVERSATION_CREATED, payload=payload)


# Receivers of the domain's and the pipeline's hooks (connected in WebhooksConfig.ready()).


def on_status_set(*, conversation, actor, **_) -> None:
    conversation_status_changed(conversation, actor)


def on_note_added(*, note, **_) -> None:
    note_created(note)


def conversation_sla(conversation, *, target: str, due, breached: bool, recipients: Iterable) -> None:
    """An SLA deadline near or missed (apps.routing's check): who CXM notified in the app, for the
    organisation's paging, chat or email tools."""
    event = Event.SLA_BREACHED if breached else Event.SLA_WARNING
    if is_subscribed(organization_id=conversation.organization_id, event=event):
        payload = {
            "conversation": conversation.pk,
            "brand": conversation.brand_id,
            "team": conversation.team_id,
            "assignee": conversation.assignee_id,
            "target": target,
            "due_at": due.isoformat() if due else None,
            "notified": sorted(user.pk for user in recipients),
        }
        event_publish(organization_id=conversation.organization_id, event=event, payload=payload)
