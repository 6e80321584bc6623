import json

import pytest

from apps.connectors.kinds import ChannelKind
from apps.connectors.meta.webhooks import sign
from apps.ingestion.models import RawPayload
from apps.ingestion.services import payload_process
from tests.factories import ChannelFactory
from tests.fakes.meta import APP_SECRET, PAGE_TOKEN, PHONE_NUMBER_ID, VERIFY_TOKEN, VERSION, FakeGraph

# Nothing listens there: a test that lets a connector call the Graph API asks for `graph`.
NOWHERE = "http://127.0.0.1:9"


def meta_channel(brand, kind, **credentials):
    return ChannelFactory(
        brand=brand,
        kind=kind,
        credentials={
            "app_secret": APP_SECRET,
            "verify_token": VERIFY_TOKEN,
            "access_token": PAGE_TOKEN,
            **credentials,
        },
        settings={"graph_base": NOWHERE, "graph_version": VERSION},
    )


@pytest.fixture
def messenger_channel(brand_a):
    return meta_channel(brand_a, ChannelKind.MESSENGER)


@pytest.fixture
def instagram_channel(brand_a):
    return meta_channel(brand_a, ChannelKind.INSTAGRAM)


@pytest.fixture
def whatsapp_channel(brand_a):
    return meta_channel(brand_a, ChannelKind.WHATSAPP, phone_number_id=PHONE_NUMBER_ID)


@pytest.fixture
def graph(db):
    """The fake Graph API; `graph.serve(channel)` points a channel at it."""
    with FakeGraph(token=PAGE_TOKEN) as fake:

        def serve(*channels):
            for channel in channels:
                channel.settings = {**channel.settings, "graph_base": fake.url}
                channel.save()

        fake.serve = serve
        yield fake


@pytest.fixture
def post_webhook(client):
    """POST a payload to a channel's webhook URL, signed with the app secret (or not, or wrongly)."""

    def _post(channel, payload, *, app_secret=APP_SECRET, signature=None, unsigned=False):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        extra = {} if unsigned else {"HTTP_X_HUB_SIGNATURE_256": signature or sign(app_secret, body)}
        return client.post(f"/hooks/{channel.webhook_token}/", body, content_type="application/json", **extra)

    return _post


@pytest.fixture
def ingest(post_webhook):
    """Deliver a signed webhook and run the pipeline on it, as a worker would."""

    def _ingest(channel, payload) -> RawPayload:
        response = post_webhook(channel, payload)
        assert response.status_code == 200, response.content
        return payload_process(payload_id=response.json()["received"])

    return _ingest
