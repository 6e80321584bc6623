import json

import pytest

from apps.connectors.kinds import ChannelKind
from tests.factories import ChannelFactory
from tests.fakes.telegram import TOKEN, FakeTelegram

SECRET = "tg-secret_0123456789"


@pytest.fixture
def telegram_channel(brand_a):
    return ChannelFactory(
        brand=brand_a,
        kind=ChannelKind.TELEGRAM,
        credentials={"bot_token": TOKEN, "webhook_secret": SECRET},
        # Nothing listens there: a test that lets the connector call Telegram asks for `telegram`.
        settings={"api_base": "http://127.0.0.1:9"},
    )


@pytest.fixture
def telegram(telegram_channel):
    """The fake Bot API, with the channel pointed at it."""
    with FakeTelegram(token=TOKEN) as fake:
        telegram_channel.settings = {**telegram_channel.settings, "api_base": fake.url}
        telegram_channel.save()
        yield fake


@pytest.fixture
def post_update(client):
    """POST an Update to the channel's webhook URL with Telegram's secret-token header (or another one)."""

    def _post(channel, update, *, secret=SECRET):
        extra = {} if secret is None else {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": secret}
        body = update if isinstance(update, bytes) else json.dumps(update).encode()
        return client.post(f"/hooks/{channel.webhook_token}/", body, content_type="application/json", **extra)

    return _post
