"""Routing's tasks: thin wrappers of its services (cxm/queues.py names their queues)."""

from celery import shared_task

from . import services


@shared_task(time_limit=120, soft_time_limit=100)
def conversations_route_task(conversation_ids: list[int]) -> int:
    """Conversations that got a customer's message: their SLA rows started, those waiting on the customer
    open again, the unassigned auto-assigned."""
    from apps.conversations.models import Conversation

    for conversation in Conversation.objects.filter(pk__in=conversation_ids).select_related("channel"):
        services.sla_row_ensure(conversation)
    services.conversations_customer_answered(conversation_ids=conversation_ids)
    return services.conversations_route_new(conversation_ids=conversation_ids)


@shared_task(time_limit=120, soft_time_limit=100)
def sla_check_task() -> dict:
    return services.sla_check()


@shared_task(time_limit=300, soft_time_limit=280)
def requeue_agent_task(user_id: int, organization_id: int) -> int:
    from apps.accounts.models import User

    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return 0
    return services.conversations_requeue(user=user, organization_id=organization_id, actor=None)


@shared_task(time_limit=300, soft_time_limit=280)
def agents_gone_offline_task() -> int:
    return services.agents_gone_offline()
