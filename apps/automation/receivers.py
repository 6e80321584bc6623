"""What automation listens to (apps/core/hooks.py): each receiver only decides, from a per-process cache,
whether the organisation automates anything for the event, and queues a task; rules never run inline in
the sender's transaction or request."""

from __future__ import annotations

import time

from django.db import transaction

from .models import AutoReply, Rule, SurveySettings, Trigger

VERSION_CHECK_SECONDS = 5.0
_interest: dict[int, tuple[float, frozenset[str]]] = {}


def interest_clear() -> None:
    _interest.clear()


def interest(organization_id: int) -> frozenset[str]:
    """What the organisation automates: the triggers of its active rules, "auto_reply" and "survey".
    Rechecked every few seconds per process, so that a message costs no query."""
    now = time.monotonic()
    cached = _interest.get(organization_id)
    if cached is None or now - cached[0] > VERSION_CHECK_SECONDS:
        wanted = set(
            Rule.objects.filter(organization_id=organization_id, active=True)
            .values_list("trigger", flat=True)
            .distinct()
        )
        if AutoReply.objects.filter(organization_id=organization_id, active=True).exists():
            wanted.add("auto_reply")
        if SurveySettings.objects.filter(organization_id=organization_id, active=True).exists():
            wanted.add("survey")
        cached = _interest[organization_id] = (now, frozenset(wanted))
    return cached[1]


def _by_organization(items) -> dict[int, list]:
    grouped: dict[int, list] = {}
    for item in items:
        grouped.setdefault(item.organization_id, []).append(item)
    return grouped


def messages_stored(messages) -> None:
    from .services import current_chain
    from .tasks import automation_messages_task

    inbound = [m for m in messages if m.direction == "inbound"]
    for organization_id, batch in _by_organization(inbound).items():
        wanted = interest(organization_id)
        answers = any("csat:" in str(m.metadata or "") for m in batch)
        # "survey": a customer's text may be the comment a survey asked for (services.survey_comments_record).
        if answers or wanted & {
            Trigger.MESSAGE_RECEIVED,
            Trigger.CONVERSATION_CREATED,
            "auto_reply",
            "survey",
        }:
            automation_messages_task.delay([m.pk for m in batch], list(current_chain()), sorted(wanted))


def messages_changed(event: str, messages) -> None:
    if event != "message.classified":
        return
    for organization_id, batch in _by_organization(messages).items():
        if Trigger.MESSAGE_CLASSIFIED in interest(organization_id):
            _queue(Trigger.MESSAGE_CLASSIFIED, {m.conversation_id for m in batch}, [m.pk for m in batch])


def conversations_changed(conversations) -> None:
    for organization_id, batch in _by_organization(conversations).items():
        if Trigger.CONVERSATION_CHANGED in interest(organization_id):
            _queue(Trigger.CONVERSATION_CHANGED, {c.pk for c in batch})


def status_set(*, conversation, previous: str, **_) -> None:
    """Sent inside conversation_set_status's transaction: acted on once committed, when the status changed."""
    if previous != conversation.status:
        transaction.on_commit(lambda: _status_changed(conversation, previous))


def _status_changed(conversation, previous: str) -> None:
    from .tasks import survey_send_task

    wanted = interest(conversation.organization_id)
    if Trigger.STATUS_CHANGED in wanted:
        _queue(Trigger.STATUS_CHANGED, {conversation.pk}, extra={"previous": previous})
    if "survey" in wanted and conversation.status == "closed":
        survey_send_task.delay(conversation.pk)


def customer_attributes_changed(*, customer, keys, **_) -> None:
    from apps.conversations.models import Conversation

    if Trigger.CUSTOMER_CHANGED not in interest(customer.organization_id):
        return
    ids = Conversation.objects.filter(customer=customer, status__in=Conversation.ACTIVE_STATUSES).values_list(
        "pk", flat=True
    )[:20]
    if ids:
        _queue(Trigger.CUSTOMER_CHANGED, set(ids), extra={"attributes": list(keys)})


def _sla(event: str):
    def receive(conversation, target) -> None:
        if event in interest(conversation.organization_id):
            _queue(event, {conversation.pk}, extra={"target": str(target)})

    receive.__name__ = f"sla_{event.replace('.', '_')}"
    return receive


sla_warning = _sla(Trigger.SLA_WARNING)
sla_breached = _sla(Trigger.SLA_BREACHED)


def _queue(event: str, conversation_ids, message_ids=(), extra=None) -> None:
    from .services import current_chain
    from .tasks import rules_run_task

    rules_run_task.delay(
        event, sorted(conversation_ids), list(message_ids), list(current_chain()), extra or {}
    )


def connect() -> None:
    from apps.conversations import hooks as conversation_hooks
    from apps.customers import hooks as customer_hooks

    conversation_hooks.messages_stored.connect(messages_stored)
    conversation_hooks.messages_changed.connect(messages_changed)
    conversation_hooks.conversations_changed.connect(conversations_changed)
    conversation_hooks.status_set.connect(status_set)
    customer_hooks.attributes_changed.connect(customer_attributes_changed)
    try:
        from apps.routing import hooks as routing_hooks
    except ImportError:  # routing (SLA policies) not installed: its triggers never fire
        return
    routing_hooks.sla_warning.connect(sla_warning)
    routing_hooks.sla_breached.connect(sla_breached)
