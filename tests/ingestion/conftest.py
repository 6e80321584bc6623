import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings

from apps.connectors.kinds import ChannelKind
from apps.connectors.webhook.connector import sign
from cxm.stack.postgres import EmbeddedPostgres
from cxm.stack.redis import EmbeddedRedis
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


@pytest.fixture
def restartable_redis():
    """Kills the Redis the tests were given (its queue lost, as in a crash) and starts it again: the embedded
    one, or an external one through the command in CXM_TEST_REDIS_RESTART (`dev.py test --external`)."""
    if command := os.environ.get("CXM_TEST_REDIS_RESTART"):
        return lambda: subprocess.run(command, shell=True, check=True, capture_output=True)
    if "CXM_EMBEDDED_REDIS_PORT" not in os.environ:
        pytest.skip(
            "REDIS_URL is a server these tests cannot restart: CXM_TEST_REDIS_RESTART (a command) is unset"
        )

    def kill_and_start() -> None:
        port = int(os.environ["CXM_EMBEDDED_REDIS_PORT"])
        client = redis.Redis.from_url(settings.REDIS_URL)
        os.kill(client.info("server")["process_id"], signal.SIGKILL)  # the queue is gone, as in a crash
        time.sleep(1)
        # The replacement serves the rest of the session; the test stack shuts down whatever Redis answers
        # on its port when it stops.
        EmbeddedRedis(
            datadir=Path(os.environ["CXM_EMBEDDED_REDIS_DATADIR"]), port=port, persistent=False
        ).start()

    return kill_and_start


@pytest.fixture
def restartable_postgres():
    """Stops the PostgreSQL the tests were given immediately (no checkpoint, every connection dropped, crash
    recovery from the WAL on start) and starts it again: the embedded one, or an external one through the
    pg_ctl (or pg_ctlcluster) command in CXM_TEST_PG_CTL, to which `stop -m immediate` / `start` is added."""
    if command := os.environ.get("CXM_TEST_PG_CTL"):
        return (
            lambda: subprocess.run(
                f"{command} stop -m immediate", shell=True, check=True, capture_output=True
            ),
            lambda: subprocess.run(f"{command} start", shell=True, check=True, capture_output=True),
        )
    if "CXM_EMBEDDED_PG_DATADIR" not in os.environ:
        pytest.skip(
            "DATABASE_URL is a server these tests cannot restart: set CXM_TEST_PG_CTL to its pg_ctl command"
        )
    postgres = EmbeddedPostgres(
        datadir=Path(os.environ["CXM_EMBEDDED_PG_DATADIR"]), port=int(os.environ["CXM_EMBEDDED_PG_PORT"])
    )
    return lambda: postgres.stop("immediate"), postgres.start
