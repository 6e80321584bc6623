"""Triage learns from what a brand's agents did, through the real worker: conversations they answered and
conversations closed without an answer become examples on the nightly run, a brand model is trained with
held-out figures, the brand's next messages are decided by it (and another brand's are not), and a rollback
brings the default back."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.classification.models import ClassifierVersion, Task, TrainingExample
from apps.classification.services import classifier_deactivate
from apps.classification.tasks import classify_messages_task, retrain_due_task
from apps.conversations.models import Conversation, Message
from tests.factories import BrandFactory, ChannelFactory, ConversationFactory, MessageFactory

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

PRAISE = [
    "Thank you so much, your team is amazing!",
    "I love this brand, best purchase I made this year",
    "Huge thanks to the support team, brilliant service",
    "You guys are fantastic, keep it up!",
    "Absolutely love the new version, great job",
    "Best customer service ever, thank you!",
    "Really happy with my order, thanks a lot",
    "Wonderful experience, I recommend you to everyone",
    "So grateful for your help today, you are the best",
    "Amazing quality, thank you for making this",
    "Great app, love it, thank you team",
    "Thanks for the fast delivery, superb!",
]
SPAM = [
    "WIN a FREE iPhone now!!! click here http://win.example",
    "Cheap followers, 10k for $5, DM me",
    "Earn $500 a day from home, click the link in bio",
    "Crypto giveaway!!! send 1 BTC get 2 back",
    "Hot singles in your area click now",
    "Buy cheap watches replica best price visit my site",
]


def _wait_for(predicate, timeout=180, what="timed out"):
    deadline = time.monotonic() + timeout
    while not (found := predicate()):
        assert time.monotonic() < deadline, what
        time.sleep(0.5)
    return found


def _conversation(channel, text, *, sent_at):
    conversation = ConversationFactory(channel=channel, last_message_at=sent_at)
    return MessageFactory(conversation=conversation, text=text, language="en", sent_at=sent_at)


def _classify(messages):
    classify_messages_task.delay([m.pk for m in messages]).get(timeout=180)


def test_a_brand_learns_from_what_its_agents_answered_and_can_roll_back(org_a, celery_worker):
    thankful = BrandFactory(organization=org_a, name="Zest")  # its agents thank every fan
    other = BrandFactory(organization=org_a, name="Other")
    channel, other_channel = ChannelFactory(brand=thankful), ChannelFactory(brand=other)
    long_ago = timezone.now() - timedelta(days=3)
    history = [_conversation(channel, text, sent_at=long_ago) for text in PRAISE + SPAM]
    _classify(history)
    # Given: by default, praise needs no reply (it may get one), spam needs none.
    decided = {m.text: m.needs_reply for m in Message.objects.filter(pk__in=[m.pk for m in history])}
    assert "reply" not in {decided[text] for text in PRAISE}
    assert {decided[text] for text in SPAM} == {"no_reply"}
    # The agents answered the praise and closed the spam without a word.
    for message in history:
        if message.text in PRAISE:
            MessageFactory(
                conversation=message.conversation,
                direction=Message.Direction.OUTBOUND,
                text="Thank you, that means a lot to us!",
                sent_at=long_ago + timedelta(minutes=20),
            )
    Conversation.objects.filter(pk__in=[m.conversation_id for m in history]).update(status="closed")

    # When: the nightly run (the beat's retrain-classifiers entry) goes through the worker.
    assert retrain_due_task.delay().get(timeout=120) >= 1
    version = _wait_for(
        lambda: ClassifierVersion.objects.filter(
            brand=thankful, task=Task.NEEDS_REPLY, status=ClassifierVersion.Status.READY, is_active=True
        ).first(),
        what="no triage model was trained for the brand",
    )
    examples = TrainingExample.objects.filter(brand=thankful, task=Task.NEEDS_REPLY)
    assert examples.filter(source=TrainingExample.Source.BEHAVIOUR, label="reply").count() == len(PRAISE)
    assert examples.filter(source=TrainingExample.Source.BEHAVIOUR, label="no_reply").count() == len(SPAM)
    # Its held-out figures stand next to the default's it replaces.
    assert version.metrics["held_out"] > 0
    before = version.metrics["before"]["per_label"]["reply"]["recall"]
    after = version.metrics["after"]["per_label"]["reply"]["recall"]
    assert after > before

    # Then: this brand's new praise needs a reply; another brand's still does not.
    fresh = _conversation(channel, "Thank you, you are the best brand ever!", sent_at=timezone.now())
    elsewhere = _conversation(
        other_channel, "Thank you, you are the best brand ever!", sent_at=timezone.now()
    )
    _classify([fresh, elsewhere])
    fresh.refresh_from_db()
    elsewhere.refresh_from_db()
    assert fresh.needs_reply == "reply"
    assert fresh.classification["needs_reply"]["model"] == "default + brand v1"
    assert elsewhere.needs_reply != "reply"

    # A rollback: the brand goes back to the default.
    classifier_deactivate(organization=org_a, brand=thankful, task=Task.NEEDS_REPLY)
    again = _conversation(channel, "Thank you, you are the best brand ever!", sent_at=timezone.now())
    _classify([again])
    again.refresh_from_db()
    assert again.needs_reply != "reply" and again.classification["needs_reply"]["model"] == "default"
