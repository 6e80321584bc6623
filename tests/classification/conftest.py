import pytest

from apps.classification import engine
from apps.listening.models import Level, Mention
from tests.factories import BrandFactory, ChannelFactory, ConversationFactory, MessageFactory
from tests.ingestion.conftest import post_signed, webhook_channel  # noqa: F401 (fixtures shared here)


@pytest.fixture
def classify_brand(org_a):
    """A brand whose name is a common word, with a competitor."""
    return BrandFactory(
        organization=org_a,
        name="Nimbus Telecom",
        keywords=["Nimbus"],
        competitors=["Orbita"],
        handles=["@nimbus"],
    )


@pytest.fixture
def inbound(classify_brand):
    """Make an inbound message of the brand (with mentions at the given levels)."""
    channel = ChannelFactory(brand=classify_brand)

    def _make(text, *, language="", levels=(), brand=None, competitor="", **extra):
        brand = brand or classify_brand
        conversation = ConversationFactory(
            channel=channel if brand == classify_brand else ChannelFactory(brand=brand)
        )
        message = MessageFactory(conversation=conversation, text=text, language=language, **extra)
        for level in levels:
            Mention.objects.create(
                organization=message.organization,
                message=message,
                brand=brand,
                level=level,
                competitor=competitor if level == Level.COMPETITOR else "",
            )
        return message

    return _make


@pytest.fixture(autouse=True)
def _fresh_models():
    engine.forget_loaded_models()
    yield
    engine.forget_loaded_models()
