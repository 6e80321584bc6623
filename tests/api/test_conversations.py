"""Conversations through the API: list, filters, retrieve, and the actions of the conversation page, through
the same services."""

import base64
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.conversations.models import Conversation
from apps.core.models import AuditEvent
from apps.notifications.models import Notification

from .conftest import ids

pytestmark = pytest.mark.django_db


def test_an_agent_lists_the_conversations_of_every_brand_of_the_organisation(world, api):
    client = api(world["agent"])
    response = client.get("/api/v1/conversations/")
    assert ids(response) == {world["a"]["conversation"].pk, world["a2"]["conversation"].pk}
    row = next(r for r in response.json()["results"] if r["id"] == world["a"]["conversation"].pk)
    assert row["subject"] == "OrgA conversation"
    assert row["tags"] == ["OrgA-tag"]
    assert row["brand"] == world["a"]["brand"].pk


def test_filters_narrow_the_list(world, api):
    client = api(world["agent"])
    a, a2 = world["a"]["conversation"], world["a2"]["conversation"]
    Conversation.objects.filter(pk=a2.pk).update(status="closed", sentiment="positive", language="de")
    assert ids(client.get("/api/v1/conversations/", {"status": "closed"})) == {a2.pk}
    assert ids(client.get("/api/v1/conversations/", {"brand": world["a"]["brand"].pk})) == {a.pk}
    assert ids(client.get("/api/v1/conversations/", {"channel": world["a2"]["channel"].pk})) == {a2.pk}
    assert ids(client.get("/api/v1/conversations/", {"sentiment": "negative"})) == {a.pk}
    assert ids(client.get("/api/v1/conversations/", {"language": "de"})) == {a2.pk}
    assert ids(client.get("/api/v1/conversations/", {"tag": world["a"]["tag"].pk})) == {a.pk}
    assert ids(client.get("/api/v1/conversations/", {"unassigned": "true"})) == {a.pk, a2.pk}
    later = (timezone.now() + timedelta(hours=1)).isoformat()
    assert ids(client.get("/api/v1/conversations/", {"updated_since": later})) == set()


def test_a_filter_value_that_makes_no_sense_is_a_400_that_says_which(world, api):
    client = api(world["agent"])
    response = client.get("/api/v1/conversations/", {"status": "lost", "brand": "x", "updated_since": "soon"})
    assert response.status_code == 400
    assert set(response.json()) == {"status", "brand", "updated_since"}
    assert client.get("/api/v1/conversations/", {"brand": str(2**70)}).status_code == 400
    # Python takes offsets up to ±23:59, PostgreSQL up to ±15:59: the moment is read in UTC first.
    far_offset = client.get("/api/v1/conversations/", {"updated_since": "2001-01-01T00:00:00-17:33"})
    assert far_offset.status_code == 200
    assert client.get("/api/v1/messages/", {"sent_since": "0001-01-01T00:00:00+10:00"}).status_code == 400


def test_pages_follow_a_cursor_without_overlap(world, api):
    client = api(world["agent"])
    first = client.get("/api/v1/conversations/", {"page_size": 1}).json()
    second = client.get(first["next"]).json()
    assert len(first["results"]) == len(second["results"]) == 1
    assert first["results"][0]["id"] > second["results"][0]["id"]
    forged = base64.b64encode(b"p=not-an-id").decode()  # the position goes into `id < position`
    assert client.get("/api/v1/conversations/", {"cursor": forged}).status_code == 404


def test_retrieve(world, api):
    conversation = world["a"]["conversation"]
    response = api(world["agent"]).get(f"/api/v1/conversations/{conversation.pk}/")
    assert response.status_code == 200
    assert response.json()["customer"] == world["a"]["customer"].pk


def test_assign_goes_through_the_service_and_notifies_the_assignee(world, api):
    conversation, colleague = world["a"]["conversation"], world["admin"]
    response = api(world["agent"]).post(
        f"/api/v1/conversations/{conversation.pk}/assign/", {"assignee": colleague.user_id}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["assignee"] == colleague.user_id
    assert Notification.objects.filter(recipient=colleague.user, conversation=conversation).exists()
    assert AuditEvent.objects.filter(action="conversation.assigned", target_id=str(conversation.pk)).exists()

    unassigned = api(world["agent"]).post(
        f"/api/v1/conversations/{conversation.pk}/assign/", {"assignee": None}, format="json"
    )
    assert unassigned.json()["assignee"] is None


def test_assigning_someone_who_may_not_work_on_it_is_refused_with_the_reason(world, api):
    conversation = world["a"]["conversation"]  # brand A: the limited agent works on A2 only
    client = api(world["agent"])
    refused = client.post(
        f"/api/v1/conversations/{conversation.pk}/assign/",
        {"assignee": world["limited"].user_id},
        format="json",
    )
    assert refused.status_code == 400
    assert "does not work on this brand" in refused.json()["detail"]
    marketer = client.post(
        f"/api/v1/conversations/{conversation.pk}/assign/",
        {"assignee": world["marketer"].user_id},
        format="json",
    )
    assert marketer.status_code == 400
    other_org = client.post(
        f"/api/v1/conversations/{conversation.pk}/assign/",
        {"assignee": world["agent_b"].user_id},
        format="json",
    )
    assert other_org.status_code == 400


def test_status_close_and_snooze(world, api):
    conversation = world["a"]["conversation"]
    client = api(world["agent"])
    url = f"/api/v1/conversations/{conversation.pk}"
    assert client.post(f"{url}/status/", {"status": "pending"}, format="json").json()["status"] == "pending"
    closed = client.post(f"{url}/close/").json()
    assert closed["status"] == "closed" and closed["resolved_at"]
    until = timezone.now() + timedelta(days=1)
    snoozed = client.post(f"{url}/snooze/", {"until": until.isoformat()}, format="json").json()
    assert snoozed["status"] == "snoozed" and snoozed["snoozed_until"]
    past = client.post(f"{url}/snooze/", {"until": "2001-01-01T00:00:00Z"}, format="json")
    assert past.status_code == 400
    no_moment = client.post(f"{url}/status/", {"status": "snoozed"}, format="json")
    assert no_moment.status_code == 400 and "snoozed_until" in no_moment.json()
    assert client.post(f"{url}/status/", {"status": "lost"}, format="json").status_code == 400


def test_tag_and_untag(world, api):
    conversation = world["a"]["conversation"]
    client = api(world["agent"])
    url = f"/api/v1/conversations/{conversation.pk}"
    tagged = client.post(f"{url}/tag/", {"name": "vip"}, format="json").json()
    assert sorted(tagged["tags"]) == ["OrgA-tag", "vip"]
    assert client.post(f"{url}/tag/", {"name": "   "}, format="json").status_code == 400
    untagged = client.post(f"{url}/untag/", {"name": "vip"}, format="json").json()
    assert untagged["tags"] == ["OrgA-tag"]
    assert client.post(f"{url}/untag/", {"name": "never-there"}, format="json").status_code == 404


def test_the_thread_and_the_notes(world, api):
    conversation = world["a"]["conversation"]
    client = api(world["agent"])
    thread = client.get(f"/api/v1/conversations/{conversation.pk}/messages/").json()
    assert [m["id"] for m in thread] == [world["a"]["message"].pk, world["a"]["note"].pk]
    notes = client.get(f"/api/v1/conversations/{conversation.pk}/notes/").json()
    assert [m["id"] for m in notes] == [world["a"]["note"].pk]


def test_a_marketer_cannot_read_or_work_the_inbox(world, api):
    # The pages give marketers dashboards, not the inbox (inbox_required): the API says the same.
    client = api(world["marketer"])
    conversation = world["a"]["conversation"]
    assert client.get("/api/v1/conversations/").status_code == 403
    assert client.post(f"/api/v1/conversations/{conversation.pk}/close/").status_code == 403
    conversation.refresh_from_db()
    assert conversation.status == "open"
