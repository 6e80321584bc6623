"""Auto-assignment through the real pipeline: signed webhooks, a real Celery worker, the agents' own
availability control."""

import time

import pytest

from apps.accounts.models import Role
from apps.conversations.models import Conversation
from apps.core.models import AuditEvent
from apps.routing.models import AgentProfile, TeamRouting
from apps.routing.services import agent_profile_get, team_routing_save
from tests.factories import TeamFactory, membership_create
from tests.ingestion.conftest import message

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def _wait_for(predicate, timeout=120, what="timed out"):
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        assert time.monotonic() < deadline, what
        time.sleep(0.3)
    return result


def _loads(*memberships) -> list[int]:
    return [
        Conversation.objects.filter(assignee=m.user, status=Conversation.Status.OPEN).count()
        for m in memberships
    ]


def test_round_robin_spreads_100_conversations_over_3_agents_within_capacity_and_skips_the_one_offline(
    org_a, brand_a, webhook_channel, post_signed, celery_worker, client
):
    # Given a round-robin team of three online agents, Ann with room for 45 conversations
    team = TeamFactory(organization=org_a, name="Support")
    agents = []
    for name, capacity in (("ann", 45), ("bob", 60), ("cy", 60)):
        membership = membership_create(org_a, Role.COMMUNITY_MANAGER, username=name)
        team.members.add(membership.user)
        profile = agent_profile_get(membership)
        AgentProfile.objects.filter(pk=profile.pk).update(status="online", capacity=capacity)
        agents.append(membership)
    ann, bob, cy = agents
    team_routing_save(team=team, actor=None, strategy=TeamRouting.Strategy.ROUND_ROBIN)

    # When 30 customers write in
    body = {"messages": [message(n) for n in range(30)]}
    assert post_signed(webhook_channel, body).status_code == 200
    _wait_for(lambda: Conversation.objects.filter(assignee__isnull=False).count() == 30, what="first 30")
    # Then each agent has ten
    assert _loads(ann, bob, cy) == [10, 10, 10]

    # When Cy goes offline from the header's control
    client.force_login(cy.user)
    response = client.post("/org/routing/availability/", {"status": "offline"})
    assert response.status_code == 200 and b'value="offline" selected' in response.content
    # Then Cy's ten go back to the queue and on to Ann and Bob, five each
    assert _loads(ann, bob, cy) == [15, 15, 0]

    # When 70 more customers write in
    body = {"messages": [message(n) for n in range(30, 100)]}
    assert post_signed(webhook_channel, body).status_code == 200
    _wait_for(lambda: Conversation.objects.filter(assignee__isnull=False).count() == 100, what="all 100")
    # Then they alternate until Ann is at capacity, and the rest go to Bob; Cy gets none
    assert _loads(ann, bob, cy) == [45, 55, 0]
    # And every assignment is explained in its conversation's activity
    explained = AuditEvent.objects.filter(action="routing.assigned")
    assert explained.count() == 110  # 100 new, 10 reassigned
    sample = explained.filter(data__assignee=ann.user_id).order_by("-pk").first().data["explanation"]
    assert "round-robin" in sample and "ann" in sample and "of 45" in sample
    requeued = AuditEvent.objects.filter(action="routing.requeued")
    assert requeued.count() == 10 and "cy went offline" in requeued.first().data["explanation"]


def test_a_conversation_waits_in_the_queue_when_nobody_fits_and_says_why(
    org_a, brand_a, webhook_channel, post_signed, celery_worker
):
    team = TeamFactory(organization=org_a, name="Night shift")
    membership = membership_create(org_a, Role.COMMUNITY_MANAGER, username="dee")
    team.members.add(membership.user)
    agent_profile_get(membership)  # offline
    team_routing_save(team=team, actor=None, strategy=TeamRouting.Strategy.LEAST_BUSY)
    assert post_signed(webhook_channel, {"messages": [message(1)]}).status_code == 200
    queued = _wait_for(lambda: AuditEvent.objects.filter(action="routing.queued").first())
    assert "no agent of the team is online" in queued.data["explanation"]
    conversation = Conversation.objects.get()
    assert conversation.assignee is None and conversation.team_id == team.pk
