"""Bulk actions from the inbox list: each action, merge, and the tenancy check on every posted id."""

import pytest
from django.urls import reverse

from apps.classification.models import TrainingExample
from apps.classification.services import classification_settings
from apps.conversations.models import Conversation, Tag
from apps.core.models import AuditEvent
from tests.factories import CustomerFactory, MessageFactory

from .conftest import conversation_with, hours_ago

pytestmark = pytest.mark.django_db
BULK = reverse("inbox:bulk")
HTMX = {"HX-Request": "true"}


def post(client, conversations, action, htmx=True, **fields):
    data = {"conversation": [c.pk for c in conversations], "action": action, **fields}
    return client.post(BULK, data, headers=HTMX if htmx else {})


@pytest.fixture
def two(desk):
    return [conversation_with(desk["email"], subject=f"t{n}") for n in range(2)]


def statuses(conversations) -> set[str]:
    return set(
        Conversation.objects.filter(pk__in=[c.pk for c in conversations]).values_list("status", flat=True)
    )


def test_assign_to_me_and_to_a_colleague_then_unassign(desk, two, login):
    client = login(desk["agent"])

    mine = post(client, two, "assign_me")
    assert mine.status_code == 200 and mine["HX-Trigger"] == "inbox-acted"
    assert "Assigned 2 to you." in mine.content.decode()
    assert {c.assignee_id for c in Conversation.objects.filter(pk__in=[c.pk for c in two])} == {
        desk["agent"].user_id
    }

    post(client, two[:1], "assign", assignee=desk["colleague"].user_id)
    post(client, two[1:], "assign", assignee="none")
    two[0].refresh_from_db(), two[1].refresh_from_db()
    assert two[0].assignee == desk["colleague"].user and two[1].assignee is None
    assert AuditEvent.objects.filter(action="conversation.assigned").count() == 4


def test_assigning_to_someone_outside_the_inbox_is_refused(desk, two, login):
    client = login(desk["agent"])

    assert post(client, two, "assign", assignee=desk["marketer"].user_id).status_code == 404
    refused = post(client, two, "assign", assignee="")
    assert refused.status_code == 400 and "Choose who to assign them to." in refused.content.decode()
    assert not Conversation.objects.filter(pk__in=[c.pk for c in two], assignee__isnull=False).exists()


def test_tag_and_set_status(desk, two, login):
    client = login(desk["agent"])

    post(client, two, "tag", tag_name="  billing ")
    post(client, two, "status", status="pending")

    tag = Tag.objects.get(organization=desk["org"], name="billing")
    assert set(tag.conversations.all()) == set(two) and statuses(two) == {"pending"}
    post(client, two, "close")
    assert statuses(two) == {"closed"}
    refused = post(client, two, "status", status="exploded")
    assert refused.status_code == 400 and "is not a status" in refused.content.decode()


def test_mark_spam_closes_tags_and_teaches_the_model(desk, login):
    spam = conversation_with(desk["email"], inbound={"text": "Cheap watches!!!", "intent": "question"})
    latest = MessageFactory(
        conversation=spam, text="Buy now at cheap-watches.example", sent_at=hours_ago(-0.01)
    )

    response = post(login(desk["agent"]), [spam], "spam")

    assert response.status_code == 200
    spam.refresh_from_db()
    assert spam.status == "closed" and list(spam.tags.values_list("name", flat=True)) == ["spam"]
    example = TrainingExample.objects.get(message=latest)
    assert (example.task, example.label, example.created_by) == ("intent", "spam", desk["agent"].user)
    latest.refresh_from_db()
    assert latest.intent == "spam" and spam.intent == "spam"


def test_mark_spam_without_a_spam_intent_learns_nothing(desk, login):
    settings = classification_settings(desk["org"].pk)
    settings.intent_labels = ["question", "complaint"]
    settings.save()
    conversation = conversation_with(desk["email"], inbound={"text": "Win a prize"})

    post(login(desk["agent"]), [conversation], "spam")

    assert statuses([conversation]) == {"closed"} and not TrainingExample.objects.exists()


def test_merge_two_conversations_of_one_customer(desk, login):
    customer = CustomerFactory(organization=desk["org"])
    older = conversation_with(desk["email"], customer=customer, subject="First mail", status="closed")
    newer = conversation_with(
        desk["email"], customer=customer, subject="Second mail", inbound={"text": "again"}
    )

    response = post(login(desk["agent"]), [newer, older], "merge")

    assert "Merged into “First mail”." in response.content.decode()
    assert not Conversation.objects.filter(pk=newer.pk).exists()
    older.refresh_from_db()
    assert older.messages.count() == 2 and older.status == "open"  # the more active status of the two
    event = AuditEvent.objects.get(action="conversation.merged")
    assert event.target_id == str(older.pk) and event.data["merged"] == newer.pk


def test_merge_refuses_different_customers_with_a_reason(desk, two, login):
    client = login(desk["agent"])

    refused = post(client, two, "merge")
    one = post(client, two[:1], "merge")

    assert refused.status_code == 400
    assert "Only conversations of the same customer can be merged." in refused.content.decode()
    assert "Choose exactly two conversations to merge." in one.content.decode()
    assert Conversation.objects.filter(pk__in=[c.pk for c in two]).count() == 2


def test_another_organisations_ids_are_refused_and_nothing_changes(desk, two, login):
    client = login(desk["agent"])
    theirs = desk["elsewhere"]

    for action, fields in (("assign_me", {}), ("close", {}), ("spam", {}), ("tag", {"tag_name": "x"})):
        assert post(client, [*two, theirs], action, **fields).status_code == 404, action
    assert post(client, [two[0], theirs], "merge").status_code == 404
    assert client.post(BULK, {"conversation": ["1x"], "action": "close"}).status_code == 404

    theirs.refresh_from_db()
    assert theirs.status == "open" and theirs.assignee is None and not theirs.tags.exists()
    assert statuses(two) == {"open"} and not Tag.objects.exists()


def test_a_brand_limited_agent_cannot_act_on_other_brands(desk, login):
    own = conversation_with(desk["chat"])
    other = conversation_with(desk["email"])

    assert post(login(desk["limited"]), [own, other], "close").status_code == 404
    assert statuses([own, other]) == {"open"}


def test_without_javascript_the_agent_returns_to_the_list_with_a_message(desk, two, login):
    client = login(desk["agent"])
    data = {"conversation": [c.pk for c in two], "action": "close"}

    response = client.post(BULK, data, headers={"Referer": "http://testserver/inbox/?view=mine"}, follow=True)
    hostile = client.post(BULK, data, headers={"Referer": "https://evil.example/inbox/"})

    assert response.redirect_chain[0][0] == "/inbox/?view=mine"
    assert "Status of 2: Closed." in response.content.decode()
    assert hostile["Location"] == "/inbox/"


def test_an_unknown_action_or_an_empty_selection_says_what_to_do(desk, two, login):
    client = login(desk["agent"])

    assert "Choose an action." in post(client, two, "explode").content.decode()
    assert "Select at least one conversation." in post(client, [], "close").content.decode()


def test_marketers_cannot_act(desk, two, login):
    assert post(login(desk["marketer"]), two, "close").status_code == 403
