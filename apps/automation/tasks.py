"""Automation's tasks: thin wrappers around the services (queues in cxm/queues.py)."""

from __future__ import annotations

import logging

from celery import shared_task

from . import services

logger = logging.getLogger(__name__)


@shared_task(
    name="apps.automation.tasks.automation_messages_task",
    ignore_result=True,
    soft_time_limit=240,
    time_limit=300,
)
def automation_messages_task(
    message_ids: list[int], chain: list[int] | None = None, wanted: list[str] | None = None
) -> None:
    """New inbound messages: survey answers, acknowledgements, then the rules of "message received" and,
    for conversations they opened, "conversation created"."""
    services.messages_automate(message_ids=message_ids, chain=tuple(chain or ()), wanted=wanted)


@shared_task(
    name="apps.automation.tasks.rules_run_task", ignore_result=True, soft_time_limit=240, time_limit=300
)
def rules_run_task(
    event: str, conversation_ids: list[int], message_ids: list[int], chain: list[int], extra: dict
) -> None:
    services.rules_run(
        event=event, conversation_ids=conversation_ids, message_ids=message_ids, chain=chain, extra=extra
    )


@shared_task(
    name="apps.automation.tasks.no_reply_sweep_task", ignore_result=True, soft_time_limit=240, time_limit=300
)
def no_reply_sweep_task() -> int:
    return services.no_reply_due()


@shared_task(
    name="apps.automation.tasks.survey_send_task", ignore_result=True, soft_time_limit=100, time_limit=120
)
def survey_send_task(conversation_id: int) -> None:
    services.survey_send(conversation_id=conversation_id)


@shared_task(
    bind=True,
    name="apps.automation.tasks.rule_webhook_call_task",
    ignore_result=True,
    soft_time_limit=50,
    time_limit=60,
    max_retries=3,
)
def rule_webhook_call_task(self, conversation_id: int, url: str, rule_id: int | None = None) -> None:
    try:
        services.rule_webhook_call(conversation_id=conversation_id, url=url, rule_id=rule_id)
    except services.WebhookCallFailed as error:
        if self.request.retries >= self.max_retries:
            services.rule_webhook_failed(
                conversation_id=conversation_id, url=url, rule_id=rule_id, error=error
            )
            return
        raise self.retry(countdown=min(300, 5 * 2**self.request.retries), exc=error) from error
