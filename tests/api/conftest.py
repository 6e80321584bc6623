"""Two organisations with data, and API clients that call as one membership through its token."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import Role
from apps.alerts.models import Alert, AlertRule
from apps.api.services import api_token_create
from apps.automation.models import AutoReply, Rule, Survey, SurveySettings, Trigger
from apps.connectors.kinds import ChannelKind
from apps.conversations.models import Message, Tag
from apps.listening.models import Level, ListeningQuery, Mention
from apps.replies.models import Macro, MacroRun, SavedReply, Scope
from apps.routing.models import BusinessHours, Holiday, SLAOutcome, SLAPolicy, TeamRouting
from apps.routing.services import agent_profile_get
from apps.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.factories import (
    BrandFactory,
    ChannelFactory,
    ConversationFactory,
    CustomerFactory,
    IdentityFactory,
    MessageFactory,
    TeamFactory,
    membership_create,
)


@pytest.fixture
def api():
    """`api(membership)`: a client whose calls carry a token of that membership."""

    def _client(membership) -> APIClient:
        _, key = api_token_create(membership=membership, name="tests", issuer=membership)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        return client

    return _client


def organisation_data(organization, brand, *, prefix: str) -> dict:
    """One brand's worth of everything the API serves: a channel with secret credentials, a customer with
    an identity, a conversation with an inbound message, a note and a tag, a listening query and a
    mention, alerts, a webhook, automation (a rule, an acknowledgement, a survey), routing (an agent, a
    team's routing, business hours with a holiday, an SLA policy and a deadline met), a saved reply and a
    macro with a run."""
    channel = ChannelFactory(
        brand=brand,
        name=f"{prefix} mail",
        kind=ChannelKind.EMAIL,
        credentials={"password": f"{prefix}-secret-password"},
        settings={"imap_host": "imap.example"},
    )
    customer = CustomerFactory(organization=organization, display_name=f"{prefix} customer")
    identity = IdentityFactory(
        customer=customer, kind=ChannelKind.EMAIL, email=f"{prefix.lower()}@example.com"
    )
    conversation = ConversationFactory(
        channel=channel, customer=customer, subject=f"{prefix} conversation", sentiment="negative"
    )
    inbound = MessageFactory(
        conversation=conversation,
        author_identity=identity,
        text=f"{prefix} my order never arrived",
        sentiment="negative",
        intent="complaint",
        language="en",
        classified_at=timezone.now(),
    )
    note = MessageFactory(conversation=conversation, direction=Message.Direction.NOTE, text=f"{prefix} note")
    tag = Tag.objects.create(organization=organization, name=f"{prefix}-tag")
    conversation.tags.add(tag)
    query = ListeningQuery.objects.create(
        organization=organization, brand=brand, name=f"{prefix} query", level=Level.ABOUT_BRAND, query="order"
    )
    mention = Mention.objects.create(
        organization=organization, message=inbound, brand=brand, level=Level.ABOUT_BRAND, query=query
    )
    rule = AlertRule.objects.create(
        organization=organization, brand=brand, name=f"{prefix} spikes", kind=AlertRule.Kind.VOLUME_ANOMALY
    )
    now = timezone.now()
    alert = Alert.objects.create(
        organization=organization,
        rule=rule,
        brand=brand,
        kind=rule.kind,
        window_start=now - timedelta(hours=1),
        window_end=now,
        observed=40,
        expected=5,
        peak_observed=40,
        peak_at=now,
        last_seen_at=now,
    )
    endpoint = WebhookEndpoint.objects.create(
        organization=organization,
        url=f"https://hooks.example/{prefix}",
        events=["message.created"],
        credentials={"secret": f"whsec_{prefix}-signing-secret"},
    )
    delivery = WebhookDelivery.objects.create(
        organization=organization, endpoint=endpoint, event="message.created", payload={"text": prefix}
    )
    automation_rule = Rule.objects.create(
        organization=organization,
        brand=brand,
        name=f"{prefix} tag complaints",
        trigger=Trigger.MESSAGE_RECEIVED,
        actions=[{"type": "tag", "value": f"{prefix}-tag"}],
    )
    auto_reply = AutoReply.objects.create(
        organization=organization,
        brand=brand,
        kind=AutoReply.Kind.FIRST_CONTACT,
        texts={"en": f"{prefix}: thanks, we got it"},
    )
    survey_settings = SurveySettings.objects.create(
        organization=organization, brand=brand, questions={"en": f"{prefix}: how did we do?"}
    )
    survey = Survey.objects.create(
        organization=organization,
        brand=brand,
        conversation=conversation,
        customer=customer,
        channel=channel,
        token=f"{prefix.lower()}-survey-token",
        rating=2,
    )
    agent = membership_create(
        organization, Role.COMMUNITY_MANAGER, brands=[brand], username=f"{prefix}-agent"
    )
    agent_profile = agent_profile_get(agent)
    team = TeamFactory(organization=organization, name=f"{prefix} team")
    team.members.add(agent.user)
    business_hours = BusinessHours.objects.create(
        organization=organization,
        brand=brand,
        team=team,
        name=f"{prefix} hours",
        weekly={"mon": [["09:00", "17:00"]]},
    )
    holiday = Holiday.objects.create(
        organization=organization, calendar=business_hours, date=now.date(), name=f"{prefix} holiday"
    )
    TeamRouting.objects.create(organization=organization, team=team, business_hours=business_hours)
    sla_policy = SLAPolicy.objects.create(
        organization=organization, brand=brand, name=f"{prefix} SLA", business_hours=business_hours
    )
    sla_outcome = SLAOutcome.objects.create(
        organization=organization,
        conversation=conversation,
        brand=brand,
        channel=channel,
        team=team,
        agent=agent.user,
        target="first_response",
        due_at=now,
        done_at=now - timedelta(minutes=5),
        met=True,
    )
    saved_reply = SavedReply.objects.create(
        organization=organization, brand=brand, scope=Scope.BRAND, title=f"{prefix} reply", body="Thanks"
    )
    macro = Macro.objects.create(
        organization=organization,
        brand=brand,
        scope=Scope.BRAND,
        name=f"{prefix} macro",
        actions=[{"type": "tag", "tag": f"{prefix}-tag"}],
    )
    macro_run = MacroRun.objects.create(
        organization=organization, macro=macro, actor=agent.user, name=macro.name
    )
    return {
        "brand": brand,
        "saved_reply": saved_reply,
        "macro": macro,
        "macro_run": macro_run,
        "automation_rule": automation_rule,
        "auto_reply": auto_reply,
        "survey": survey,
        "survey_settings": survey_settings,
        "agent_profile": agent_profile,
        "team": team,
        "business_hours": business_hours,
        "holiday": holiday,
        "sla_policy": sla_policy,
        "sla_outcome": sla_outcome,
        "channel": channel,
        "rule": rule,
        "alert": alert,
        "endpoint": endpoint,
        "delivery": delivery,
        "customer": customer,
        "identity": identity,
        "conversation": conversation,
        "message": inbound,
        "note": note,
        "tag": tag,
        "query": query,
        "mention": mention,
    }


@pytest.fixture
def world(org_a, brand_a, org_b, brand_b):
    """Organisation A: brands A and A2 with data, an admin, an agent, an agent limited to A2, a marketer.
    Organisation B: one brand with data, an admin and an agent."""
    brand_a2 = BrandFactory(organization=org_a, name="Brand A2")
    return {
        "a": organisation_data(org_a, brand_a, prefix="OrgA"),
        "a2": organisation_data(org_a, brand_a2, prefix="OrgA2"),
        "b": organisation_data(org_b, brand_b, prefix="OrgB"),
        "admin": membership_create(org_a, Role.ADMIN, username="admin-a"),
        "agent": membership_create(org_a, Role.COMMUNITY_MANAGER, username="agent-a"),
        "limited": membership_create(org_a, Role.COMMUNITY_MANAGER, brands=[brand_a2], username="limited-a"),
        "marketer": membership_create(org_a, Role.MARKETER, username="marketer-a"),
        "admin_b": membership_create(org_b, Role.ADMIN, username="admin-b"),
        "agent_b": membership_create(org_b, Role.COMMUNITY_MANAGER, username="agent-b"),
    }


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def hours_ago(hours: float):
    return timezone.now() - timedelta(hours=hours)
