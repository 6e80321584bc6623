"""The inbox by the triage decision: "Needs reply" is the agents' first view (what is not triaged yet stays in
it), a filter by decision, the chip on each row, and the one-click correction in a real browser."""

import re
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Role
from apps.classification.models import Task, TrainingExample
from apps.conversations.models import Message
from tests.connectors.livechat.test_widget_browser import CHROMIUM, off_loop
from tests.factories import ChannelFactory, membership_create

from .conftest import conversation_with

INDEX = reverse("inbox:index")


def _triaged(channel, subject, decision, **fields):
    """A conversation whose one inbound message the classifier triaged as `decision` ("" : not yet)."""
    inbound = {"needs_reply": decision, "text": f"{subject} text"}
    if decision:
        inbound["classified_at"] = timezone.now()
        inbound["classification"] = {
            "needs_reply": {"label": decision, "score": 0.8, "model": "default", "reasons": ["praise"]}
        }
    return conversation_with(channel, subject=subject, needs_reply=decision, inbound=inbound, **fields)


@pytest.fixture
def triaged(desk):
    return {
        decision or "waiting": _triaged(desk["email"], f"{decision or 'waiting'} one", decision)
        for decision in ("reply", "optional", "no_reply", "")
    }


def _subjects(response) -> set[str]:
    return {c.subject for c in response.context["page"].conversations}


@pytest.mark.django_db
def test_agents_start_on_what_needs_a_reply_and_filter_by_decision(desk, triaged, login):
    client = login(desk["agent"])
    response = client.get(INDEX)
    assert response.context["query"].view == "needs_reply"
    assert _subjects(response) == {"reply one", "waiting one"}
    tabs = {tab["key"]: tab["count"] for tab in response.context["tabs"]}
    assert tabs["needs_reply"] == "2" and tabs["all"] == "4"
    assert "needs_reply=" not in response.context["query"].querystring()
    # The rest is one tab away, and each decision one filter away.
    everything = {"reply one", "optional one", "no_reply one", "waiting one"}
    assert _subjects(client.get(INDEX, {"view": "all"})) == everything
    assert _subjects(client.get(INDEX, {"view": "all", "needs_reply": "optional"})) == {"optional one"}
    page = client.get(INDEX, {"view": "all"}).content.decode()
    assert 'data-needs-reply="no_reply"' in page and '<select name="needs_reply">' in page
    refused = client.get(INDEX, {"needs_reply": "perhaps"})
    assert any(problem.startswith("needs_reply:") for problem in refused.context["query"].problems)
    # An admin looks over everything first.
    admin = membership_create(desk["org"], Role.ADMIN)
    assert login(admin).get(INDEX).context["query"].view == "all"


@pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium for the browser test")
@pytest.mark.django_db(transaction=True)
def test_an_agent_corrects_the_decision_in_one_click(asgi_server, org_a, page):
    from playwright.sync_api import expect

    from .test_inbox_browser import _log_in

    def given():
        from tests.factories import BrandFactory

        channel = ChannelFactory(brand=BrandFactory(organization=org_a))
        agent = membership_create(org_a, Role.COMMUNITY_MANAGER, username="triage.agent")
        return _triaged(channel, "Lovely new colours", "optional"), agent

    conversation, agent = off_loop(given)
    _log_in(page, asgi_server.url, agent.user.username)
    page.goto(f"{asgi_server.url}{reverse('inbox:conversation', args=[conversation.pk])}")
    message = off_loop(lambda: Message.objects.get(conversation=conversation))
    chip = page.locator(f"#classification-{message.pk} [data-needs-reply]")
    expect(chip).to_contain_text("reply optional")
    chip.get_by_role("button", name="needs a reply").click()
    expect(page.locator(f"#classification-{message.pk} [data-needs-reply='reply']")).to_contain_text(
        "needs a reply ✎"
    )
    assert urlsplit(page.url).path == reverse("inbox:conversation", args=[conversation.pk])

    def then():
        message.refresh_from_db()
        conversation.refresh_from_db()
        example = TrainingExample.objects.get(message=message, task=Task.NEEDS_REPLY)
        return message.needs_reply, conversation.needs_reply, example.label, example.source

    assert off_loop(then) == ("reply", "reply", "reply", TrainingExample.Source.CORRECTION)


@pytest.mark.django_db
def test_the_dashboard_shows_what_each_decision_held_back_and_what_agents_overruled(desk, triaged, login):
    from apps.classification.services import label_correct

    optional = Message.objects.get(conversation=triaged["optional"])
    label_correct(message=optional, task=Task.NEEDS_REPLY, label="reply", user=desk["agent"].user)
    no_reply = Message.objects.get(conversation=triaged["no_reply"])
    label_correct(
        message=no_reply, task=Task.NEEDS_REPLY, label="no_reply", user=desk["agent"].user
    )  # agreed
    admin = membership_create(desk["org"], Role.ADMIN)
    params = {"brand": desk["brand"].pk, "range": "7d"}
    panel = login(admin).get(reverse("analytics:panel", args=["needs-reply"]), params)
    body = panel.content.decode()
    # Three triaged, one waiting; "reply" now holds two (one overruled from "optional"), "no_reply" one,
    # held back, which the agent confirmed.
    assert 'id="needs-reply-held-back">1</strong> of 3 triaged' in body and "1 not triaged yet" in body
    assert 'id="needs-reply-overruled">1<' in body
    rows = re.findall(
        r"<tr><td><a href=\"[^\"]*needs_reply=(\w+)[^\"]*\">[^<]+</a></td><td>(\d+)</td><td>(\d+)</td>", body
    )
    assert rows == [("reply", "2", "1"), ("optional", "0", "0"), ("no_reply", "1", "0")]
