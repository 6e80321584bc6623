"""Who gets a conversation: least busy by weighted load, skills and brand limits, escalation by reassignment,
agents whose app went away; and the next-response deadline of a customer who writes again."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import Role
from apps.conversations.models import Conversation
from apps.core.models import AuditEvent
from apps.ingestion.models import RawPayload
from apps.ingestion.services import payload_process
from apps.replies.services import reply_create
from apps.routing.models import AgentProfile, SLAPolicy, TeamRouting
from apps.routing.services import (
    agent_profile_get,
    agents_gone_offline,
    conversation_auto_assign,
    routing_setting_save,
    sla_check,
    sla_response_sent,
    team_routing_save,
)
from tests.factories import BrandFactory, ChannelFactory, ConversationFactory, TeamFactory, membership_create
from tests.ingestion.conftest import message

pytestmark = pytest.mark.django_db


def _agent(org, team, username, *, capacity=10, brands=(), **skills):
    membership = membership_create(org, Role.COMMUNITY_MANAGER, brands=brands, username=username)
    team.members.add(membership.user)
    profile = agent_profile_get(membership)
    AgentProfile.objects.filter(pk=profile.pk).update(status="online", capacity=capacity, **skills)
    return membership


def test_least_busy_weighs_live_chats_and_respects_skills_and_brand_limits(org_a, brand_a):
    other_brand = BrandFactory(organization=org_a)
    team = TeamFactory(organization=org_a, name="Desk")
    team_routing_save(team=team, actor=None, strategy=TeamRouting.Strategy.LEAST_BUSY)
    chat = ChannelFactory(brand=brand_a, kind="livechat")
    # Ann has two live chats (weight 2 each: load 4 of 10); Bob three emails (load 3 of 10)
    ann = _agent(org_a, team, "ann")
    bob = _agent(org_a, team, "bob")
    for _ in range(2):
        ConversationFactory(channel=chat, assignee=ann.user)
    for _ in range(3):
        ConversationFactory(channel__brand=brand_a, assignee=bob.user)
    # Cy speaks only German; Dee works only on the other brand
    _agent(org_a, team, "cy", languages=["de"])
    _agent(org_a, team, "dee", brands=[other_brand])

    conversation = ConversationFactory(channel=chat, language="en")
    assert conversation_auto_assign(conversation).user == bob.user
    explanation = AuditEvent.objects.get(action="routing.assigned").data["explanation"]
    assert (
        "least busy" in explanation
        and "load 3 + 2 of 10" in explanation
        and "among 2 available" in explanation
    )


def test_a_breach_reassigns_to_someone_else_and_explains_it(
    org_a, brand_a, django_capture_on_commit_callbacks
):
    team = TeamFactory(organization=org_a, name="Desk")
    team_routing_save(team=team, actor=None, strategy=TeamRouting.Strategy.ROUND_ROBIN)
    ann, bob = _agent(org_a, team, "ann"), _agent(org_a, team, "bob")
    routing_setting_save(
        instance=SLAPolicy(organization=org_a, name="P", first_response_minutes=10, escalate_reassign=True),
        actor=None,
    )
    conversation = ConversationFactory(
        channel__brand=brand_a, assignee=ann.user, team=team, sla_due_at=timezone.now() - timedelta(minutes=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_check() == {"warned": 0, "breached": 1}
    conversation.refresh_from_db()
    assert conversation.assignee == bob.user
    breach = AuditEvent.objects.get(action="routing.sla_breached").data["explanation"]
    assert "took it from ann to reassign it" in breach
    assert (
        "the first response was missed"
        in AuditEvent.objects.get(action="routing.assigned").data["explanation"]
    )
    # And a second check does not breach the same deadline again
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_check() == {"warned": 0, "breached": 0}


def test_an_agent_whose_app_went_away_goes_offline_and_their_conversations_back_to_the_queue(org_a, brand_a):
    team = TeamFactory(organization=org_a, name="Desk")
    team_routing_save(team=team, actor=None, strategy=TeamRouting.Strategy.ROUND_ROBIN)
    ann, bob = _agent(org_a, team, "ann"), _agent(org_a, team, "bob")
    AgentProfile.objects.filter(user=ann.user).update(last_seen_at=timezone.now() - timedelta(minutes=20))
    AgentProfile.objects.filter(user=bob.user).update(last_seen_at=timezone.now())
    conversation = ConversationFactory(channel__brand=brand_a, assignee=ann.user, team=team)
    assert agents_gone_offline() == 1
    assert AgentProfile.objects.get(user=ann.user).status == "offline"
    conversation.refresh_from_db()
    assert conversation.assignee == bob.user


def test_a_customer_writing_again_after_a_reply_gets_the_next_response_target(org_a, brand_a):
    routing_setting_save(
        instance=SLAPolicy(
            organization=org_a, brand=brand_a, name="P", first_response_minutes=240, next_response_minutes=30
        ),
        actor=None,
    )
    channel = ChannelFactory(brand=brand_a, kind="webhook", credentials={"signing_secret": "s"})
    agent = membership_create(org_a, Role.COMMUNITY_MANAGER, username="ann").user

    def receive(n, at):
        payload = RawPayload.objects.create(
            organization=org_a,
            channel=channel,
            source=RawPayload.Source.WEBHOOK,
            body=json.dumps({"messages": [message(n, thread_id="t", sent_at=at.isoformat())]}).encode(),
        )
        payload_process(payload_id=payload.pk)

    first = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    receive(1, first)
    conversation = Conversation.objects.get()
    assert conversation.sla_due_at == first + timedelta(minutes=240)
    reply = reply_create(conversation=conversation, author=agent, text="On it")
    sla_response_sent(reply)  # what the reply's messages_changed hook does once committed
    conversation.refresh_from_db()
    assert conversation.sla_due_at is None
    again = timezone.now()
    receive(2, again)
    conversation.refresh_from_db()
    assert abs(conversation.sla_due_at - (again + timedelta(minutes=30))) < timedelta(seconds=1)


def test_a_customer_answering_a_pending_conversation_opens_it_and_restarts_its_clock(
    org_a, brand_a, django_capture_on_commit_callbacks
):
    from apps.conversations.services import conversations_bulk_set_status
    from apps.routing.models import ConversationSLA
    from apps.routing.services import conversations_customer_answered, sla_row_ensure

    agent = membership_create(org_a, Role.COMMUNITY_MANAGER, username="ann").user
    due = timezone.now() + timedelta(hours=1)
    conversation = ConversationFactory(channel__brand=brand_a, sla_due_at=due)
    sla_row_ensure(conversation)
    with django_capture_on_commit_callbacks(execute=True):
        conversations_bulk_set_status(conversations=[conversation], status="pending", actor=agent)
    assert ConversationSLA.objects.get().paused_at is not None
    with django_capture_on_commit_callbacks(execute=True):
        assert conversations_customer_answered(conversation_ids=[conversation.pk]) == 1
    conversation.refresh_from_db()
    assert conversation.status == "open" and conversation.sla_due_at >= due
    assert ConversationSLA.objects.get().paused_at is None
    assert AuditEvent.objects.filter(action="routing.customer_answered").exists()


def test_a_message_classified_urgent_brings_the_deadline_forward_to_the_urgent_policy(org_a, brand_a):
    from apps.routing.services import sla_priority_changed

    routing_setting_save(
        instance=SLAPolicy(organization=org_a, name="Normal", first_response_minutes=240), actor=None
    )
    routing_setting_save(
        instance=SLAPolicy(
            organization=org_a, name="Urgent", priority_level="urgent", first_response_minutes=15
        ),
        actor=None,
    )
    sent = timezone.now() - timedelta(minutes=5)
    conversation = ConversationFactory(channel__brand=brand_a, sla_due_at=sent + timedelta(minutes=240))
    from tests.factories import MessageFactory

    MessageFactory(conversation=conversation, sent_at=sent)
    assert sla_priority_changed(conversation_ids=[conversation.pk]) == 0  # priority 0: no change
    Conversation.objects.filter(pk=conversation.pk).update(priority=90)  # what the classifier writes
    assert sla_priority_changed(conversation_ids=[conversation.pk]) == 1
    conversation.refresh_from_db()
    assert conversation.sla_due_at == sent + timedelta(minutes=15)
    assert "“Urgent” applies" in AuditEvent.objects.get(action="routing.sla_policy").data["explanation"]
