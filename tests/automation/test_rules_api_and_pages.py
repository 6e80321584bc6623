"""Rules, acknowledgements and surveys through the pages and the API: the same checks (the registry's), the
same audit trail, tenant scoping; the webhook action behind the guard on private destinations; the survey's
signed page."""

from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from apps.accounts.models import Role
from apps.automation.models import AutoReply, Rule, Survey
from apps.automation.registry import RuleInvalid
from apps.automation.services import rule_save, rule_webhook_call, survey_answer, survey_link
from apps.core.models import AuditEvent
from tests.factories import ChannelFactory, ConversationFactory, MessageFactory, membership_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(org_a):
    return membership_create(org_a, Role.ADMIN)


def test_the_api_saves_a_rule_through_the_registry_and_refuses_what_it_does_not_know(
    admin, login, brand_a, brand_b
):
    client = login(admin)
    rule = {
        "name": "Negative to the top",
        "trigger": "message.classified",
        "brand": brand_a.pk,
        "conditions": [{"field": "sentiment", "op": "in", "value": "negative, angry"}],
        "actions": [{"type": "set_priority", "value": "80"}],
    }
    response = client.post("/api/v1/automation-rules/", rule, content_type="application/json")
    assert response.status_code == 201, response.json()
    saved = Rule.objects.get(pk=response.json()["id"])
    assert saved.conditions == [{"field": "sentiment", "op": "in", "value": ["negative", "angry"]}]
    assert saved.actions == [{"type": "set_priority", "value": 80.0}]
    assert AuditEvent.objects.filter(action="automation.rule_saved", target_id=str(saved.pk)).exists()

    unknown = {**rule, "conditions": [{"field": "horoscope", "op": "in", "value": "leo"}]}
    response = client.post("/api/v1/automation-rules/", unknown, content_type="application/json")
    assert response.status_code == 400 and "Unknown condition “horoscope”" in response.json()["detail"]
    bad_value = {**rule, "actions": [{"type": "set_priority", "value": "urgent"}]}
    response = client.post("/api/v1/automation-rules/", bad_value, content_type="application/json")
    assert response.status_code == 400 and "is not a number" in response.json()["detail"]
    # "²" passes str.isdigit() but not int(): a reason, not a 500.
    odd_id = {**rule, "actions": [{"type": "assign_team", "value": "²"}]}
    response = client.post("/api/v1/automation-rules/", odd_id, content_type="application/json")
    assert response.status_code == 400 and "is not an id" in response.json()["detail"]
    foreign = {**rule, "brand": brand_b.pk}
    assert (
        client.post("/api/v1/automation-rules/", foreign, content_type="application/json").status_code == 400
    )

    preview = client.get(f"/api/v1/automation-rules/{saved.pk}/preview/").json()
    assert preview == {"days": 7, "checked": 0, "matched": 0, "capped": False, "conversations": []}


def test_the_preview_shows_what_the_rule_would_have_matched_without_changing_anything(
    admin, login, brand_a, org_a
):
    channel = ChannelFactory(brand=brand_a)
    refund = ConversationFactory(channel=channel, subject="Refund please")
    MessageFactory(conversation=refund, text="I want a refund", sentiment="negative")
    other = ConversationFactory(channel=channel, subject="Thanks")
    MessageFactory(conversation=other, text="All good, thanks", sentiment="positive")
    rule = rule_save(
        rule=Rule(
            organization=org_a,
            name="Refunds",
            trigger="message.received",
            conditions=[{"field": "text", "op": "contains", "value": "refund"}],
            actions=[{"type": "tag", "value": "refunds"}],
        ),
        actor=admin.user,
    )
    page = login(admin).get(reverse("automation:rule_preview", args=[rule.pk])).content.decode()
    assert 'data-matched="1"' in page and "Refund please" in page and "Thanks" not in page.split("Preview")[1]
    assert not refund.tags.exists()


def test_the_rule_form_makes_a_rule_and_says_why_it_refuses_one(admin, login, org_a):
    client = login(admin)
    form = {
        "name": "Spam",
        "trigger": "message.received",
        "position": "5",
        "wait_minutes": "60",
        "active": "on",
        "stop_processing": "on",
        "cond-0-field": "text",
        "cond-0-op": "contains",
        "cond-0-key": "",
        "cond-0-value": "crypto giveaway",
        "cond-1-field": "",
        "cond-1-op": "",
        "cond-1-key": "",
        "cond-1-value": "",
        "act-0-type": "mark_spam",
        "act-0-value": "",
    }
    response = client.post(reverse("automation:rule_new"), form)
    assert response.status_code == 302
    rule = Rule.objects.get(name="Spam")
    assert rule.stop_processing and rule.conditions[0]["value"] == "crypto giveaway"
    response = client.post(
        reverse("automation:rule_new"), {**form, "act-0-type": "assign_agent", "act-0-value": "0"}
    )
    assert response.status_code == 400 and "does not work this organisation" in response.content.decode()


def test_an_acknowledgement_needs_its_default_language(admin, login, brand_a):
    client = login(admin)
    data = {"brand": brand_a.pk, "kind": "first_contact", "window_hours": "24", "default_language": "en"}
    response = client.post(
        reverse("automation:auto_reply_new"), {**data, "text-0-language": "es", "text-0-text": "Hola"}
    )
    assert response.status_code == 400 and "default language (en)" in response.content.decode()
    response = client.post(
        reverse("automation:auto_reply_new"),
        {
            **data,
            "active": "on",
            "text-0-language": "en",
            "text-0-text": "Hi",
            "text-1-language": "es",
            "text-1-text": "Hola",
        },
    )
    assert response.status_code == 302
    reply = AutoReply.objects.get()
    assert reply.text_for("es-MX") == "Hola" and reply.text_for("ja") == "Hi"


def test_the_webhook_action_never_reaches_a_private_address(settings, brand_a, org_a):
    settings.CXM_ALLOW_PRIVATE_DESTINATIONS = False
    conversation = ConversationFactory(channel=ChannelFactory(brand=brand_a))
    rule_webhook_call(conversation_id=conversation.pk, url="http://127.0.0.1:9/hook", rule_id=None)
    event = AuditEvent.objects.get(action="automation.webhook_called")
    assert event.data["ok"] is False and "private, loopback or reserved" in event.data["error"]


def test_a_rule_cannot_name_another_organisations_objects(org_a, org_b):
    other_admin = membership_create(org_b, Role.ADMIN)
    with pytest.raises(RuleInvalid, match="does not work this organisation"):
        rule_save(
            rule=Rule(
                organization=org_a,
                name="x",
                trigger="message.received",
                actions=[{"type": "assign_agent", "value": other_admin.user_id}],
            ),
            actor=None,
        )


def test_the_surveys_signed_page_takes_a_rating_and_a_comment(client, brand_a, org_a):
    conversation = ConversationFactory(channel=ChannelFactory(brand=brand_a))
    survey = Survey.objects.create(
        organization=org_a,
        brand=brand_a,
        conversation=conversation,
        customer=conversation.customer,
        channel=conversation.channel,
        token="signed-page-token",
    )
    url = urlsplit(survey_link(survey)).path
    assert client.get(url).status_code == 200
    assert client.get(url[:-3] + "xx/").status_code == 404  # a signature that does not match
    assert client.post(url, {"rating": "9"}).status_code == 400
    response = client.post(url, {"rating": "2", "comment": "Slow"})
    assert response.status_code == 200 and "data-answered" in response.content.decode()
    survey.refresh_from_db()
    assert (survey.rating, survey.comment, survey.via) == (2, "Slow", Survey.Via.LINK)
    assert AuditEvent.objects.filter(action="csat.answered", target_type="customers.customer").exists()
    # A later answer replaces the earlier one.
    survey_answer(survey=survey, rating=5, via=Survey.Via.LINK)
    survey.refresh_from_db()
    assert survey.rating == 5


def test_the_survey_page_sets_the_question_the_thanks_optional_and_the_comment_question(
    admin, login, brand_a
):
    from apps.automation.models import SurveySettings

    client = login(admin)
    url = reverse("automation:survey_settings", args=[brand_a.pk])
    page = client.get(url).content.decode()
    assert 'name="comment-0-text"' in page
    response = client.post(
        url,
        {
            "default_language": "en",
            "active": "on",
            "question-0-language": "en",
            "question-0-text": "How did we do?",
            "thanks-0-language": "",
            "thanks-0-text": "",
            "comment-0-language": "en",
            "comment-0-text": "Tell us more?",
        },
    )
    assert response.status_code == 302
    config = SurveySettings.objects.get(brand=brand_a)
    assert config.thanks == {} and config.comment_prompts == {"en": "Tell us more?"}
    assert AuditEvent.objects.filter(action="automation.survey_settings_saved").count() == 1
