"""Macros and the conversations' versions (issue 16): a macro run carries the versions its agent saw, like
every conversation action, and refuses (409, nothing done, who changed what) when a colleague changed one."""

import pytest
from django.urls import reverse

from apps.accounts.models import Role
from apps.conversations.models import Conversation
from apps.conversations.services import conversation_assign_to, conversation_set_priority
from apps.replies.models import Macro, MacroRun, Scope
from tests.factories import ChannelFactory, membership_create

from .conftest import conversation_on

pytestmark = pytest.mark.django_db


@pytest.fixture
def colleague(org_a):
    membership = membership_create(org_a, Role.COMMUNITY_MANAGER)
    membership.user.first_name, membership.user.last_name = "Marta", "Ruiz"
    membership.user.save()
    return membership


@pytest.fixture
def two_conversations(brand_a):
    channel = ChannelFactory(brand=brand_a)
    return [conversation_on(channel, text="Where is my parcel?", subject=f"Parcel {n}") for n in (1, 2)]


def _macro(org_a) -> Macro:
    actions = [{"type": "status", "status": "closed"}, {"type": "priority", "priority": 80}]
    return Macro.objects.create(
        organization=org_a, name="Close it", scope=Scope.ORGANIZATION, actions=actions
    )


def test_a_priority_set_by_hand_is_a_change_others_see(agent, two_conversations):
    conversation = two_conversations[0]
    before = Conversation.objects.get(pk=conversation.pk).version
    conversation_set_priority(conversation=conversation, priority=70, actor=agent.user)
    assert Conversation.objects.get(pk=conversation.pk).version == before + 1


def test_the_bulk_bar_run_refuses_over_a_colleagues_change_and_says_who(
    org_a, agent, colleague, login, two_conversations
):
    macro = _macro(org_a)
    seen = {f"seen-{c.pk}": Conversation.objects.get(pk=c.pk).version for c in two_conversations}
    conversation_assign_to(conversation=two_conversations[1], assignee=colleague.user, actor=colleague.user)
    client = login(agent)
    posted = {"macro": macro.pk, "conversation": [c.pk for c in two_conversations], **seen}
    refused = client.post(reverse("replies:macro_run_bulk"), posted, HTTP_HX_REQUEST="true")
    assert refused.status_code == 409
    said = refused.content.decode()
    assert "nothing was done" in said and "took this" in said and "Parcel 2" in said
    assert not Conversation.objects.filter(status=Conversation.Status.CLOSED).exists()
    assert not MacroRun.objects.exists()

    # Looked again: the list shows the new version, and the run goes through.
    posted.update({f"seen-{c.pk}": Conversation.objects.get(pk=c.pk).version for c in two_conversations})
    ran = client.post(reverse("replies:macro_run_bulk"), posted, HTTP_HX_REQUEST="true")
    assert ran.status_code == 200, ran.content
    assert Conversation.objects.filter(status=Conversation.Status.CLOSED, priority=80).count() == 2


def test_the_composer_run_carries_the_conversations_version(
    org_a, agent, colleague, login, two_conversations
):
    macro = _macro(org_a)
    conversation = two_conversations[0]
    seen = Conversation.objects.get(pk=conversation.pk).version
    conversation_set_priority(conversation=conversation, priority=5, actor=colleague.user)
    client = login(agent)
    url = reverse("replies:macro_run", args=[conversation.pk])
    refused = client.post(url, {"macro": macro.pk, "seen": seen}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 409 and "set this to priority 5" in refused.content.decode()
    assert Conversation.objects.get(pk=conversation.pk).priority == 5
    ran = client.post(url, {"macro": macro.pk, "seen": seen + 1}, HTTP_HX_REQUEST="true")
    assert ran.status_code == 200 and Conversation.objects.get(pk=conversation.pk).priority == 80


def test_the_api_run_takes_versions_and_answers_409(org_a, agent, colleague, login, two_conversations):
    macro = _macro(org_a)
    first, second = two_conversations
    versions = {str(c.pk): Conversation.objects.get(pk=c.pk).version for c in two_conversations}
    conversation_assign_to(conversation=second, assignee=colleague.user, actor=colleague.user)
    client = login(agent)
    url = reverse("api:macro-run", args=[macro.pk])
    body = {"conversations": [first.pk, second.pk], "versions": versions}
    refused = client.post(url, body, "application/json")
    assert refused.status_code == 409
    (changed,) = refused.json()["changed"]
    assert changed["conversation"] == second.pk and "took this" in changed["change"]
    assert not Conversation.objects.filter(status=Conversation.Status.CLOSED).exists()
    body["versions"][str(second.pk)] = changed["version"]
    assert client.post(url, body, "application/json").status_code == 201
    bad = client.post(url, {"conversations": [first.pk], "versions": {"x": 1}}, "application/json")
    assert bad.status_code == 400
