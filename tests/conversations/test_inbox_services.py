"""The services behind the inbox list's bulk actions and merge, and the labels copied onto conversations."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import Role
from apps.conversations.models import Conversation, Message
from apps.conversations.services import (
    BULK_LIMIT,
    ConversationActionError,
    conversations_bulk_assign,
    conversations_bulk_tag,
    conversations_merge,
    conversations_refresh_labels,
)
from apps.core.models import AuditEvent
from tests.factories import (
    BrandFactory,
    ChannelFactory,
    ConversationFactory,
    CustomerFactory,
    MessageFactory,
    membership_create,
)

pytestmark = pytest.mark.django_db


def ago(hours: float):
    return timezone.now() - timedelta(hours=hours)


@pytest.fixture
def agent(org_a):
    return membership_create(org_a, Role.COMMUNITY_MANAGER).user


@pytest.fixture
def channel(brand_a):
    return ChannelFactory(brand=brand_a)


def test_labels_come_from_the_latest_labelled_inbound_message(channel):
    conversation = ConversationFactory(channel=channel)
    inbound = {"conversation": conversation, "direction": Message.Direction.INBOUND}
    MessageFactory(**inbound, sent_at=ago(5), sentiment="positive", intent="praise", language="en")
    MessageFactory(**inbound, sent_at=ago(3), sentiment="negative", intent="complaint", language="es")
    MessageFactory(**inbound, sent_at=ago(2), language="pt")  # not classified yet
    MessageFactory(**inbound, sent_at=ago(1.5), language="und")  # no language to go on
    MessageFactory(conversation=conversation, direction="outbound", sent_at=ago(1), language="de")
    untouched = ConversationFactory(channel=channel, sentiment="neutral")

    assert conversations_refresh_labels(conversation_ids=[conversation.pk]) == 1

    conversation.refresh_from_db(), untouched.refresh_from_db()
    assert (conversation.sentiment, conversation.intent, conversation.language) == (
        "negative",
        "complaint",
        "pt",
    )
    assert untouched.sentiment == "neutral"


def test_a_conversation_without_inbound_messages_has_no_labels(channel):
    conversation = ConversationFactory(channel=channel, sentiment="negative", intent="spam", language="en")

    conversations_refresh_labels(conversation_ids=[conversation.pk])

    conversation.refresh_from_db()
    assert (conversation.sentiment, conversation.intent, conversation.language) == ("", "", "")


def test_merge_keeps_the_older_thread_with_everything_of_both(org_a, channel, agent):
    customer = CustomerFactory(organization=org_a)
    older = ConversationFactory(
        channel=channel,
        customer=customer,
        status="closed",
        priority=20,
        last_message_at=ago(30),
        message_count=1,
    )
    newer = ConversationFactory(
        channel=channel,
        customer=customer,
        status="pending",
        priority=70,
        assignee=agent,
        last_message_at=ago(1),
        sla_due_at=timezone.now(),
        message_count=1,
    )
    Conversation.objects.filter(pk=newer.pk).update(created_at=ago(2))
    Conversation.objects.filter(pk=older.pk).update(created_at=ago(31))
    first = MessageFactory(conversation=older, sent_at=ago(30))
    second = MessageFactory(conversation=newer, sent_at=ago(1), sentiment="negative", intent="complaint")
    conversations_bulk_tag(conversations=[newer], name="vip", actor=agent)

    kept = conversations_merge(conversations=[newer, older], actor=agent)

    assert kept.pk == older.pk and not Conversation.objects.filter(pk=newer.pk).exists()
    assert list(kept.messages.order_by("sent_at")) == [first, second]
    assert (kept.status, kept.resolved_at, kept.priority, kept.assignee) == ("pending", None, 70, agent)
    assert (kept.message_count, kept.last_message_at, kept.sla_due_at) == (
        2,
        newer.last_message_at,
        newer.sla_due_at,
    )
    assert (kept.sentiment, kept.intent) == ("negative", "complaint")
    assert list(kept.tags.values_list("name", flat=True)) == ["vip"]
    audit = AuditEvent.objects.get(action="conversation.merged")
    assert audit.data["merged"] == newer.pk and audit.data["messages"] == [second.pk]


@pytest.mark.parametrize(
    ("make_other", "reason"),
    [
        (lambda c: ConversationFactory(channel=c.channel), "only conversations of the same customer"),
        (
            lambda c: ConversationFactory(
                channel=ChannelFactory(brand=BrandFactory(organization=c.organization)), customer=c.customer
            ),
            "conversations of different brands cannot be merged",
        ),
        (lambda c: ConversationFactory(), "conversations of different organisations cannot be merged"),
        (lambda c: c, "choose exactly two conversations"),
    ],
)
def test_merge_refuses_other_pairs_with_a_reason(channel, agent, make_other, reason):
    conversation = ConversationFactory(channel=channel)
    MessageFactory(conversation=conversation)
    other = make_other(conversation)

    with pytest.raises(ConversationActionError, match=reason):
        conversations_merge(conversations=[conversation, other], actor=agent)

    assert conversation.messages.count() == 1 and Conversation.objects.filter(pk=other.pk).exists()


def test_bulk_actions_refuse_mixed_organisations_and_too_many_at_once(channel, agent):
    ours = ConversationFactory(channel=channel)

    with pytest.raises(ConversationActionError, match="different organisations"):
        conversations_bulk_assign(conversations=[ours, ConversationFactory()], assignee=agent, actor=agent)
    many = [ConversationFactory.build(pk=n, organization=ours.organization) for n in range(1, BULK_LIMIT + 2)]
    with pytest.raises(ConversationActionError, match=f"at most {BULK_LIMIT}"):
        conversations_bulk_assign(conversations=many, assignee=agent, actor=agent)
    ours.refresh_from_db()
    assert ours.assignee is None


def test_only_agents_of_the_organisation_can_be_assigned(org_a, org_b, channel, agent):
    conversation = ConversationFactory(channel=channel)
    outsider = membership_create(org_b, Role.COMMUNITY_MANAGER).user
    marketer = membership_create(org_a, Role.MARKETER).user

    for assignee in (outsider, marketer):
        with pytest.raises(ConversationActionError, match="does not work this organisation's inbox"):
            conversations_bulk_assign(conversations=[conversation], assignee=assignee, actor=agent)


def test_bulk_assign_refuses_an_agent_limited_to_other_brands(org_a, channel, agent):
    other_brand = BrandFactory(organization=org_a, name="Other brand")
    limited = membership_create(org_a, Role.COMMUNITY_MANAGER, brands=[other_brand]).user
    conversation = ConversationFactory(channel=channel)
    with pytest.raises(ConversationActionError, match=f"does not work on {channel.brand.name}"):
        conversations_bulk_assign(conversations=[conversation], assignee=limited, actor=agent)
    conversation.refresh_from_db()
    assert conversation.assignee is None
    assert conversations_bulk_assign(conversations=[conversation], assignee=agent, actor=agent) == 1
