"""Safe concurrency: every action on a conversation (pages, bulk bar, API) carries the version its agent saw;
a change made since is shown (who, when) and never silently overwritten. And the workspace's htmx
regions: the conversation pane, the list beside it, the controls refreshed by live events."""

import pytest
from django.urls import reverse

from apps.conversations.models import Conversation
from apps.conversations.selectors import conversation_last_change
from apps.conversations.services import (
    ConversationChanged,
    conversation_assign_to,
    conversation_untag,
    conversations_bulk_set_status,
    conversations_bulk_tag,
    message_add,
)
from tests.api.conftest import api  # noqa: F401 (the API client fixture)

from .conftest import conversation_with

HTMX = {"HX-Request": "true"}


def version(conversation) -> int:
    return Conversation.objects.get(pk=conversation.pk).version


def _named(membership, first_name: str):
    membership.user.first_name = first_name
    membership.user.save(update_fields=["first_name"])
    return membership


# ------------------------------------------------------------------------------------------ services


@pytest.mark.django_db
def test_every_change_an_agent_sees_moves_the_version_and_a_stale_one_is_refused(desk):
    conversation = conversation_with(desk["email"])
    agent, colleague = desk["agent"].user, desk["colleague"].user
    assert version(conversation) == 0
    conversation_assign_to(conversation=conversation, assignee=agent, actor=agent, seen_version=0)
    conversations_bulk_tag(conversations=[conversation], name="vip", actor=agent, seen={conversation.pk: 1})
    tag = conversation.tags.get()
    conversation_untag(conversation=conversation, tag=tag, actor=agent, seen_version=2)
    conversations_bulk_set_status(
        conversations=[conversation], status="closed", actor=agent, seen={conversation.pk: 3}
    )
    assert version(conversation) == 4
    # The customer writing again reopens it: a change the agents see too.
    message_add(conversation=Conversation.objects.get(pk=conversation.pk), direction="inbound", text="Hello?")
    assert version(conversation) == 5

    with pytest.raises(ConversationChanged) as refused:
        conversation_assign_to(conversation=conversation, assignee=colleague, actor=colleague, seen_version=4)
    assert [c.pk for c in refused.value.changed] == [conversation.pk]
    assert refused.value.changed[0].version == 5
    assert Conversation.objects.get(pk=conversation.pk).assignee == agent  # nothing was done
    # Without a version (a caller that knows none), the action applies to what is there.
    conversation_assign_to(conversation=conversation, assignee=colleague, actor=colleague)
    assert Conversation.objects.get(pk=conversation.pk).assignee == colleague


@pytest.mark.django_db
def test_the_last_change_says_who_did_what(desk):
    conversation = conversation_with(desk["email"])
    agent = _named(desk["agent"], "Yusuf").user
    assert conversation_last_change(conversation=conversation) is None
    conversation_assign_to(conversation=conversation, assignee=agent, actor=agent)
    change = conversation_last_change(conversation=conversation)
    assert change.text == "Yusuf took this" and change.actor_id == agent.pk and change.ago.endswith(" s ago")
    conversation_assign_to(conversation=conversation, assignee=desk["colleague"].user, actor=agent)
    assert conversation_last_change(conversation=conversation).text == "Yusuf assigned this to colleague"
    conversations_bulk_set_status(conversations=[conversation], status="closed", actor=agent)
    assert conversation_last_change(conversation=conversation).text == "Yusuf closed this"


# ------------------------------------------------------------------------------------------ the pages


def _act(client, conversation, action, **fields):
    url = reverse("inbox:conversation_action", args=[conversation.pk])
    return client.post(url, {"action": action, **fields}, headers=HTMX)


@pytest.mark.django_db
def test_the_second_of_two_agents_is_asked_before_taking_over(desk, login, client):
    conversation = conversation_with(desk["email"])
    _named(desk["agent"], "Yusuf")
    first = login(desk["agent"])
    assert _act(first, conversation, "assign_me", seen=0).status_code == 200

    second = login(desk["colleague"])
    asked = _act(second, conversation, "assign_me", seen=0)
    page = asked.content.decode()
    assert asked.status_code == 409
    assert "Yusuf took this" in page and "take over?" in page and "Take over</button>" in page
    assert f'name="seen" value="{version(conversation)}"' in page
    assert Conversation.objects.get(pk=conversation.pk).assignee == desk["agent"].user

    # The question's own form sends the same action over the version now shown.
    taken = _act(second, conversation, "assign_me", seen=version(conversation))
    assert taken.status_code == 200 and "Assigned to you." in taken.content.decode()
    assert Conversation.objects.get(pk=conversation.pk).assignee == desk["colleague"].user


@pytest.mark.django_db
def test_a_stale_status_or_tag_is_refused_and_without_javascript_it_says_so(desk, login):
    conversation = conversation_with(desk["email"])
    client = login(desk["agent"])
    conversation_assign_to(
        conversation=conversation, assignee=desk["colleague"].user, actor=desk["colleague"].user
    )
    assert _act(client, conversation, "closed", seen=0).status_code == 409
    assert _act(client, conversation, "tag", tag_name="vip", seen=0).status_code == 409
    assert Conversation.objects.get(pk=conversation.pk).status == "open" and not conversation.tags.exists()
    plain = client.post(
        reverse("inbox:conversation_action", args=[conversation.pk]),
        {"action": "closed", "seen": 0},
        follow=True,
    )
    assert "colleague took this" in plain.content.decode() and "nothing was done" in plain.content.decode()


@pytest.mark.django_db
def test_a_bulk_action_over_a_colleagues_change_asks_first(desk, login):
    one, two = (
        conversation_with(desk["email"], subject="One"),
        conversation_with(desk["email"], subject="Two"),
    )
    client = login(desk["agent"])
    conversation_assign_to(conversation=two, assignee=desk["colleague"].user, actor=desk["colleague"].user)
    posted = {"action": "close", "conversation": [one.pk, two.pk], f"seen-{one.pk}": 0, f"seen-{two.pk}": 0}
    asked = client.post(reverse("inbox:bulk"), posted, headers=HTMX)
    page = asked.content.decode()
    assert asked.status_code == 409 and "colleague took this" in page and "Do it anyway" in page
    assert not Conversation.objects.filter(status="closed").exists()
    # "Do it anyway" posts the current versions.
    assert f'name="seen-{two.pk}" value="1"' in page and f'name="seen-{one.pk}" value="0"' in page
    posted.update({f"seen-{two.pk}": 1})
    assert client.post(reverse("inbox:bulk"), posted, headers=HTMX).status_code == 200
    assert Conversation.objects.filter(status="closed").count() == 2


# ------------------------------------------------------------------------------------------ the API


@pytest.mark.django_db
def test_the_api_answers_409_with_the_current_state_for_a_stale_version(desk, api):  # noqa: F811
    conversation = conversation_with(desk["email"])
    client = api(desk["agent"])
    url = f"/api/v1/conversations/{conversation.pk}/"
    seen = client.get(url)
    assert seen.json()["version"] == 0 and seen["ETag"] == '"0"'
    conversation_assign_to(
        conversation=conversation, assignee=desk["colleague"].user, actor=desk["colleague"].user
    )

    refused = client.post(f"{url}assign/", {"assignee": desk["agent"].user_id, "version": 0}, format="json")
    assert refused.status_code == 409
    body = refused.json()
    assert (
        body["conversation"]["assignee"] == desk["colleague"].user_id and body["conversation"]["version"] == 1
    )
    assert body["change"].startswith("colleague took this")
    assert client.post(f"{url}close/", HTTP_IF_MATCH='"0"').status_code == 409
    assert client.post(f"{url}tag/", {"name": "vip", "version": 0}, format="json").status_code == 409
    assert Conversation.objects.get(pk=conversation.pk).status == "open"

    closed = client.post(f"{url}close/", HTTP_IF_MATCH='"1"')
    assert closed.status_code == 200 and closed.json()["status"] == "closed" and closed["ETag"] == '"2"'
    # A client that sends no version acts on whatever is there (as before).
    assert client.post(f"{url}status/", {"status": "open"}, format="json").status_code == 200


# ------------------------------------------------------------------------------------------ workspace regions


@pytest.mark.django_db
def test_the_workspace_serves_its_regions_to_htmx(desk, login):
    conversation = conversation_with(desk["email"], subject="Parcel lost")
    client = login(desk["agent"])
    url = reverse("inbox:conversation", args=[conversation.pk])

    whole = client.get(f"{url}?sort=oldest").content.decode()
    assert 'id="list-pane"' in whole and 'id="conversation-view"' in whole and 'aria-current="true"' in whole
    assert f'href="{url}?sort=oldest"' in whole  # the rows keep the list's own filters

    pane = client.get(url, headers={**HTMX, "HX-Target": "conversation-pane"}).content.decode()
    assert "<html" not in pane and 'id="list-pane"' not in pane
    assert "<title>Parcel lost · CXM</title>" in pane and 'id="customer-profile"' in pane

    results = client.get(
        f"{url}?sort=oldest",
        headers={**HTMX, "HX-Target": "inbox-results", "HX-Current-URL": f"http://testserver{url}"},
    )
    assert (
        'id="conversation-view"' not in results.content.decode() and "Parcel lost" in results.content.decode()
    )
    assert results["HX-Push-Url"] == f"{url}?sort=oldest"

    controls = client.get(url, headers={**HTMX, "HX-Target": "conversation-controls"}).content.decode()
    assert (
        controls.lstrip().startswith('<div id="conversation-controls"')
        or 'id="conversation-controls"' in controls
    )
    assert 'id="thread"' not in controls and 'name="seen" value="0"' in controls
