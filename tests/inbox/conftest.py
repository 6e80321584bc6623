from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import Role
from apps.conversations.models import Conversation
from tests.connectors.livechat.test_widget_browser import asgi_server, page  # noqa: F401 (fixtures shared here)
from tests.factories import (
    BrandFactory,
    ChannelFactory,
    ConversationFactory,
    MessageFactory,
    TeamFactory,
    membership_create,
)


@pytest.fixture
def desk(org_a, brand_a, org_b, brand_b):
    """Two organisations' inboxes: organisation A with two brands, an agent (in a team), a colleague, a
    brand-limited agent and a marketer; organisation B with one open conversation."""
    other_brand = BrandFactory(organization=org_a, name="Brand A2")
    email, chat = ChannelFactory(brand=brand_a, name="Support mail"), ChannelFactory(brand=other_brand)
    agent = membership_create(org_a, Role.COMMUNITY_MANAGER, username="agent")
    colleague = membership_create(org_a, Role.COMMUNITY_MANAGER, username="colleague")
    team = TeamFactory(organization=org_a, name="Care")
    team.members.add(agent.user)
    return {
        "org": org_a,
        "brand": brand_a,
        "other_brand": other_brand,
        "email": email,
        "chat": chat,
        "agent": agent,
        "colleague": colleague,
        "limited": membership_create(org_a, Role.COMMUNITY_MANAGER, brands=[other_brand]),
        "marketer": membership_create(org_a, Role.MARKETER),
        "team": team,
        "elsewhere": conversation_with(ChannelFactory(brand=brand_b), subject="Org B secret"),
    }


def conversation_with(channel, *, inbound: dict | None = None, **fields) -> Conversation:
    """A conversation on the channel, with one inbound message carrying `inbound` (text, labels...)."""
    conversation = ConversationFactory(channel=channel, **fields)
    labels = dict(inbound or {})
    if labels.get("sentiment") or labels.get("intent"):
        labels.setdefault("classified_at", timezone.now())
    MessageFactory(conversation=conversation, sent_at=conversation.last_message_at, **labels)
    return conversation


def hours_ago(hours: float):
    return timezone.now() - timedelta(hours=hours)
