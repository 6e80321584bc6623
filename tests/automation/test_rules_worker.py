"""Rules through the real path: a signed Telegram webhook → ingestion on a real worker → the hooks → the
automation task on the worker → the rule's actions, in the conversation's activity and the audit log."""

import json
import time

import pytest
from django.urls import reverse

from apps.automation.models import Rule, RuleRun, Trigger
from apps.automation.services import MAX_CHAIN, RUNS_PER_HOUR, rule_save
from apps.connectors.webhook.connector import sign
from apps.conversations.models import Conversation, Message
from apps.core.models import AuditEvent
from apps.customers.kinds import ChannelKind
from tests.factories import ChannelFactory
from tests.fakes.telegram import message_update, private_message

from .conftest import wait_for

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def test_a_rule_fires_on_a_real_inbound_webhook_and_its_actions_show_in_the_activity(
    worker_env, celery_worker, telegram, telegram_channel, post_update, receiver, admin, login, org_a
):
    # Given a rule on received messages that speak of a refund (and one that never matches)
    rule = rule_save(
        rule=Rule(
            organization=org_a,
            name="Refunds to the top",
            trigger=Trigger.MESSAGE_RECEIVED,
            conditions=[
                {"field": "text", "op": "contains", "value": "refund"},
                {"field": "channel", "op": "in", "value": "telegram"},
            ],
            actions=[
                {"type": "tag", "value": "refunds"},
                {"type": "set_priority", "value": "80"},
                {"type": "add_note", "value": "Refund asked: check the order first."},
                {"type": "webhook", "value": receiver.hook_url},
            ],
        ),
        actor=admin.user,
    )
    rule_save(
        rule=Rule(
            organization=org_a,
            name="Never",
            trigger=Trigger.MESSAGE_RECEIVED,
            conditions=[{"field": "language", "op": "in", "value": "xx"}],
            actions=[{"type": "tag", "value": "never"}],
        ),
        actor=admin.user,
    )

    # When the customer writes through the platform's signed webhook
    response = post_update(telegram_channel, message_update(7001, private_message(41, "I want a refund now")))
    assert response.status_code == 200

    # Then the worker applied the rule's actions
    run = wait_for(lambda: RuleRun.objects.filter(rule=rule).first(), what="the rule to run")
    conversation = Conversation.objects.get(pk=run.conversation_id)
    assert [o["ok"] for o in run.outcomes] == [True, True, True, True]
    assert list(conversation.tags.values_list("name", flat=True)) == ["refunds"]
    assert conversation.priority == 80
    note = Message.objects.get(conversation=conversation, direction=Message.Direction.NOTE)
    assert note.text == "Refund asked: check the order first." and note.author_user is None
    wait_for(lambda: receiver.requests, what="the webhook call")
    assert receiver.requests[0].json()["conversation"]["id"] == conversation.pk
    assert receiver.requests[0].json()["rule"] == rule.pk
    # … each in the audit log and in the conversation's activity on its page
    applied = AuditEvent.objects.get(action="automation.rule_applied", target_id=str(conversation.pk))
    assert applied.actor is None and applied.data["rule"] == rule.pk
    assert (
        "Refunds to the top" in applied.data["explanation"]
        and "tagged refunds" in applied.data["explanation"]
    )
    assert AuditEvent.objects.filter(action="conversation.tagged", target_id=str(conversation.pk)).exists()
    wait_for(
        lambda: (
            AuditEvent.objects.filter(action="automation.webhook_called", target_id=str(conversation.pk))
            .filter(data__ok=True)
            .exists()
        ),
        what="the webhook's outcome in the activity",
    )
    page = login(admin).get(reverse("inbox:conversation", args=[conversation.pk])).content.decode()
    assert 'id="conversation-activity"' in page
    assert "Rule “Refunds to the top” (a message is received): tagged refunds; priority set to 80" in page
    assert "answered HTTP 200" in page
    assert not RuleRun.objects.exclude(rule=rule).exists()


def test_rules_that_answer_each_other_stop_and_a_rule_never_retriggers_itself(
    worker_env, celery_worker, telegram, telegram_channel, post_update, admin, org_a
):
    # Given two rules on conversation changes that undo each other's work, and one that changes what
    # would trigger itself
    ping = rule_save(
        rule=Rule(
            organization=org_a,
            name="Ping",
            trigger=Trigger.CONVERSATION_CHANGED,
            actions=[{"type": "set_priority", "value": "10"}],
        ),
        actor=admin.user,
    )
    pong = rule_save(
        rule=Rule(
            organization=org_a,
            name="Pong",
            trigger=Trigger.CONVERSATION_CHANGED,
            actions=[{"type": "set_priority", "value": "90"}],
        ),
        actor=admin.user,
    )
    start = rule_save(
        rule=Rule(
            organization=org_a,
            name="Tag what arrives",
            trigger=Trigger.MESSAGE_RECEIVED,
            actions=[{"type": "tag", "value": "seen"}],
        ),
        actor=admin.user,
    )

    # When a message arrives (the tag is a conversation change: Ping and Pong start answering each other)
    post_update(telegram_channel, message_update(7002, private_message(42, "hello")))
    wait_for(lambda: RuleRun.objects.filter(rule=start).exists(), what="the first rule")
    time.sleep(6)  # long enough for an endless loop to show

    # Then the chain stopped within its depth: each rule ran a bounded number of times
    runs = RuleRun.objects.filter(rule__in=[ping, pong]).count()
    assert 1 <= runs <= 2 * MAX_CHAIN
    assert RuleRun.objects.filter(rule=start).count() == 1


def test_later_rules_see_what_earlier_ones_did_refusals_are_recorded_and_the_hourly_cap_holds(
    worker_env, celery_worker, telegram, telegram_channel, post_update, admin, org_a
):
    def rule(name, position, conditions, actions):
        return rule_save(
            rule=Rule(
                organization=org_a,
                name=name,
                trigger=Trigger.MESSAGE_RECEIVED,
                position=position,
                conditions=conditions,
                actions=actions,
            ),
            actor=admin.user,
        )

    # Given rules in order: the second tests the tag the first sets; two take an action that is refused
    # (a tag name too long), one alone, one beside an action that works; one never matches
    urgent = [{"field": "text", "op": "contains", "value": "urgent"}]
    vip = rule("VIP", 0, urgent, [{"type": "tag", "value": "vip"}])
    noted = rule(
        "Note VIPs",
        1,
        [{"field": "tag", "op": "in", "value": "vip"}, {"field": "channel", "op": "in", "value": "telegram"}],
        [{"type": "add_note", "value": "A VIP wrote."}],
    )
    refused = rule("Refused", 2, urgent, [{"type": "tag", "value": "x" * 61}])
    half = rule(
        "Half", 3, urgent, [{"type": "tag", "value": "y" * 61}, {"type": "set_priority", "value": "70"}]
    )
    never = rule(
        "Never", 4, [{"field": "tag", "op": "in", "value": "nobody"}], [{"type": "tag", "value": "no"}]
    )

    # When an urgent message arrives through the platform's webhook
    post_update(telegram_channel, message_update(7101, private_message(51, "urgent: my order is lost")))
    run = wait_for(lambda: RuleRun.objects.filter(rule=half).first(), what="the last rule to run")

    # Then the rule after the tagging one saw the tag, in the same run
    conversation = Conversation.objects.get(pk=run.conversation_id)
    assert RuleRun.objects.get(rule=noted).outcomes == [
        {"type": "add_note", "ok": True, "did": "added a note"}
    ]
    assert (
        Message.objects.get(conversation=conversation, direction=Message.Direction.NOTE).text
        == "A VIP wrote."
    )
    # … a refused action is recorded with its reason, alone or beside one that went on
    alone = RuleRun.objects.get(rule=refused).outcomes
    assert alone == [{"type": "tag", "ok": False, "did": "a tag is 1 to 60 characters long"}]
    assert [o["ok"] for o in run.outcomes] == [False, True]
    assert list(conversation.tags.values_list("name", flat=True)) == ["vip"] and conversation.priority == 70
    explanations = AuditEvent.objects.filter(
        action="automation.rule_applied", target_id=str(conversation.pk)
    ).values_list("data__explanation", flat=True)
    assert (
        "Rule “Refused” (a message is received): tag refused: a tag is 1 to 60 characters long"
        in explanations
    )
    assert not RuleRun.objects.filter(rule=never).exists()

    # Given the first rule acted on the conversation as often as an hour allows
    RuleRun.objects.bulk_create(
        RuleRun(organization=org_a, rule=vip, conversation=conversation, event=Trigger.MESSAGE_RECEIVED)
        for _ in range(RUNS_PER_HOUR - 1)
    )
    # When the customer writes again
    post_update(telegram_channel, message_update(7102, private_message(52, "urgent again")))
    wait_for(lambda: RuleRun.objects.filter(rule=half).count() == 2, what="the second message's rules")

    # Then that rule is capped (the others still ran)
    assert RuleRun.objects.filter(rule=vip).count() == RUNS_PER_HOUR
    assert RuleRun.objects.filter(rule=refused).count() == 2


def test_a_rule_matching_several_conversations_of_one_delivery_acts_on_each_and_records_each(
    worker_env, celery_worker, client, brand_a, admin, org_a
):
    # Given an API channel, a rule that tags orders and one whose action is refused (a tag name too long)
    secret = {"signing_secret": "s3cret"}
    channel = ChannelFactory(brand=brand_a, kind=ChannelKind.WEBHOOK, credentials=secret)
    orders = [{"field": "text", "op": "contains", "value": "order"}]
    tagged = rule_save(
        rule=Rule(
            organization=org_a,
            name="Orders",
            trigger=Trigger.MESSAGE_RECEIVED,
            conditions=orders,
            actions=[{"type": "tag", "value": "orders"}],
        ),
        actor=admin.user,
    )
    refused = rule_save(
        rule=Rule(
            organization=org_a,
            name="Too long",
            trigger=Trigger.MESSAGE_RECEIVED,
            position=200,
            conditions=orders,
            actions=[{"type": "tag", "value": "z" * 61}],
        ),
        actor=admin.user,
    )

    # When one signed delivery brings messages of three customers (three conversations, one batch)
    body = json.dumps(
        {
            "messages": [
                {
                    "id": f"m{n}",
                    "thread_id": f"t{n}",
                    "text": f"Where is my order {n}?",
                    "sent_at": "2026-11-20T10:00:00Z",
                    "author": {"id": f"u{n}", "handle": f"@u{n}", "name": f"User {n}"},
                }
                for n in range(3)
            ]
        }
    ).encode()
    timestamp = str(int(time.time()))
    response = client.post(
        f"/hooks/{channel.webhook_token}/",
        body,
        content_type="application/json",
        HTTP_X_CXM_TIMESTAMP=timestamp,
        HTTP_X_CXM_SIGNATURE=sign("s3cret", timestamp, body),
    )
    assert response.status_code == 200
    wait_for(lambda: RuleRun.objects.filter(rule=refused).count() == 3, what="both rules on the three")

    # Then each conversation is tagged, with its own run and audit rows; the refusal is recorded for each
    conversations = Conversation.objects.filter(channel=channel)
    assert conversations.count() == 3
    for conversation in conversations:
        assert list(conversation.tags.values_list("name", flat=True)) == ["orders"]
        assert RuleRun.objects.get(rule=tagged, conversation=conversation).outcomes == [
            {"type": "tag", "ok": True, "did": "tagged orders"}
        ]
        assert RuleRun.objects.get(rule=refused, conversation=conversation).outcomes[0]["ok"] is False
        audit = AuditEvent.objects.filter(target_id=str(conversation.pk))
        assert audit.filter(action="conversation.tagged").count() == 1
        assert audit.filter(action="automation.rule_applied").count() == 2
