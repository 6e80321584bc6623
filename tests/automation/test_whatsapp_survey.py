"""The satisfaction survey on WhatsApp: an interactive list of ratings within the 24-hour window (a survey
the window forbids is kept unsent, with the reason), and the customer's choice read back as the answer."""

import time

import pytest
from django.db import transaction

from apps.automation.models import Survey, SurveySettings
from apps.automation.services import messages_automate, survey_send
from apps.conversations.models import Conversation, Message
from apps.replies.delivery import message_deliver
from tests.connectors.meta.conftest import graph, ingest, post_webhook, whatsapp_channel  # noqa: F401
from tests.fakes.meta import PHONE_NUMBER_ID, WA_ID, whatsapp_text, whatsapp_value, whatsapp_webhook

pytestmark = pytest.mark.django_db


def test_a_whatsapp_survey_is_a_list_of_ratings_and_the_choice_is_the_answer(
    whatsapp_channel,  # noqa: F811
    ingest,  # noqa: F811
    graph,  # noqa: F811
    brand_a,
    org_a,
):
    graph.serve(whatsapp_channel)
    SurveySettings.objects.create(organization=org_a, brand=brand_a, questions={"en": "How did we do?"})
    now = int(time.time())
    ingest(
        whatsapp_channel,
        whatsapp_webhook(whatsapp_value(messages=[whatsapp_text("wamid.Q1", "Hi", timestamp=now)])),
    )
    conversation = Conversation.objects.get()
    conversation.status = Conversation.Status.CLOSED
    conversation.save()

    with transaction.atomic():
        survey = survey_send(conversation_id=conversation.pk)
    message_deliver(message_id=survey.message_id)

    sent = graph.requests[-1].json()
    assert graph.requests[-1].path.endswith(f"/{PHONE_NUMBER_ID}/messages")
    assert sent["type"] == "interactive" and sent["interactive"]["type"] == "list"
    assert sent["interactive"]["body"] == {"text": "How did we do?"}
    rows = sent["interactive"]["action"]["sections"][0]["rows"]
    assert [row["id"] for row in rows] == [f"csat:{survey.token}:{n}" for n in range(1, 6)]

    choice = {
        "from": WA_ID,
        "id": "wamid.Q2",
        "timestamp": str(now + 60),
        "type": "interactive",
        "interactive": {"type": "list_reply", "list_reply": {"id": rows[4]["id"], "title": rows[4]["title"]}},
    }
    ingest(whatsapp_channel, whatsapp_webhook(whatsapp_value(messages=[choice])))
    answer = Message.objects.get(external_id="wamid.Q2")
    messages_automate(message_ids=[answer.pk])  # what automation_messages_task runs on a worker

    survey.refresh_from_db()
    assert (survey.rating, survey.via) == (5, Survey.Via.CHANNEL)
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.CLOSED


def test_a_survey_outside_the_whatsapp_window_is_kept_unsent_with_the_reason(
    whatsapp_channel,  # noqa: F811
    ingest,  # noqa: F811
    brand_a,
    org_a,
):
    SurveySettings.objects.create(organization=org_a, brand=brand_a, questions={"en": "How did we do?"})
    two_days_ago = int(time.time()) - 2 * 24 * 3600
    ingest(
        whatsapp_channel,
        whatsapp_webhook(whatsapp_value(messages=[whatsapp_text("wamid.O1", "Hi", timestamp=two_days_ago)])),
    )
    conversation = Conversation.objects.get()
    conversation.status = Conversation.Status.CLOSED
    conversation.save()

    survey = survey_send(conversation_id=conversation.pk)

    assert survey.message_id is None and "24-hour window" in survey.refused
    assert not Message.objects.filter(direction=Message.Direction.OUTBOUND).exists()
