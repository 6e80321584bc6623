"""Triage's decision as a rule condition, through the real worker: messages are classified on the worker,
the "message.classified" hook queues the rules, and only the conversation that needs a reply is tagged."""

import pytest

from apps.automation.models import Rule, RuleRun, Trigger
from apps.automation.registry import RuleInvalid, condition_clean
from apps.automation.services import rule_save
from apps.classification.tasks import classify_messages_task
from apps.conversations.models import Conversation
from tests.factories import ChannelFactory, ConversationFactory, MessageFactory

from .conftest import wait_for

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def test_a_rule_tags_what_needs_a_reply_and_leaves_the_rest(worker_env, celery_worker, admin, org_a, brand_a):
    rule = rule_save(
        rule=Rule(
            organization=org_a,
            name="Needs a reply",
            trigger=Trigger.MESSAGE_CLASSIFIED,
            conditions=[{"field": "needs_reply", "op": "in", "value": "reply"}],
            actions=[{"type": "tag", "value": "answer-me"}],
        ),
        actor=admin.user,
    )
    channel = ChannelFactory(brand=brand_a)
    question = MessageFactory(
        conversation=ConversationFactory(channel=channel), text="Where is my order? It is two weeks late."
    )
    spam = MessageFactory(
        conversation=ConversationFactory(channel=channel), text="WIN a FREE iPhone now!!! click here"
    )
    classify_messages_task.delay([question.pk, spam.pk]).get(timeout=180)

    run = wait_for(lambda: RuleRun.objects.filter(rule=rule).first(), what="the rule to run")
    assert run.conversation_id == question.conversation_id
    tagged = Conversation.objects.get(pk=question.conversation_id)
    assert list(tagged.tags.values_list("name", flat=True)) == ["answer-me"]
    assert not Conversation.objects.get(pk=spam.conversation_id).tags.exists()

    with pytest.raises(RuleInvalid, match="choose among"):
        condition_clean({"field": "needs_reply", "op": "in", "value": "perhaps"}, org_a)
