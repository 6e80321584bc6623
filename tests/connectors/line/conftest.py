import json

import pytest

from apps.connectors.kinds import ChannelKind
from apps.connectors.line.media import forget_profiles
from apps.ingestion.models import RawPayload
from apps.ingestion.services import payload_process
from tests.factories import ChannelFactory
from tests.fakes.line import SECRET, TOKEN, FakeLine, sign

# Nothing listens there: a test that lets the connector call LINE asks for `line`.
NOWHERE = "http://127.0.0.1:9"


@pytest.fixture(autouse=True)
def _no_cached_profiles():
    forget_profiles()
    yield
    forget_profiles()


@pytest.fixture
def line_channel(brand_a):
    return ChannelFactory(
        brand=brand_a,
        kind=ChannelKind.LINE,
        credentials={"channel_secret": SECRET, "channel_access_token": TOKEN},
        settings={"api_base": NOWHERE, "data_api_base": NOWHERE},
    )


@pytest.fixture
def line(line_channel):
    """The fake Messaging API (both hosts), with the channel pointed at it."""
    with FakeLine(token=TOKEN) as fake:
        line_channel.settings = {**line_channel.settings, "api_base": fake.url, "data_api_base": fake.url}
        line_channel.save()
        yield fake


@pytest.fixture
def post_line(client):
    """POST a webhook body to the channel's URL with LINE's X-Line-Signature (or another, or none)."""

    def _post(channel, payload, *, secret=SECRET, signature=None, unsigned=False):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        extra = {} if unsigned else {"HTTP_X_LINE_SIGNATURE": signature or sign(body, secret)}
        return client.post(f"/hooks/{channel.webhook_token}/", body, content_type="application/json", **extra)

    return _post


@pytest.fixture
def ingest_line(post_line):
    def _ingest(channel, payload) -> RawPayload:
        response = post_line(channel, payload)
        assert response.status_code == 200, response.content
        return payload_process(payload_id=response.json()["received"])

    return _ingest
