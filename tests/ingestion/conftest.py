import json
import time

import pytest

from apps.connectors.kinds import ChannelKind
from apps.connectors.webhook.connector import sign
from tests.factories import ChannelFactory

SECRET = "whsec-test-secret"


@pytest.fixture
def webhook_channel(brand_a):
    return ChannelFactory(brand=brand_a, kind=ChannelKind.WEBHOOK, credentials={"signing_secret": SECRET})


def message(n: int, **extra) -> dict:
    return {
        "id": f"m-{n}",
        "thread_id": extra.pop("thread_id", f"t-{n}"),
        "text": extra.pop("text", f"hello number {n}"),
        "sent_at": "2026-11-20T10:00:00Z",
        "author": extra.pop("author", {"id": f"u-{n}", "handle": f"@user{n}", "name": f"User {n}"}),
        **extra,
    }


@pytest.fixture
def post_signed(client):
    """POST a body to a channel's webhook URL, signed as the API channel requires (or not, or wrongly)."""

    def _post(channel, body, *, secret=SECRET, timestamp=None, signature=None, headers=None):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        timestamp = str(int(time.time())) if timestamp is None else str(timestamp)
        extra = {}
        if secret is not None:
            extra["HTTP_X_CXM_TIMESTAMP"] = timestamp
            extra["HTTP_X_CXM_SIGNATURE"] = signature or sign(secret, timestamp, raw)
        extra.update(headers or {})
        return client.post(f"/hooks/{channel.webhook_token}/", raw, content_type="application/json", **extra)

    return _post
