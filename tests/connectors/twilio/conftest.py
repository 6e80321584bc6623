import urllib.parse

import pytest
from django.conf import settings

from apps.connectors.kinds import ChannelKind
from apps.ingestion.models import RawPayload
from apps.ingestion.services import payload_process
from tests.factories import ChannelFactory
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, TWILIO_NUMBER, FakeTwilio, twilio_signature

# Nothing listens there: a test that lets the connector call Twilio asks for `twilio`.
NOWHERE = "http://127.0.0.1:9"


@pytest.fixture
def twilio_channel(brand_a):
    return ChannelFactory(
        brand=brand_a,
        kind=ChannelKind.SMS_TWILIO,
        name="Support SMS",
        credentials={"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN},
        settings={"api_base": NOWHERE, "phone_number": TWILIO_NUMBER},
    )


@pytest.fixture
def twilio(twilio_channel):
    """The fake Twilio API, with the channel pointed at it."""
    with FakeTwilio() as fake:
        twilio_channel.settings = {**twilio_channel.settings, "api_base": fake.url}
        twilio_channel.save()
        yield fake


def hook_url(channel) -> str:
    """The URL Twilio signs: the channel's webhook URL under CXM_BASE_URL."""
    return f"{settings.CXM_BASE_URL}/hooks/{channel.webhook_token}/"


@pytest.fixture
def post_twilio(client):
    """POST form parameters to the channel's webhook, signed as Twilio signs them (or not, or wrongly)."""

    def _post(channel, params, *, token=AUTH_TOKEN, signature=None, unsigned=False):
        extra = {}
        if not unsigned:
            extra["HTTP_X_TWILIO_SIGNATURE"] = signature or twilio_signature(token, hook_url(channel), params)
        return client.post(
            f"/hooks/{channel.webhook_token}/",
            urllib.parse.urlencode(params),
            content_type="application/x-www-form-urlencoded",
            **extra,
        )

    return _post


@pytest.fixture
def ingest_twilio(post_twilio):
    """Deliver a signed webhook and run the pipeline on it, as a worker would."""

    def _ingest(channel, params) -> RawPayload:
        response = post_twilio(channel, params)
        assert response.status_code == 200, response.content
        payload = RawPayload.objects.filter(channel=channel).latest("pk")
        return payload_process(payload_id=payload.pk)

    return _ingest
