"""The webhook intake (apps/ingestion/intake.py) on a real uvicorn server on 127.0.0.1.

Each request is sent both to the ASGI stack with the intake and to Django alone (the stack before the
intake), and the two must answer and store alike; the intake must take the signed deliveries itself and
give each stored payload a task.
"""

import asyncio
import json
import re
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx
import pytest
import uvicorn

from apps.connectors.kinds import ChannelKind
from apps.connectors.telegram.connector import SECRET_HEADER
from apps.connectors.webhook.connector import sign
from apps.ingestion import services
from apps.ingestion.intake import TaskBatcher, WebhookIntake
from apps.ingestion.models import RawPayload
from apps.ingestion.views import MAX_WEBHOOK_BYTES
from cxm.asgi import application, django_asgi_app, webhook_intake
from tests.factories import ChannelFactory
from tests.ingestion.conftest import SECRET, message

# The two servers share the database: rows are compared between them, not against fixed values only.
pytestmark = pytest.mark.django_db(transaction=True)

STORED_FIELDS = ("source", "status", "rejection_reason", "content_type", "headers", "external_id")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def _serving(app, lifespan: str):
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan=lifespan, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)


class Servers:
    def __init__(self, intake_url: str, django_url: str, to_django: list[str], published: list[list[int]]):
        self.intake_url = intake_url
        self.django_url = django_url
        # Requests the intake handed to Django, and the ids of each task publish.
        self.to_django = to_django
        self.published = published

    def both(self, method: str, path: str, **kwargs) -> tuple[httpx.Response, httpx.Response]:
        """The same request to the intake's server, then to Django alone."""
        return (
            httpx.request(method, self.intake_url + path, timeout=30, **kwargs),
            httpx.request(method, self.django_url + path, timeout=30, **kwargs),
        )

    def wait_published(self, payload_ids) -> None:
        deadline = time.monotonic() + 10
        while not set(payload_ids) <= {i for ids in self.published for i in ids}:
            assert time.monotonic() < deadline, "payloads left without a task"
            time.sleep(0.02)


@pytest.fixture
def servers(monkeypatch):
    published: list[list[int]] = []
    monkeypatch.setattr(services, "payloads_enqueue", lambda ids, **options: published.append(list(ids)))
    to_django: list[str] = []

    async def django(scope, receive, send):
        if scope["type"] == "http":
            to_django.append(f"{scope['method']} {scope['path']}")
        await django_asgi_app(scope, receive, send)

    intake = WebhookIntake(django)

    async def app(scope, receive, send):
        await (intake.lifespan if scope["type"] == "lifespan" else intake)(scope, receive, send)

    with _serving(app, "on") as intake_url, _serving(django_asgi_app, "off") as django_url:
        yield Servers(intake_url, django_url, to_django, published)


@pytest.fixture
def webhook_channel(brand_a):
    return ChannelFactory(brand=brand_a, kind=ChannelKind.WEBHOOK, credentials={"signing_secret": SECRET})


def _signed(body: bytes, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "Content-Type": "application/json; charset=utf-8",
        "X-CXM-Timestamp": timestamp,
        "X-CXM-Signature": sign(secret, timestamp, body),
    }


def _stored(payload_id: int) -> dict:
    payload = RawPayload.objects.get(pk=payload_id)
    return {field: getattr(payload, field) for field in STORED_FIELDS} | {"body": bytes(payload.body)}


def _last_stored() -> dict | None:
    payload = RawPayload.objects.order_by("-pk").first()
    return _stored(payload.pk) if payload else None


def test_http_goes_through_the_intake_and_lifespan_reaches_it():
    assert application.application_mapping["http"] is webhook_intake
    assert application.application_mapping["lifespan"] == webhook_intake.lifespan


def test_signed_delivery_is_taken_by_the_intake_and_stored_as_django_would(servers, webhook_channel):
    body = json.dumps(message(1)).encode()
    headers = [
        *_signed(body).items(),
        ("User-Agent", "platform/1.0"),
        ("Authorization", "Bearer y"),
        ("X-Request-ID", "req-42"),
        ("X-Repeated", "a"),
        ("X-Repeated", "b"),
        ("X_CXM_Spoofed", "dropped, as Django drops it"),
    ]
    path = f"/hooks/{webhook_channel.webhook_token}/"
    fast, django = servers.both("POST", path, content=body, headers=headers)

    assert fast.status_code == django.status_code == 200
    assert servers.to_django == []
    assert fast.json() == {"received": fast.json()["received"], "duplicate": False}
    assert django.json() == {"received": django.json()["received"], "duplicate": False}
    assert set(fast.headers) == set(django.headers)
    for name in fast.headers:
        if name not in ("content-length", "date"):
            assert fast.headers[name] == django.headers[name], name
    stored = _stored(fast.json()["received"])
    assert stored == _stored(django.json()["received"])
    assert stored["body"] == body and stored["status"] == RawPayload.Status.RECEIVED
    assert stored["content_type"] == "application/json"
    assert stored["headers"]["x-repeated"] == "a,b" and stored["headers"]["user-agent"] == "platform/1.0"
    assert not {"authorization", "x_cxm_spoofed", "x-cxm-spoofed"} & set(stored["headers"])
    servers.wait_published([fast.json()["received"]])

    # With a cookie (platforms send none), Django's session middleware may answer with one: Django answers.
    cookie = [*headers, ("Cookie", "sessionid=x")]
    fast, django = servers.both("POST", path, content=body, headers=cookie)
    assert servers.to_django == [f"POST {path}"]
    assert set(fast.headers) == set(django.headers) and "set-cookie" in fast.headers
    assert "cookie" not in _stored(fast.json()["received"])["headers"]


def _scenario(name: str, channel) -> tuple[str, str, dict]:
    body = json.dumps(message(1)).encode()
    huge = b'{"id": "big", "text": "' + b"a" * (MAX_WEBHOOK_BYTES + 1024) + b'"}'
    path = f"/hooks/{channel.webhook_token}/"
    return {
        "unknown token": ("POST", "/hooks/not-a-token/", {"content": body, "headers": _signed(body)}),
        "unsigned": ("POST", path, {"content": body, "headers": {"Content-Type": "application/json"}}),
        "wrong secret": ("POST", path, {"content": body, "headers": _signed(body, secret="guess")}),
        "replayed late": ("POST", path, {"content": body, "headers": _signed(body, timestamp=1)}),
        "oversized": ("POST", path, {"content": huge, "headers": _signed(huge)}),
        "host not allowed": (
            "POST",
            path,
            {"content": body, "headers": {**_signed(body), "Host": "evil.test"}},
        ),
        "handshake": ("GET", path + "?hub.mode=subscribe&hub.challenge=1", {}),
        "other method": ("PUT", path, {"content": body, "headers": _signed(body)}),
        "no trailing slash": ("POST", path.rstrip("/"), {"content": body, "headers": _signed(body)}),
    }[name]


def _without_csrf_token(content: bytes) -> bytes:
    return re.sub(rb"\b[A-Za-z0-9]{64}\b", b"<csrf token>", content)


@pytest.mark.parametrize(
    "scenario",
    [
        "unknown token",
        "unsigned",
        "wrong secret",
        "replayed late",
        "oversized",
        "host not allowed",
        "handshake",
        "other method",
        "no trailing slash",
    ],
)
def test_everything_else_is_answered_and_kept_by_django(servers, webhook_channel, scenario):
    method, path, kwargs = _scenario(scenario, webhook_channel)
    before = RawPayload.objects.count()
    fast = httpx.request(method, servers.intake_url + path, timeout=30, **kwargs)
    kept_fast = _last_stored()
    django = httpx.request(method, servers.django_url + path, timeout=30, **kwargs)
    kept_django = _last_stored()

    assert servers.to_django == [f"{method} {path.split('?')[0]}"]
    assert fast.status_code == django.status_code != 200
    # The same answer, but for the CSRF token an error page in the app's layout carries (one per request).
    assert _without_csrf_token(fast.content) == _without_csrf_token(django.content)
    assert RawPayload.objects.count() - before in (0, 2)
    if RawPayload.objects.count() > before:  # a refusal is kept, by both, alike
        assert kept_fast["status"] == RawPayload.Status.REJECTED and kept_fast == kept_django
    assert servers.published == []


def test_a_paused_channel_is_refused_at_once_even_when_known(servers, webhook_channel):
    url = f"{servers.intake_url}/hooks/{webhook_channel.webhook_token}/"
    body = json.dumps(message(1)).encode()
    assert httpx.post(url, content=body, headers=_signed(body)).status_code == 200  # now cached

    webhook_channel.status = "paused"
    webhook_channel.save()
    paused = httpx.post(url, content=body, headers=_signed(body))
    assert paused.status_code == 503 and paused.json() == {"error": "channel paused"}
    assert RawPayload.objects.count() == 1

    webhook_channel.status = "active"
    webhook_channel.save()
    assert httpx.post(url, content=body, headers=_signed(body)).status_code == 200
    assert RawPayload.objects.count() == 2


def test_a_new_secret_or_token_applies_at_once(servers, webhook_channel):
    old_url = f"{servers.intake_url}/hooks/{webhook_channel.webhook_token}/"
    body = json.dumps(message(1)).encode()
    assert httpx.post(old_url, content=body, headers=_signed(body)).status_code == 200  # now cached

    webhook_channel.credentials = {"signing_secret": "rotated"}
    webhook_channel.save()
    old_secret = httpx.post(old_url, content=body, headers=_signed(body))
    assert old_secret.status_code == 403 and "does not match" in old_secret.json()["error"]
    assert RawPayload.objects.order_by("-pk").first().status == RawPayload.Status.REJECTED
    assert httpx.post(old_url, content=body, headers=_signed(body, secret="rotated")).status_code == 200

    webhook_channel.webhook_token = "a-new-token"
    webhook_channel.save()
    assert httpx.post(old_url, content=body, headers=_signed(body, secret="rotated")).status_code == 404
    new_url = f"{servers.intake_url}/hooks/a-new-token/"
    assert httpx.post(new_url, content=body, headers=_signed(body, secret="rotated")).status_code == 200


def test_a_redelivery_is_stored_once_and_acknowledged_as_a_duplicate(servers, brand_a):
    channel = ChannelFactory(
        brand=brand_a,
        kind=ChannelKind.TELEGRAM,
        credentials={"bot_token": "1:x", "webhook_secret": "tg-secret"},
    )
    url = f"{servers.intake_url}/hooks/{channel.webhook_token}/"
    update = json.dumps({"update_id": 7001, "message": {"message_id": 1, "text": "hi"}}).encode()
    headers = {"Content-Type": "application/json", SECRET_HEADER: "tg-secret"}

    first = httpx.post(url, content=update, headers=headers)
    again = httpx.post(url, content=update, headers=headers)

    assert first.json() == {"received": first.json()["received"], "duplicate": False}
    assert again.json() == {"received": first.json()["received"], "duplicate": True}
    assert RawPayload.objects.get().external_id == "update:7001"
    servers.wait_published([first.json()["received"]])
    assert sum(len(ids) for ids in servers.published) == 1


def test_every_payload_stored_under_load_gets_exactly_one_task(servers, webhook_channel):
    url = f"{servers.intake_url}/hooks/{webhook_channel.webhook_token}/"

    def post(n: int) -> int:
        body = json.dumps(message(n)).encode()
        response = httpx.post(url, content=body, headers=_signed(body), timeout=30)
        assert response.status_code == 200
        return response.json()["received"]

    with ThreadPoolExecutor(8) as pool:
        received = list(pool.map(post, range(150)))

    servers.wait_published(received)
    published = [i for ids in servers.published for i in ids]
    assert sorted(published) == sorted(received) == sorted(RawPayload.objects.values_list("pk", flat=True))
    assert len(servers.published) < len(received) / 3  # in batches, not one publish a request
    assert servers.to_django == []


def test_other_paths_go_to_django(servers):
    response = httpx.get(f"{servers.intake_url}/health/?live=1")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert servers.to_django == ["GET /health/"]


@pytest.fixture
def recorded(monkeypatch):
    published: list[list[int]] = []
    monkeypatch.setattr(services, "payloads_enqueue", lambda ids, **options: published.append(list(ids)))
    return published


@pytest.mark.asyncio
async def test_batcher_publishes_a_lone_payload_at_once_and_a_burst_together(recorded):
    batcher = TaskBatcher(asyncio.get_running_loop(), window=0.2)
    batcher.add(1)
    await asyncio.sleep(0.05)
    assert recorded == [[1]]
    for payload_id in (2, 3, 4):
        batcher.add(payload_id)
    await asyncio.sleep(0.05)
    assert recorded == [[1]]  # within the window of the last publish: they wait for its end
    await asyncio.sleep(0.3)
    assert recorded == [[1], [2, 3, 4]]
    batcher.close()


@pytest.mark.asyncio
async def test_batcher_publishes_a_full_task_at_once_and_what_waits_when_closed(recorded):
    batcher = TaskBatcher(asyncio.get_running_loop(), window=60)
    batcher.add(0)
    await asyncio.sleep(0.05)
    for payload_id in range(1, services.ENQUEUE_BATCH + 3):
        batcher.add(payload_id)
    await asyncio.sleep(0.05)
    assert recorded == [[0], list(range(1, services.ENQUEUE_BATCH + 1))]
    batcher.close()
    assert recorded[-1] == [services.ENQUEUE_BATCH + 1, services.ENQUEUE_BATCH + 2]
