import pytest

from apps.accounts.models import Role
from apps.connectors.kinds import ChannelKind
from tests.connectors.livechat.test_widget_browser import asgi_server, page  # noqa: F401 (browser fixtures)
from tests.factories import (
    BrandFactory,
    ChannelFactory,
    ConversationFactory,
    MessageFactory,
    membership_create,
)


@pytest.fixture
def world(org_a, brand_a, org_b, brand_b):
    """Organisation A with two brands (email on the first, X on the second), an agent who sees both, an
    agent limited to the second brand; organisation B with its own agent."""
    second_brand = BrandFactory(organization=org_a, name="Brand A2")
    return {
        "org": org_a,
        "brand": brand_a,
        "second_brand": second_brand,
        "email": ChannelFactory(brand=brand_a, kind=ChannelKind.EMAIL, name="Support mail"),
        "x": ChannelFactory(brand=second_brand, kind=ChannelKind.X, name="X account"),
        "other_org_channel": ChannelFactory(brand=brand_b, kind=ChannelKind.EMAIL),
        "agent": membership_create(org_a, Role.COMMUNITY_MANAGER, username="searcher"),
        "limited": membership_create(org_a, Role.COMMUNITY_MANAGER, brands=[second_brand]),
        "other_org_agent": membership_create(org_b, Role.COMMUNITY_MANAGER),
    }


def message_on(channel, text: str, language: str = "en", **fields):
    """A message with this text in a conversation of its own on the channel."""
    conversation = ConversationFactory(channel=channel)
    return MessageFactory(conversation=conversation, text=text, language=language, **fields)
