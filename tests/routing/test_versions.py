"""Routing's changes to a conversation are changes like an agent's: each gives the conversation a new version
(the workspace's conflict detection) and the open pages hear of it (conversations_changed); a priority
change applies the SLA policy of its new level, the resolution deadline included."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import Role
from apps.conversations.hooks import conversations_changed
from apps.conversations.models import Conversation
from apps.conversations.services import ConversationChanged, conversation_set_priority, conversation_set_team
from apps.core.models import AuditEvent
from apps.routing.models import ConversationSLA, SLAPolicy, TeamRouting
from apps.routing.services import (
    conversation_auto_assign,
    routing_setting_save,
    sla_check,
    sla_priority_changed,
    sla_row_ensure,
    team_routing_save,
)
from tests.factories import ConversationFactory, MessageFactory, TeamFactory, membership_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard():
    """The conversations the open pages were told about (the hook's receivers, as the inbox's)."""
    told: list[int] = []

    def receiver(conversations):
        told.extend(c.pk for c in conversations)

    conversations_changed.connect(receiver)
    yield told
    conversations_changed.disconnect(receiver)


def _version(conversation) -> int:
    return Conversation.objects.values_list("version", flat=True).get(pk=conversation.pk)


def test_a_team_set_by_a_rule_or_the_router_is_a_new_version_the_pages_hear_of(
    org_a, brand_a, heard, django_capture_on_commit_callbacks
):
    team = TeamFactory(organization=org_a, name="Care")
    conversation = ConversationFactory(channel__brand=brand_a)
    seen = _version(conversation)
    with django_capture_on_commit_callbacks(execute=True):
        conversation_set_team(conversation=conversation, team=team, actor=None)
    assert _version(conversation) == seen + 1 and heard == [conversation.pk]
    # An agent acting on what they saw before is told it changed.
    with pytest.raises(ConversationChanged):
        conversation_set_priority(conversation=conversation, priority=50, actor=None, seen_version=seen)

    # The router puts a conversation in its team's queue (nobody online): a new version too.
    queue = TeamFactory(organization=org_a, name="Desk")
    team_routing_save(team=queue, actor=None, strategy=TeamRouting.Strategy.ROUND_ROBIN)
    waiting = ConversationFactory(channel__brand=brand_a)
    before, heard[:] = _version(waiting), []
    with django_capture_on_commit_callbacks(execute=True):
        assert conversation_auto_assign(waiting, reason="new message") is None
    waiting.refresh_from_db()
    assert waiting.team == queue and waiting.version == before + 1 and heard == [waiting.pk]

    # ...and an assignment by the router one more.
    agent = membership_create(org_a, Role.COMMUNITY_MANAGER, username="ann")
    queue.members.add(agent.user)
    from apps.routing.services import availability_set

    availability_set(membership=agent, status="online", actor=agent.user)
    heard[:] = []
    with django_capture_on_commit_callbacks(execute=True):
        assert conversation_auto_assign(waiting, reason="an agent came online") is not None
    waiting.refresh_from_db()
    assert waiting.assignee == agent.user and waiting.version == before + 2 and waiting.pk in heard


def _policies(org_a):
    routing_setting_save(
        instance=SLAPolicy(
            organization=org_a, name="Normal", first_response_minutes=240, resolution_minutes=24 * 60
        ),
        actor=None,
    )
    routing_setting_save(
        instance=SLAPolicy(
            organization=org_a,
            name="Urgent",
            priority_level="urgent",
            first_response_minutes=15,
            resolution_minutes=120,
        ),
        actor=None,
    )


def test_a_priority_set_by_hand_applies_the_urgent_policy_to_both_deadlines_under_one_version(
    org_a, brand_a, heard, django_capture_on_commit_callbacks
):
    _policies(org_a)
    sent = timezone.now() - timedelta(minutes=5)
    conversation = ConversationFactory(channel__brand=brand_a, sla_due_at=sent + timedelta(minutes=240))
    MessageFactory(conversation=conversation, sent_at=sent)
    row = sla_row_ensure(conversation)
    assert row.policy.name == "Normal" and row.resolution_due_at == sent + timedelta(hours=24)
    seen = _version(conversation)

    with django_capture_on_commit_callbacks(execute=True):
        conversation_set_priority(conversation=conversation, priority=90, actor=None, seen_version=seen)
    conversation.refresh_from_db()
    row = ConversationSLA.objects.get(pk=conversation.pk)
    assert conversation.sla_due_at == sent + timedelta(minutes=15)
    assert row.policy.name == "Urgent" and row.resolution_due_at == sent + timedelta(minutes=120)
    assert conversation.version == seen + 1 and heard == [conversation.pk]
    explanation = AuditEvent.objects.get(action="routing.sla_policy").data["explanation"]
    assert "“Urgent” applies" in explanation and "resolution due at" in explanation

    # Back to low: the response deadline stays (never pushed back), the resolution target is the normal one.
    with django_capture_on_commit_callbacks(execute=True):
        conversation_set_priority(conversation=conversation, priority=10, actor=None)
    conversation.refresh_from_db()
    row.refresh_from_db()
    assert conversation.sla_due_at == sent + timedelta(minutes=15)
    assert row.policy.name == "Normal" and row.resolution_due_at == sent + timedelta(hours=24)


def test_the_classifier_and_an_escalation_moving_deadlines_give_new_versions(
    org_a, brand_a, heard, django_capture_on_commit_callbacks
):
    _policies(org_a)
    sent = timezone.now() - timedelta(minutes=5)
    conversation = ConversationFactory(channel__brand=brand_a, sla_due_at=sent + timedelta(minutes=240))
    MessageFactory(conversation=conversation, sent_at=sent)
    sla_row_ensure(conversation)
    seen = _version(conversation)
    Conversation.objects.filter(pk=conversation.pk).update(priority=90)  # what the classifier writes
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_priority_changed(conversation_ids=[conversation.pk]) == 1
    assert _version(conversation) == seen + 1 and heard == [conversation.pk]
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_priority_changed(conversation_ids=[conversation.pk]) == 0  # the same level again

    routing_setting_save(
        instance=SLAPolicy(
            organization=org_a,
            brand=brand_a,
            name="Escalating",
            first_response_minutes=10,
            escalate_notify=False,
            escalate_raise_priority=True,
        ),
        actor=None,
    )
    late = ConversationFactory(channel__brand=brand_a, sla_due_at=timezone.now() - timedelta(minutes=1))
    before, heard[:] = _version(late), []
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_check()["breached"] == 1
    late.refresh_from_db()
    assert late.priority == 75 and late.version == before + 1 and late.pk in heard
