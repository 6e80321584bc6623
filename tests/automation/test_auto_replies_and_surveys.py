"""Acknowledgements and satisfaction surveys through the real path: signed Telegram webhooks, a real worker
(and beat for the no-reply rule), the fake Bot API receiving what CXM sends."""

import json
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.automation.models import AutoReply, AutoReplySent, Rule, RuleRun, Survey, SurveySettings, Trigger
from apps.automation.services import rule_save
from apps.conversations.models import Conversation, Message
from apps.core.models import AuditEvent
from apps.routing.models import BusinessHours
from apps.routing.selectors import routing_config_changed
from tests.conftest import spawn_beat, stop_worker
from tests.factories import ConversationFactory, CustomerFactory, MessageFactory
from tests.fakes.telegram import CUSTOMER, DATE, message_update, private_message

from .conftest import wait_for

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

SPANISH = "Hola, mi pedido todavía no ha llegado y necesito saber dónde está, por favor"


def test_an_out_of_hours_acknowledgement_goes_out_once_in_the_customers_language(
    worker_env, celery_worker, telegram, telegram_channel, post_update, brand_a, org_a
):
    # Given a brand that is never open (no opening hours at all) and its out-of-hours acknowledgement
    BusinessHours.objects.create(organization=org_a, brand=brand_a, name="Closed", timezone="UTC", weekly={})
    routing_config_changed(org_a.pk)
    AutoReply.objects.create(
        organization=org_a,
        brand=brand_a,
        kind=AutoReply.Kind.OUT_OF_HOURS,
        texts={"en": "We are closed; we answer tomorrow.", "es": "Estamos cerrados; respondemos mañana."},
    )

    # When the customer writes twice through the webhook
    post_update(telegram_channel, message_update(8001, private_message(51, SPANISH)))
    wait_for(lambda: telegram.sent, what="the acknowledgement")
    post_update(
        telegram_channel, message_update(8002, private_message(52, SPANISH + " Gracias.", date=DATE + 5))
    )
    wait_for(
        lambda: Message.objects.filter(direction=Message.Direction.INBOUND).count() == 2, what="message 2"
    )
    wait_for(
        lambda: AuditEvent.objects.filter(action="conversation.tagged").exists() or True,
        what="the second run",
    )

    # Then one acknowledgement went out, in Spanish, and it is in the conversation's activity
    time.sleep(4)  # the second message's automation task has run by now (an acknowledgement would show)
    assert [sent["text"] for sent in telegram.sent] == ["Estamos cerrados; respondemos mañana."]
    assert AutoReplySent.objects.count() == 1
    conversation = Conversation.objects.get()
    outbound = Message.objects.get(conversation=conversation, direction=Message.Direction.OUTBOUND)
    assert outbound.author_user is None and outbound.delivery_status == Message.Delivery.SENT
    event = AuditEvent.objects.get(action="automation.auto_reply", target_id=str(conversation.pk))
    assert event.data["explanation"] == "Sent the outside business hours acknowledgement (es)"


def test_a_rating_pressed_on_telegram_shows_on_the_dashboard_the_conversation_and_the_profile(
    worker_env, celery_worker, telegram, telegram_channel, post_update, admin, login, brand_a, org_a
):
    # Given a brand that surveys its customers, and a conversation the customer opened
    SurveySettings.objects.create(
        organization=org_a,
        brand=brand_a,
        questions={"en": "How did we do?"},
        thanks={"en": "Thank you!"},
    )
    post_update(telegram_channel, message_update(9001, private_message(61, "Where is my order?")))
    conversation = wait_for(lambda: Conversation.objects.first(), what="the conversation")
    client = login(admin)

    # When the agent resolves it on its page
    response = client.post(reverse("inbox:conversation_action", args=[conversation.pk]), {"action": "closed"})
    assert response.status_code in (200, 302)

    # Then the survey goes out with rating buttons (an inline keyboard)
    sent = wait_for(lambda: [s for s in telegram.sent if "reply_markup" in s], what="the survey")[0]
    assert sent["text"] == "How did we do?"
    buttons = sent["reply_markup"]["inline_keyboard"][0]
    assert [b["text"][0] for b in buttons] == ["1", "2", "3", "4", "5"]
    survey = Survey.objects.get(conversation=conversation)
    assert survey.message_id is not None and survey.rating is None

    # When the customer presses "4" (Telegram's callback_query, through the signed webhook)
    press = {
        "update_id": 9002,
        "callback_query": {
            "id": "4382bfdwdsb323b2d9",
            "from": CUSTOMER,
            "message": {
                "message_id": 5000,
                "from": {"id": 123456, "is_bot": True, "first_name": "Nimbus Support"},
                "chat": {"id": CUSTOMER["id"], "type": "private"},
                "date": DATE + 120,
                "text": "How did we do?",
            },
            "chat_instance": "-1234567890",
            "data": buttons[3]["callback_data"],
        },
    }
    assert post_update(telegram_channel, press).status_code == 200

    # Then the answer is recorded, the conversation stays resolved, and the customer is thanked
    survey = wait_for(lambda: Survey.objects.filter(pk=survey.pk, rating=4).first(), what="the answer")
    assert survey.via == Survey.Via.CHANNEL
    wait_for(lambda: any(s["text"] == "Thank you!" for s in telegram.sent), what="the thank-you")
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.CLOSED
    assert Survey.objects.count() == 1  # closing it again sent no second survey
    # … on the dashboard, by agent, team, channel and brand
    dashboard = client.get(reverse("automation:satisfaction")).content.decode()
    assert 'data-csat="100"' in dashboard and "4/5" in dashboard
    assert "Support bot" in dashboard and brand_a.name in dashboard
    # … on the conversation's activity and the customer's profile
    page = client.get(reverse("inbox:conversation", args=[conversation.pk])).content.decode()
    assert "The customer rated the conversation 4/5" in page
    profile = client.get(reverse("customers:detail", args=[conversation.customer_id])).content.decode()
    assert "csat.answered" in profile
    figures = client.get("/api/v1/satisfaction-surveys/figures/").json()
    assert figures["total"]["answered"] == 1 and figures["total"]["csat"] == 100

    # And, the rating given with the buttons, CXM asked once on the channel for an optional comment
    prompt = "Anything you would like to add? Just write it here (optional)."
    wait_for(lambda: any(s["text"] == prompt for s in telegram.sent), what="the comment question")
    # When the customer writes it: it is the survey's comment, and the conversation stays resolved
    now = int(time.time())
    comment = "The courier was late, but you sorted it out quickly"
    post_update(telegram_channel, message_update(9003, private_message(62, comment, date=now)))
    survey = wait_for(
        lambda: Survey.objects.filter(pk=survey.pk, comment=comment).first(), what="the comment"
    )
    assert survey.rating == 4
    wait_for(
        lambda: Conversation.objects.get(pk=conversation.pk).status == Conversation.Status.CLOSED,
        what="the conversation closed again",
    )
    assert f"The customer rated the conversation 4/5: “{comment}”" in client.get(
        reverse("inbox:conversation", args=[conversation.pk])
    ).content.decode().replace("&#x27;", "'")
    assert comment in client.get(reverse("automation:satisfaction")).content.decode()
    # The next message is the customer's again: it opens the conversation, and the question was asked once
    post_update(
        telegram_channel, message_update(9004, private_message(63, "One more question", date=now + 5))
    )
    wait_for(
        lambda: Conversation.objects.get(pk=conversation.pk).status == Conversation.Status.OPEN,
        what="the new question to open it",
    )
    time.sleep(2)
    assert Survey.objects.get(pk=survey.pk).comment == comment
    assert [s["text"] for s in telegram.sent].count(prompt) == 1


def test_a_no_reply_rule_fires_once_through_beat(
    worker_env, celery_worker, telegram_channel, admin, org_a, tmp_path
):
    # Given a conversation whose customer has waited two hours, and a rule for waits over an hour
    customer = CustomerFactory(organization=org_a, display_name="Ana")
    waited = timezone.now() - timedelta(hours=2)
    conversation = ConversationFactory(channel=telegram_channel, customer=customer, last_message_at=waited)
    MessageFactory(conversation=conversation, text="Anyone there?", sent_at=waited)
    rule = rule_save(
        rule=Rule(
            organization=org_a,
            name="Waiting too long",
            trigger=Trigger.NO_REPLY,
            wait_minutes=60,
            actions=[{"type": "set_priority", "value": "90"}, {"type": "tag", "value": "waiting"}],
        ),
        actor=admin.user,
    )

    # When beat runs (its intervals scaled down: every minute becomes every 3 s)
    beat = spawn_beat(tmp_path / "schedule", env={"CXM_BEAT_SCALE": "0.05"})
    try:
        run = wait_for(lambda: RuleRun.objects.filter(rule=rule).first(), timeout=60, what="the sweep")
        time.sleep(7)  # two more sweeps
    finally:
        stop_worker(beat)

    # Then the rule ran once on that wait, and its actions show
    assert RuleRun.objects.filter(rule=rule).count() == 1
    assert run.event == Trigger.NO_REPLY
    conversation.refresh_from_db()
    assert conversation.priority == 90
    assert json.dumps(run.outcomes).count('"ok": true') == 2
