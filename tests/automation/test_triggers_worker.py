"""The triggers the other end-to-end tests do not cover, each through the path that sets it off and a real
worker (and beat for the SLA's): a message classified by the shipped models after a signed webhook, a status
changed on the conversation page, an SLA deadline warned of and breached, a customer's attribute changed
over the API. Each rule's actions show in the conversation's activity (its page) and the audit log."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from rest_framework.test import APIClient

from apps.api.services import api_token_create
from apps.automation.models import Rule, RuleRun, Trigger
from apps.automation.services import rule_save
from apps.conversations.models import Conversation, Message
from apps.core.models import AuditEvent
from apps.routing.models import SLAPolicy
from apps.routing.services import routing_setting_save
from tests.conftest import spawn_beat, stop_worker
from tests.factories import ConversationFactory, CustomerFactory, MessageFactory
from tests.fakes.telegram import message_update, private_message

from .conftest import wait_for

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def _rule(org, admin, name: str, trigger: str, conditions: list, actions: list) -> Rule:
    return rule_save(
        rule=Rule(organization=org, name=name, trigger=trigger, conditions=conditions, actions=actions),
        actor=admin.user,
    )


def _shown(rule: Rule, conversation: Conversation, client, *words: str) -> str:
    """The rule's run in the audit log (actor CXM) and in the activity on the conversation's page."""
    applied = AuditEvent.objects.get(
        action="automation.rule_applied", target_id=str(conversation.pk), data__rule=rule.pk
    )
    assert applied.actor is None
    explanation = applied.data["explanation"]
    assert explanation.startswith(f"Rule “{rule.name}”")
    for word in words:
        assert word in explanation
    page = client.get(reverse("inbox:conversation", args=[conversation.pk])).content.decode()
    assert 'id="conversation-activity"' in page and escape(explanation) in page
    return explanation


@pytest.fixture
def classify_on_arrival(worker_env, monkeypatch):
    monkeypatch.setenv("CXM_CLASSIFY_ON_ARRIVAL", "1")  # the worker classifies what arrives


def test_a_rule_on_classified_messages_fires_once_the_worker_classified_a_real_webhook(
    classify_on_arrival, celery_worker, telegram, telegram_channel, post_update, admin, login, org_a
):
    # Given a rule for negative messages
    rule = _rule(
        org_a,
        admin,
        "Unhappy customers",
        Trigger.MESSAGE_CLASSIFIED,
        [{"field": "sentiment", "op": "in", "value": "negative"}],
        [{"type": "tag", "value": "unhappy"}, {"type": "add_note", "value": "Unhappy: answer first."}],
    )
    # When an unhappy customer writes through the platform's signed webhook
    text = "My order never arrived and support ignores me. Worst service ever."
    assert post_update(telegram_channel, message_update(7101, private_message(51, text))).status_code == 200
    # Then, once the worker classified it, the rule acted
    run = wait_for(lambda: RuleRun.objects.filter(rule=rule).first(), timeout=180, what="the classified rule")
    conversation = Conversation.objects.get(pk=run.conversation_id)
    assert run.event == Trigger.MESSAGE_CLASSIFIED
    inbound = Message.objects.get(conversation=conversation, direction=Message.Direction.INBOUND)
    assert inbound.sentiment == "negative"
    assert list(conversation.tags.values_list("name", flat=True)) == ["unhappy"]
    assert AuditEvent.objects.filter(action="conversation.tagged", target_id=str(conversation.pk)).exists()
    _shown(rule, conversation, login(admin), "a message is classified", "tagged unhappy")


def test_a_rule_on_status_changes_fires_when_an_agent_closes_the_conversation_on_its_page(
    worker_env, celery_worker, telegram_channel, admin, agent, login, org_a
):
    rule = _rule(
        org_a,
        admin,
        "Closed: follow up",
        Trigger.STATUS_CHANGED,
        [{"field": "status", "op": "in", "value": "closed"}],
        [{"type": "tag", "value": "follow-up"}],
    )
    conversation = ConversationFactory(channel=telegram_channel)
    MessageFactory(conversation=conversation, text="Thanks, that solved it")
    client = login(agent)
    response = client.post(
        reverse("inbox:conversation_action", args=[conversation.pk]),
        {"action": "closed", "seen": conversation.version},
    )
    assert response.status_code in (200, 302)
    run = wait_for(lambda: RuleRun.objects.filter(rule=rule).first(), what="the status rule")
    assert run.conversation_id == conversation.pk and run.event == Trigger.STATUS_CHANGED
    assert list(conversation.tags.values_list("name", flat=True)) == ["follow-up"]
    _shown(rule, conversation, login(admin), "tagged follow-up")
    # Opening it again is a status change the rule's condition does not take
    client.post(reverse("inbox:conversation_action", args=[conversation.pk]), {"action": "open"})
    wait_for(
        lambda: Conversation.objects.get(pk=conversation.pk).status == Conversation.Status.OPEN,
        what="the reopening",
    )
    assert RuleRun.objects.filter(rule=rule).count() == 1


def test_rules_on_an_sla_warning_and_breach_fire_through_beat(
    worker_env, celery_worker, telegram_channel, admin, login, org_a, brand_a, tmp_path
):
    # Given a policy that warns a minute ahead, a rule for each, and a conversation due in 15 seconds
    routing_setting_save(
        instance=SLAPolicy(
            organization=org_a,
            brand=brand_a,
            name="Fast",
            first_response_minutes=60,
            warn_before_minutes=1,
            escalate_notify=False,
        ),
        actor=None,
    )
    warned = _rule(
        org_a, admin, "About to breach", Trigger.SLA_WARNING, [], [{"type": "tag", "value": "sla-soon"}]
    )
    breached = _rule(
        org_a,
        admin,
        "Breached",
        Trigger.SLA_BREACHED,
        [],
        [{"type": "set_priority", "value": "95"}, {"type": "add_note", "value": "Missed: call them."}],
    )
    conversation = ConversationFactory(
        channel=telegram_channel, priority=10, sla_due_at=timezone.now() + timedelta(seconds=15)
    )
    MessageFactory(conversation=conversation, text="Hello?")
    # When beat runs the SLA check (every minute scaled to 3 s) while the deadline comes and goes
    beat = spawn_beat(tmp_path / "schedule", env={"CXM_BEAT_SCALE": "0.05"})
    try:
        wait_for(lambda: RuleRun.objects.filter(rule=breached).exists(), timeout=120, what="the breach rule")
        wait_for(lambda: RuleRun.objects.filter(rule=warned).exists(), timeout=30, what="the warning rule")
    finally:
        stop_worker(beat)
    # Then each rule ran once, the warning's before the breach's, with its target in the run
    warning_run, breach_run = RuleRun.objects.get(rule=warned), RuleRun.objects.get(rule=breached)
    assert warning_run.created_at <= breach_run.created_at
    assert (warning_run.event, breach_run.event) == (Trigger.SLA_WARNING, Trigger.SLA_BREACHED)
    conversation.refresh_from_db()
    assert conversation.priority == 95
    assert list(conversation.tags.values_list("name", flat=True)) == ["sla-soon"]
    client = login(admin)
    _shown(warned, conversation, client, "tagged sla-soon")
    _shown(breached, conversation, client, "priority set to 95")


def test_a_rule_on_customer_attributes_fires_when_the_crm_sets_one_over_the_api(
    worker_env, celery_worker, telegram_channel, admin, agent, login, org_a
):
    rule = _rule(
        org_a,
        admin,
        "VIP first",
        Trigger.CUSTOMER_CHANGED,
        [{"field": "customer_attribute", "key": "plan", "op": "eq", "value": "vip"}],
        [{"type": "set_priority", "value": "85"}, {"type": "tag", "value": "vip"}],
    )
    customer = CustomerFactory(organization=org_a, attributes={"plan": "basic"})
    conversation = ConversationFactory(channel=telegram_channel, customer=customer, priority=20)
    MessageFactory(conversation=conversation, text="About my subscription")
    _, key = api_token_create(membership=agent, name="crm", issuer=admin)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")

    # When the CRM sets the plan to vip
    response = api.patch(f"/api/v1/customers/{customer.pk}/", {"attributes": {"plan": "vip"}}, format="json")
    assert response.status_code == 200 and response.json()["attributes"] == {"plan": "vip"}
    run = wait_for(lambda: RuleRun.objects.filter(rule=rule).first(), what="the attribute rule")
    assert run.conversation_id == conversation.pk and run.event == Trigger.CUSTOMER_CHANGED
    conversation.refresh_from_db()
    assert conversation.priority == 85
    assert AuditEvent.objects.filter(action="customer.updated", target_id=str(customer.pk)).count() == 1
    _shown(rule, conversation, login(admin), "priority set to 85", "tagged vip")
    # A bad value is refused with a reason
    refused = api.patch(f"/api/v1/customers/{customer.pk}/", {"attributes": {"plan": [1, 2]}}, format="json")
    assert refused.status_code == 400
