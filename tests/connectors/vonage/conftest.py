import json
import urllib.parse

import pytest
from django.conf import settings

from apps.connectors.kinds import ChannelKind
from apps.ingestion.models import RawPayload
from apps.ingestion.services import payload_process
from tests.factories import ChannelFactory
from tests.fakes.vonage import API_KEY, API_SECRET, SIGNATURE_SECRET, VONAGE_NUMBER, FakeVonage, signed

NOWHERE = "http://127.0.0.1:9"


@pytest.fixture
def vonage_channel(brand_a):
    return ChannelFactory(
        brand=brand_a,
        kind=ChannelKind.SMS_VONAGE,
        name="Vonage SMS",
        credentials={"api_key": API_KEY, "api_secret": API_SECRET, "signature_secret": SIGNATURE_SECRET},
        settings={"api_base": NOWHERE, "phone_number": VONAGE_NUMBER, "signature_method": "md5hash"},
    )


@pytest.fixture
def vonage(vonage_channel):
    with FakeVonage() as fake:
        vonage_channel.settings = {**vonage_channel.settings, "api_base": fake.url}
        vonage_channel.save()
        yield fake


def hook_url(channel) -> str:
    return f"{settings.CXM_BASE_URL}/hooks/{channel.webhook_token}/"


@pytest.fixture
def post_vonage(client):
    """POST a webhook as Vonage's POST-JSON does, signed (or already signed / unsigned: `raw=True`)."""

    def _post(channel, params, *, raw=False, as_form=False, **sign):
        body = params if raw else signed(params, **sign)
        if as_form:
            return client.post(
                f"/hooks/{channel.webhook_token}/",
                urllib.parse.urlencode(body),
                content_type="application/x-www-form-urlencoded",
            )
        data = body if isinstance(body, bytes) else json.dumps(body)
        return client.post(f"/hooks/{channel.webhook_token}/", data, content_type="application/json")

    return _post


@pytest.fixture
def ingest_vonage(post_vonage):
    def _ingest(channel, params, **kwargs) -> RawPayload:
        response = post_vonage(channel, params, **kwargs)
        assert response.status_code == 200, response.content
        return payload_process(payload_id=response.json()["received"])

    return _ingest
