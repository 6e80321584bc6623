"""Triage: the needs-reply decision of each message and conversation, on the real shipped models: the day-one
default, the conversation's roll-up, the SLA and waiting time that apply to "reply" first, one-click
corrections, and the selector automation reads."""

from datetime import timedelta

import pytest

from apps.classification import triage
from apps.classification.models import Task, TrainingExample
from apps.classification.selectors import needs_reply_decision
from apps.classification.services import label_correct, messages_classify
from apps.connectors.kinds import ChannelKind
from apps.conversations.models import Conversation, Message
from apps.conversations.services import conversations_reprioritise
from apps.listening.models import Level
from apps.replies.services import reply_create
from tests.factories import ChannelFactory, ConversationFactory, MessageFactory, membership_create

pytestmark = pytest.mark.django_db


def _decide(**facts) -> str:
    head = triage.default_head()
    signals = triage.Facts(**facts).signals()
    probabilities = head.logits(triage.matrix([signals]))[0]
    return triage.LABELS[int(probabilities.argmax())]


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ({"level": "to_brand", "intent_scores": {"question": 0.9}}, "reply"),
        ({"private": True, "intent_scores": {"complaint": 0.8}, "sentiment": "negative"}, "reply"),
        ({"level": "about_brand", "intent_scores": {"praise": 0.9}, "sentiment": "positive"}, "optional"),
        ({"level": "about_brand", "intent_scores": {"complaint": 0.9}, "followers": 200_000}, "reply"),
        ({"level": "competitor", "intent_scores": {"other": 0.9}}, "no_reply"),
        ({"level": "to_brand", "intent_scores": {"spam": 0.9}}, "no_reply"),
        ({"level": "to_brand", "intent_scores": {"question": 0.9}, "answered": True}, "no_reply"),
        ({"level": "about_brand", "relevance": 0.05, "intent_scores": {"question": 0.6}}, "no_reply"),
    ],
)  # fmt: skip
def test_the_default_decides_from_the_signals_the_product_has(facts, expected):
    assert _decide(**facts) == expected


def test_a_classified_message_gets_a_decision_with_reasons_and_its_conversation_rolls_up(inbound):
    question = inbound("Hi, what time does your shop in the centre open on Sunday?")
    messages_classify(message_ids=[question.pk])
    question.refresh_from_db()
    decision = question.classification["needs_reply"]
    assert question.needs_reply == "reply" == decision["label"]
    assert 0.34 < decision["score"] <= 1 and decision["model"] == "default"
    assert "written to the brand" in decision["reasons"] and decision["signals"]["private"] == 1.0
    conversation = Conversation.objects.get(pk=question.conversation_id)
    assert conversation.needs_reply == "reply"
    assert needs_reply_decision(conversation)["decision"] == "reply"
    assert needs_reply_decision(question)["reasons"] == decision["reasons"]

    # The brand answers: nothing waits for it any more.
    agent = membership_create(question.organization).user
    reply_create(conversation=conversation, author=agent, text="Here is how: ...")
    conversation.refresh_from_db()
    assert conversation.needs_reply == "no_reply"


def test_public_chatter_about_a_competitor_needs_no_reply_and_keeps_its_sla(inbound, classify_brand):
    channel = ChannelFactory(brand=classify_brand, kind=ChannelKind.X)
    conversation = ConversationFactory(channel=channel)
    message = MessageFactory(
        conversation=conversation,
        text="Orbita's new plan is ok I guess, switching is such a hassle, terrible terrible coverage",
    )
    from apps.listening.models import Mention

    Mention.objects.create(
        organization=message.organization, message=message, brand=classify_brand, level=Level.COMPETITOR,
        competitor="Orbita",
    )  # fmt: skip
    due = message.sent_at + timedelta(hours=24)
    Conversation.objects.filter(pk=conversation.pk).update(sla_due_at=due, priority=0)
    messages_classify(message_ids=[message.pk])
    message.refresh_from_db()
    conversation.refresh_from_db()
    assert message.needs_reply == conversation.needs_reply == "no_reply"
    assert "about a competitor or the market" in message.classification["needs_reply"]["reasons"]
    # No urgent SLA and no waiting bonus for what needs no reply.
    assert conversation.sla_due_at == due
    Message.objects.filter(pk=message.pk).update(sent_at=message.sent_at - timedelta(hours=5))
    before = conversation.priority
    conversations_reprioritise()
    conversation.refresh_from_db()
    assert conversation.priority == before


def test_a_new_message_waits_visibly_until_it_is_triaged(inbound):
    first = inbound("thanks, all good now!")
    messages_classify(message_ids=[first.pk])
    from apps.classification.services import needs_reply_on_stored

    later = MessageFactory(conversation=first.conversation, text="actually, it broke again. why?")
    needs_reply_on_stored([later])
    assert Conversation.objects.get(pk=first.conversation_id).needs_reply == ""
    messages_classify(message_ids=[later.pk])
    assert Conversation.objects.get(pk=first.conversation_id).needs_reply == "reply"


def test_one_correction_changes_the_decision_and_becomes_an_example(inbound):
    message = inbound("love the new colours of the app")
    messages_classify(message_ids=[message.pk])
    agent = membership_create(message.organization).user
    label_correct(message=message, task=Task.NEEDS_REPLY, label="reply", user=agent)
    message.refresh_from_db()
    assert message.needs_reply == "reply" and message.classification["needs_reply"]["corrected"]
    assert Conversation.objects.get(pk=message.conversation_id).needs_reply == "reply"
    example = TrainingExample.objects.get(message=message, task=Task.NEEDS_REPLY)
    assert example.label == "reply" and example.source == TrainingExample.Source.CORRECTION
    with pytest.raises(ValueError, match="not one of"):
        label_correct(message=message, task=Task.NEEDS_REPLY, label="maybe", user=agent)
